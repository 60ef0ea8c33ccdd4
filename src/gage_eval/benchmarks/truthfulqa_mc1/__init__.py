"""TruthfulQA multiple choice (truthfulqa/truthful_qa, subset multiple_choice): MC1 and MC2 preprocessors."""
from gage_eval.benchmarks.truthfulqa_mc1 import preprocess as preprocess
