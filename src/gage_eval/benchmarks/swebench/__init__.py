"""SWE-bench (Jimenez et al., 2024): resolve real GitHub issues; Lite, Verified and Pro share this code.

Importing registers the `swebench` preprocessor, the `swebench_repo` context provider, the `swebench_local`
and `swebench_docker` judges, the agent tools `swe_bash`, `swe_view`, `swe_edit` and `swe_create`, the
`swebench_resolved` metric and the `swebench_report` summary section. The templates are `benchmarks/swebench_lite`, `swebench_verified`, `swebench_pro` and `swebench_lite_agent`. See README.md.
"""
from gage_eval.benchmarks.swebench import agent_tools, context, docker_runner, local_runner, metric, preprocess

__all__ = ["agent_tools", "context", "docker_runner", "local_runner", "metric", "preprocess"]
