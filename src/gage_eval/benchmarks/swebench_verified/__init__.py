"""SWE-bench Verified: 500 human-validated GitHub issues: the template only; the code is gage_eval.benchmarks.swebench."""
from gage_eval.benchmarks import swebench  # noqa: F401  (registers its assets)
