"""MathVista (Lu et al., 2024): mathematical reasoning over images, testmini split (1000 problems), scored with
MathVista's official normalization and comparison; answers extracted by rules (``mathvista``) or by the official
LLM extraction prompt through a judge model (``mathvista_judge``); accuracy per task and skill.

Importing the package registers the ``mathvista`` preprocessor, the ``mathvista_accuracy`` metric and the
``mathvista_extraction_judge`` role; README.md names the reference and the differences."""
from gage_eval.benchmarks.mathvista import extractor, metric, preprocess

__all__ = ["extractor", "metric", "preprocess"]
