"""ChartQA (Masry et al., 2022): questions about charts, test split (1250 human-written + 1250 augmented
questions), scored by relaxed accuracy (5% tolerance on numbers) as lmms-eval 0.7.3's chartqa.

Importing the package registers the ``chartqa`` preprocessor and the ``chartqa_relaxed`` metric; the template
is ``v1.yaml`` beside this file; README.md names the reference and the differences."""
from gage_eval.benchmarks.chartqa import metric, preprocess

__all__ = ["metric", "preprocess"]
