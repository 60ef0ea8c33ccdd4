"""ARC-Easy and ARC-Challenge (allenai/ai2_arc): one preprocessor, ``arc``, serves both templates."""
from gage_eval.benchmarks.arc_easy import preprocess as preprocess
