"""LiveBench (White et al., 2024): contamination-limited questions in six categories, scored against ground
truth per task, as LiveBench's own code scores them.

Importing the package registers the ``livebench`` loader (one hub dataset per category, local copies,
release filtering), preprocessor, metric and summary generator (the leaderboard's per-task, per-category
and overall scores on 0-100). The BuiltinTemplate is ``v1.yaml`` beside this file; see README.md.
"""
from gage_eval.benchmarks.livebench import loader, metric, preprocess, summary

__all__ = ["loader", "metric", "preprocess", "summary"]
