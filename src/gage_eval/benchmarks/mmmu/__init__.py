"""MMMU (Yue et al., 2024): college-level multimodal questions in 30 subjects and 6 disciplines, validation
split, multiple choice and open answers, scored with MMMU's official parsing as lmms-eval runs it.

Importing the package registers the ``mmmu`` preprocessor and the ``mmmu_accuracy`` metric; the template is
``v1.yaml`` beside this file; README.md names the reference and the differences."""
from gage_eval.benchmarks.mmmu import metric, preprocess

__all__ = ["metric", "preprocess"]
