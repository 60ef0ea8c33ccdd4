"""DocVQA (Mathew et al., 2021): questions about scanned document pages, validation split, scored by ANLS
(threshold 0.5) as the official evaluator and lmms-eval 0.7.3 compute it.

Importing the package registers the ``docvqa`` preprocessor and the ``anls`` metric; the template is
``v1.yaml`` beside this file; README.md names the reference and the differences."""
from gage_eval.benchmarks.docvqa import metric, preprocess

__all__ = ["metric", "preprocess"]
