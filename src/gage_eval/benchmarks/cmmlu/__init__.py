"""CMMLU (haonan-li/cmmlu); the code is shared with MMLU and C-Eval (gage_eval.benchmarks.mmlu._mc_common)."""
from gage_eval.benchmarks.cmmlu import preprocess

__all__ = ["preprocess"]
