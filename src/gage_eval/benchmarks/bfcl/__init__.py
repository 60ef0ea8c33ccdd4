"""BFCL v4 (Berkeley Function Calling Leaderboard) from the `bfcl-eval` package's data, scored by our
reimplementation of its checkers: the single-turn AST checker and relevance rules, and multi-turn execution on its
stateful API classes with its state and response checks. One template per category lives beside this package
(`bfcl_simple/`, `bfcl_multiple/`, ..., `bfcl_multi_turn_base/`); README.md here documents them all.
"""
from gage_eval.benchmarks.bfcl import agent, data, metric, preprocess, summary

__all__ = ["agent", "data", "metric", "preprocess", "summary"]
