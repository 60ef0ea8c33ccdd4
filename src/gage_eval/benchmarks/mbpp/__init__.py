"""MBPP (Austin et al., 2021): 500 test problems of basic Python, scored by executing the completion.

Importing the package registers the ``mbpp`` preprocessor; scoring uses ``code_pass_at_k`` from the
humaneval package (the ``mbpp`` program format). The BuiltinTemplate is ``v1.yaml`` beside this file.
"""
from gage_eval.benchmarks.humaneval import metric as _metric  # noqa: F401 - registers code_pass_at_k
from gage_eval.benchmarks.mbpp import preprocess

__all__ = ["preprocess"]
