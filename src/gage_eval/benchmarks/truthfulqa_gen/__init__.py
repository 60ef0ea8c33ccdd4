"""TruthfulQA generation: free-form answers judged for truthfulness and informativeness by a judge model."""
from gage_eval.benchmarks.truthfulqa_gen import preprocess  # noqa: F401 - registration
