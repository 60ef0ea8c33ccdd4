"""GAIA (Mialon et al., 2023): general-assistant questions at levels 1-3, from a local copy of the hub dataset,
scored by the leaderboard's quasi-exact match; accuracy per level through metric_breakdown (metadata.level)."""
from gage_eval.benchmarks.gaia import data, metric, preprocess

__all__ = ["data", "metric", "preprocess"]
