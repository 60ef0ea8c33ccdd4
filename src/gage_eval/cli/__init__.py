"""Command line: `gage <verb>`; one module per verb group."""
