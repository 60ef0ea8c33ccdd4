"""`gage view`: a local web app over a directory of runs."""
