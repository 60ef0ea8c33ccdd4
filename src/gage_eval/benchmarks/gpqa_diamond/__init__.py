"""GPQA diamond (Idavidrein/gpqa, 198 questions), 0-shot as lm-evaluation-harness gpqa_diamond_zeroshot."""
from gage_eval.benchmarks.gpqa_diamond import preprocess

__all__ = ["preprocess"]
