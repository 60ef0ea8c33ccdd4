"""`python -m gage_eval.support inspect|design|implement|status ...` = `gage support ...`."""
import sys

from gage_eval.cli.app import main

main(["support", *sys.argv[1:]])
