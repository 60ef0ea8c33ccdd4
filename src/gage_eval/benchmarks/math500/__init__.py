"""MATH-500 and MATH (Hendrycks et al., 2021): competition problems, final answer in ``\\boxed{}``, scored
with HuggingFace math-verify.

This package holds the code both benchmarks share: preprocessors ``math500`` (HuggingFaceH4/MATH-500) and
``math`` (EleutherAI/hendrycks_math, full 5000-problem test set), the ``math_verify_accuracy`` metric and
its worker processes. The templates are ``v1.yaml`` here and in the sibling ``math`` folder. math_verify is
imported only inside the worker processes, never at import time.
"""
from gage_eval.benchmarks.math500 import metric, preprocess

__all__ = ["metric", "preprocess"]
