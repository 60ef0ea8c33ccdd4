"""HellaSwag (Rowan/hellaswag): sentence completion scored by log-likelihood, as lm-eval's hellaswag task."""
from gage_eval.benchmarks.hellaswag import preprocess as preprocess
