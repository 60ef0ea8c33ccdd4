"""GSM8K (Cobbe et al., 2021): grade-school math word problems, scored as lm-evaluation-harness 0.4.13's
``gsm8k`` task (5-shot, strict-match and flexible-extract reported separately).

Importing the package registers the ``gsm8k`` preprocessor and the general ``regex_extract_match`` metric;
the BuiltinTemplate is ``v1.yaml`` beside this file. See README.md for the reference and the differences.
"""
from gage_eval.benchmarks.gsm8k import extract_match, preprocess

__all__ = ["extract_match", "preprocess"]
