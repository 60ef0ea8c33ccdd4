"""C-Eval (ceval/ceval-exam, val split); the code is shared with MMLU and CMMLU (gage_eval.benchmarks.mmlu._mc_common)."""
from gage_eval.benchmarks.ceval import preprocess

__all__ = ["preprocess"]
