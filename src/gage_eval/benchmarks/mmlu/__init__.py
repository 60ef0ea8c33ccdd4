"""MMLU (cais/mmlu) as lm-evaluation-harness 0.4.13 scores it; also home of the code CMMLU and C-Eval share.

Importing the package registers the ``mmlu`` preprocessor and the ``hf_hub_subsets`` loader (one hub config
per subject, read in order). The BuiltinTemplate is ``v1.yaml`` beside this file; see README.md.
"""
from gage_eval.benchmarks.mmlu import preprocess, subsets_loader

__all__ = ["preprocess", "subsets_loader"]
