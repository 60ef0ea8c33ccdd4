"""IFEval (Zhou et al., 2023): verifiable instruction following, scored as lm-evaluation-harness scores it.

Importing the package registers the ``ifeval`` dataset preprocessor and the ``ifeval`` metric; the
BuiltinTemplate is ``v1.yaml`` beside this file. See README.md for the reference and the differences.
"""
from gage_eval.benchmarks.ifeval import metric, preprocess

__all__ = ["metric", "preprocess"]
