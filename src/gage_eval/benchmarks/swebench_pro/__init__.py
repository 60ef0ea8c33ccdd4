"""SWE-bench Pro: long-horizon issues from public repositories: the template only; the code is gage_eval.benchmarks.swebench."""
from gage_eval.benchmarks import swebench  # noqa: F401  (registers its assets)
