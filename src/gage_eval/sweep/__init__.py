"""`gage sweep`: evaluate every checkpoint of a training run (see driver.py)."""
