"""SWE-bench (Jimenez et al., 2024): resolve real GitHub issues; Lite, Verified and Pro share this code.

Importing registers the `swebench` preprocessor, the `swebench_repo` context provider, the `swebench_local`
and `swebench_docker` judges, the `swebench_resolved` metric and the `swebench_report` summary section. The
templates are `benchmarks/swebench_lite`, `swebench_verified` and `swebench_pro`. See README.md.
"""
from gage_eval.benchmarks.swebench import context, docker_runner, local_runner, metric, preprocess

__all__ = ["context", "docker_runner", "local_runner", "metric", "preprocess"]
