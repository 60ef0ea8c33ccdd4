"""SWE-bench Lite: 300 GitHub issues from 11 Python repositories: the template only; the code is gage_eval.benchmarks.swebench."""
from gage_eval.benchmarks import swebench  # noqa: F401  (registers its assets)
