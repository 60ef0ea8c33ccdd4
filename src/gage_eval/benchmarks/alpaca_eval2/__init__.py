"""AlpacaEval 2: instructions judged pairwise against a reference model's outputs; win rate and the
length-controlled win rate (alpaca_eval's GLM)."""
from gage_eval.benchmarks.alpaca_eval2 import preprocess, summary  # noqa: F401 - registration
