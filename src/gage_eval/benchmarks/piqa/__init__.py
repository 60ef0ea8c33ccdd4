"""PIQA (baber/piqa, as lm-eval 0.4.13 loads it): physical commonsense, two solutions per goal."""
from gage_eval.benchmarks.piqa import preprocess as preprocess
