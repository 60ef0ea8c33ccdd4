"""`judge_extend` implementation `swebench_local`: judge a patch by running the instance's tests in a plain
virtual environment on this machine — for repositories whose tests need no image (and for tests).

Per instance, in a private copy of the base-commit snapshot: `git apply --check` then apply the model patch,
apply the test patch, run the tests the test patch touches (`python -m pytest -rA <files>`, or the record's
`test_cmd`) with a timeout, parse the log and grade FAIL_TO_PASS / PASS_TO_PASS as the official harness does
(`grading`). Logs: `<run>/logs/swebench/<instance_id>/` patch.diff, test_output.txt, report.json.
The tests run with this machine's network and files: use `swebench_docker` for untrusted code.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gage_eval.benchmarks.swebench.grading import grade, parse_pytest_log
from gage_eval.benchmarks.swebench.patch import extract_patch, git_apply, patched_files
from gage_eval.benchmarks.swebench.repo import RepoCache, RepoError
from gage_eval.registry import registry


def model_patch(payload: dict[str, Any]) -> str:
    """The patch to judge: an agent's final diff (`model_output.patch`), a prediction made elsewhere
    (`metadata.model_patch`), else the one in the model's answer."""
    output = payload.get("model_output") or {}
    if output.get("patch"):
        return extract_patch(output["patch"]) or output["patch"]
    sample = payload["sample"]
    if sample.metadata.get("model_patch") is not None:
        return extract_patch(sample.metadata["model_patch"]) or sample.metadata["model_patch"]
    return extract_patch(output.get("answer"))


def test_files(test_patch: str) -> list[str]:
    return patched_files(test_patch) if test_patch.strip() else []


class LogDir:
    def __init__(self, run_dir: Any, instance_id: str) -> None:
        base = Path(run_dir) / "logs" / "swebench" if run_dir else Path(tempfile.gettempdir()) / "gage_swebench_logs"
        self.path = base / instance_id.replace("/", "__")
        self.path.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, text: str) -> None:
        (self.path / name).write_text(text, encoding="utf-8")


def open_judgement(payload: dict[str, Any], run_dir: Any) -> tuple[dict[str, Any], LogDir, str]:
    """The instance, its log folder and the patch to judge (already written to patch.diff)."""
    inst = payload["sample"].metadata["instance"]
    log = LogDir(run_dir, inst["instance_id"])
    patch = model_patch(payload)
    log.write("patch.diff", patch)
    return inst, log, patch


def verdict(reason: str, patch: str, log: LogDir, **extra: Any) -> dict[str, Any]:
    out = {"resolved": bool(extra.pop("resolved", False)), "reason": reason, "model_patch": patch,
           "log_dir": str(log.path), **extra}
    log.write("report.json", json.dumps(out, indent=2))
    return out


@registry.asset("judge_impls", "swebench_local", desc="SWE-bench: apply the patch and run the instance's tests in "
                "a local virtual environment; graded as the official harness", tags=("swebench",))
class SWEBenchLocalJudge:
    def __init__(self, timeout_s: float = 900.0, python: str | None = None, repo_mirror: str | None = None,
                 repo_url_template: str | None = None, cache_dir: str | None = None, max_parallel: int = 2,
                 run_dir: Any = None) -> None:
        self.timeout_s, self.python, self.run_dir = timeout_s, python or sys.executable, run_dir
        self.repos = RepoCache.from_params(cache_dir, run_dir, repo_mirror, repo_url_template)
        self._slots = asyncio.Semaphore(max_parallel)  # test suites are CPU-heavy: fewer at once than samples

    async def ainvoke(self, payload: dict[str, Any]) -> dict[str, Any]:
        inst, log, patch = open_judgement(payload, self.run_dir)
        if not patch.strip():
            return verdict("empty_patch", patch, log)
        try:
            made = payload["sample"].metadata.get("snapshot")  # the context provider's, when there was one
            snapshot = Path(made) if made and Path(made, ".gage_complete").exists() else \
                await self.repos.snapshot(inst["repo"], inst["base_commit"])
        except RepoError as exc:
            return verdict("repo_not_found", patch, log, error=exc.message)
        async with self._slots:
            return await asyncio.to_thread(self._judge, inst, patch, snapshot, log)

    def _judge(self, inst: dict[str, Any], patch: str, snapshot: Path, log: LogDir) -> dict[str, Any]:
        work = Path(tempfile.mkdtemp(prefix="gage_swebench_"))
        try:
            repo = self.repos.private_copy(snapshot, work / "repo")
            check = git_apply(repo, patch, check=True)
            if not check.ok:
                log.write("test_output.txt", check.output)
                return verdict("patch_apply_failed", patch, log, error=check.output[-2000:])
            git_apply(repo, patch)
            test_patch = inst.get("test_patch") or ""
            if test_patch.strip():
                applied = git_apply(repo, test_patch)
                if not applied.ok:
                    log.write("test_output.txt", applied.output)
                    return verdict("build_error", patch, log, error="the test patch did not apply after the model "
                                   "patch: " + applied.output[-1500:])
            output, timed_out, seconds = self._run_tests(repo, inst, test_files(test_patch))
            log.write("test_output.txt", output)
            if timed_out:
                return verdict("timeout", patch, log, error=f"tests did not finish within {self.timeout_s:g} s")
            g = grade(parse_pytest_log(output), inst["FAIL_TO_PASS"], inst["PASS_TO_PASS"])
            return verdict("resolved" if g.resolved else "tests_failed", patch, log, resolved=g.resolved,
                           status=g.status, tests=g.as_dict(), test_seconds=round(seconds, 2))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _run_tests(self, repo: Path, inst: dict[str, Any], files: list[str]) -> tuple[str, bool, float]:
        if inst.get("test_cmd"):
            cmd = [part.replace("{python}", self.python) for part in str(inst["test_cmd"]).split()]
        else:
            cmd = [self.python, "-m", "pytest", "-rA", "-p", "no:cacheprovider", *files]
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(repo)}
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True, text=True, errors="replace")
        try:
            out, _ = proc.communicate(timeout=self.timeout_s)
            return out, False, time.monotonic() - started
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole test process group, not only pytest
            out, _ = proc.communicate()
            return out or "", True, time.monotonic() - started
