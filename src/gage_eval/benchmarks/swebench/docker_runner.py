"""`judge_extend` implementation `swebench_docker`: the `swebench` package's own harness per instance —
its test spec, the instance image, the eval script run in a container, its log parser and its report.

Needs a reachable Docker daemon: without one the run stops before any sample with that reason (and the
`swebench_local` runner as the alternative). Records must carry what swebench 5 builds a test spec from
(image, eval_script, log_parser, eval_type, version); the harness's logs are copied to
`<run>/logs/swebench/<instance_id>/`.
"""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from gage_eval.benchmarks.swebench.local_runner import LogDir, open_judgement, verdict
from gage_eval.errors import ConfigError
from gage_eval.registry import registry

_SPEC_FIELDS = ("image", "eval_script", "log_parser", "eval_type", "version")


def docker_client() -> Any:
    try:
        import docker
    except ImportError:
        raise ConfigError("judge swebench_docker needs the docker SDK", path="params.implementation",
                          fix="pip install 'gage-eval[swebench]'") from None
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the daemon is the same advice
        raise ConfigError(f"judge swebench_docker: no Docker daemon is reachable ({type(exc).__name__}: "
                          f"{str(exc)[:200]})", path="params.implementation",
                          fix="start Docker (or set DOCKER_HOST), or judge with implementation: swebench_local "
                              "for repositories whose tests run in a plain virtual environment") from None
    return client


@registry.asset("judge_impls", "swebench_docker", desc="SWE-bench: the official harness (swebench package) in the "
                "instance's Docker image, network off", tags=("swebench",))
class SWEBenchDockerJudge:
    def __init__(self, timeout_s: int = 1800, max_parallel: int = 4, run_id: str = "gage",
                 model_name: str = "gage", run_dir: Any = None) -> None:
        self.client = docker_client()
        self.timeout_s, self.run_id, self.model_name, self.run_dir = timeout_s, run_id, model_name, run_dir
        self._slots = asyncio.Semaphore(max_parallel)

    async def ainvoke(self, payload: dict[str, Any]) -> dict[str, Any]:
        inst, log, patch = open_judgement(payload, self.run_dir)
        if not patch.strip():
            return verdict("empty_patch", patch, log)
        missing = [f for f in _SPEC_FIELDS if not inst.get(f)]
        if missing:
            return verdict("build_error", patch, log, error=f"the record lacks {', '.join(missing)}, which the "
                           "swebench harness builds its test spec from (use the dataset release made for swebench 5)")
        async with self._slots:
            return await asyncio.to_thread(self._judge, inst, patch, log)

    def _judge(self, inst: dict[str, Any], patch: str, log: LogDir) -> dict[str, Any]:
        from swebench.harness.constants import RUN_EVALUATION_LOG_DIR
        from swebench.harness.run_evaluation import run_instance
        from swebench.harness.utils import make_test_spec

        spec = make_test_spec(inst)
        pred = {"instance_id": inst["instance_id"], "model_name_or_path": self.model_name, "model_patch": patch}
        try:
            result = run_instance(spec, pred, self.client, self.run_id, timeout=self.timeout_s) or {}
        except Exception as exc:  # noqa: BLE001 - one instance's harness failure is that instance's verdict
            return verdict("build_error", patch, log, error=f"{type(exc).__name__}: {str(exc)[:500]}")
        harness_logs = Path(RUN_EVALUATION_LOG_DIR) / self.run_id / self.model_name / inst["instance_id"]
        if harness_logs.is_dir():
            shutil.copytree(harness_logs, log.path / "harness", dirs_exist_ok=True)
        report = (result.get("report") or {}).get(inst["instance_id"], {})
        resolved = bool(report.get("resolved"))
        reason = ("resolved" if resolved else "patch_apply_failed" if not report.get("patch_successfully_applied")
                  else "tests_failed")
        return verdict(reason, patch, log, resolved=resolved, tests=report.get("tests_status"))
