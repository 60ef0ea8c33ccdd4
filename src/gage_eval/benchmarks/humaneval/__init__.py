"""HumanEval (Chen et al., 2021): 164 hand-written Python problems, scored by executing the completion.

Importing the package registers the ``humaneval`` preprocessor and the ``code_pass_at_k`` metric (shared
with MBPP); the BuiltinTemplate is ``v1.yaml`` beside this file. Programs run in `gage_eval.sandbox`.
See README.md for the reference implementations and the documented differences.
"""
from gage_eval.benchmarks.humaneval import metric, postprocess, preprocess

__all__ = ["metric", "postprocess", "preprocess"]
