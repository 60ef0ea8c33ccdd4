"""SWE-bench Lite solved by an agent (dut_agent with the swe_* tools): the template only; the code is gage_eval.benchmarks.swebench."""
from gage_eval.benchmarks import swebench  # noqa: F401  (registers its assets)
