"""AppWorld (Trivedi et al., 2024): tasks in a world of apps, through the `appworld` package's environment server;
its API docs as tools and its own evaluate as the judge (Task / Scenario Goal Completion)."""
from gage_eval.benchmarks.appworld import agent, data, preprocess

__all__ = ["agent", "data", "preprocess"]
