"""Shared pieces of the distributed-run tests (worker processes and Ray): a 2,000-sample evaluation against the
package's test server with a judge, failures and several aggregations, so "identical summary" means something."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import yaml

from gage_eval.testing.server import TestServerConfig, run_server_in_thread

N_SAMPLES = 2000
REPO = Path(__file__).resolve().parents[1]


def answer(body: dict[str, Any]) -> str:
    """Deterministic replies: the dut's answer is right for 2 questions in 3; the judge rates 1..10 by a hash."""
    text = "".join(m.get("content", "") if isinstance(m.get("content"), str) else ""
                   for m in body.get("messages", []))
    if "Rating" in text:  # the judge prompt asks for "Rating: [[n]]"
        return f"Rating: [[{zlib.crc32(text.encode()) % 10 + 1}]]"
    number = int(text.split("Question ")[1].split(":")[0])
    return f"A{number}" if number % 3 else "wrong"


def server(**options: Any):
    return run_server_in_thread(TestServerConfig(script=answer, verbatim=True, fail_prompts={"[boom]": 400},
                                                 **options))


def write_dataset(path: Path, n: int = N_SAMPLES) -> Path:
    with path.open("w") as fh:
        for i in range(n):
            boom = " [boom]" if i % 97 == 5 else ""  # ~20 samples fail with HTTP 400 (not retried)
            fh.write(json.dumps({"id": f"s{i}", "prompt": f"Question {i}: answer with A{i}{boom}",
                                 "label": f"A{i}"}) + "\n")
    return path


def pipeline(data: Path, url: str, *, concurrency: int = 16, distributed: dict[str, Any] | None = None,
             judge: bool = True) -> dict[str, Any]:
    backend = {"type": "openai_http", "config": {"base_url": url, "model": "test-model"}}
    adapters: list[dict[str, Any]] = [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "b"}]
    steps = [{"step": "inference", "adapter_id": "dut"}]
    metrics: list[Any] = ["exact_match", {"metric_id": "em_total", "implementation": "exact_match",
                                          "aggregation": "sum"}]
    if judge:
        adapters.append({"adapter_id": "judge", "role_type": "judge_model", "backend_id": "b"})
        steps.append({"step": "judge", "adapter_id": "judge"})
        metrics += ["judge_score", {"metric_id": "judge_median", "implementation": "judge_score",
                                    "aggregation": "median"}]
    steps.append({"step": "auto_eval"})
    execution: dict[str, Any] = {"concurrency": concurrency, "max_failure_rate": 0.05}
    if distributed is not None:
        execution["distributed"] = distributed
    return {"kind": "PipelineConfig", "metadata": {"name": "dist"},
            "datasets": [{"dataset_id": "d", "loader": "jsonl", "params": {"path": str(data)}}],
            "backends": [{"backend_id": "b", **backend}], "role_adapters": adapters,
            "custom": {"steps": steps}, "metrics": metrics, "execution": execution}


_TIMING_KEYS = {"wall_s", "samples_per_s", "new_samples", "resumed_samples", "concurrency", "cpu_s"}


def comparable(summary: dict[str, Any]) -> dict[str, Any]:
    """Everything in summary.json that is a result: metrics, counts, failures, status (not timings/resources)."""
    run = {k: v for k, v in summary["run"].items()
           if k in ("status", "error", "failure_rate", "max_failure_rate", "results_digest")}
    tasks = [{k: v for k, v in t.items() if k not in _TIMING_KEYS} for t in summary["tasks"]]
    return {"run": run, "tasks": tasks, "metrics": summary["metrics"], "sample_count": summary["sample_count"],
            "failures": summary["failures"], "summary_generators": summary["summary_generators"]}


def records(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "samples.jsonl").read_bytes().splitlines()]


def events(run_dir: Path, name: str | None = None) -> list[dict[str, Any]]:
    path = run_dir / "events.jsonl"
    if not path.exists():
        return []
    out = [json.loads(line) for line in path.read_bytes().splitlines() if line.endswith(b"}")]
    return [e for e in out if name is None or e["event"] == name]


def write_config(path: Path, cfg: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(cfg))
    return path


def start_cli(config: Path, out: Path, run_id: str, *extra: str, pythonpath: Path | None = None) -> subprocess.Popen:
    """`gage run` in its own process (so the tests can SIGKILL it), output in out/<run_id>.cli.log."""
    paths = [str(pythonpath)] if pythonpath else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths + [str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    log = (out / f"{run_id}.cli.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "gage_eval", "run", str(config), "--output-dir", str(out),
                             "--run-id", run_id, "--progress", "off", *extra],
                            stdout=log, stderr=subprocess.STDOUT, env=env)


def wait_for(predicate, timeout_s: float = 120.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def line_count(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by its parent) is gone for our purposes
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def check_records(run_dir: Path, n: int = N_SAMPLES) -> None:
    """Every sample exactly once in samples.jsonl."""
    recs = records(run_dir)
    seqs = [r["seq"] for r in recs]
    assert len(recs) == n, f"{len(recs)} records for {n} samples"
    assert sorted(seqs) == list(range(n))


def kill_a_worker_mid_run(env: dict[str, Any], tmp: Path, *flags: str) -> tuple[Path, int]:
    """`gage run ... flags` with two workers; SIGKILL one once 300 samples are on disk; the run must still
    finish with every sample once and the single-node summary. Returns (run dir, the killed pid)."""
    srv = env["srv"]
    before = dict(srv.prompt_counts)
    cfg = write_config(tmp / "cfg.yaml", pipeline(env["data"], srv.base_url, concurrency=8))
    proc = start_cli(cfg, tmp, "kw", "--workers", "2", *flags)
    run_dir = tmp / "kw"
    try:
        started = wait_for(lambda: len(events(run_dir, "worker_started")) == 2 and events(run_dir, "worker_started"),
                           what="both workers")
        wait_for(lambda: line_count(run_dir / "samples.jsonl") >= 300, what="300 samples")
        victim = started[1]["payload"]["pid"]
        kill(victim)
        assert proc.wait(240) == 0, (tmp / "kw.cli.log").read_text()[-3000:]
    finally:
        proc.kill()
    lost = events(run_dir, "worker_lost")
    assert [e["payload"]["pid"] for e in lost] == [victim]
    assert sum(e["payload"]["samples"] for e in events(run_dir, "shard_requeued")) > 0  # it held samples
    check_records(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert comparable(summary) == comparable(env["baseline"].summary)
    # Some prompts reached the server twice (redone after the kill), yet each sample is on disk once.
    assert [p for p, n in srv.prompt_counts.items() if n - before.get(p, 0) >= 2 and "Rating" not in p]
    return run_dir, victim


def kill_the_driver_and_resume(env: dict[str, Any], tmp: Path, *flags: str) -> Path:
    """SIGKILL the driver after 500 samples; its workers must go away; the same command resumes to the
    single-node summary."""
    cfg = write_config(tmp / "cfg.yaml", pipeline(env["data"], env["srv"].base_url, concurrency=8))
    run_dir = tmp / "kd"
    proc = start_cli(cfg, tmp, "kd", "--workers", "2", *flags)
    try:
        wait_for(lambda: line_count(run_dir / "samples.jsonl") >= 500, what="500 samples")
        workers = [e["payload"]["pid"] for e in events(run_dir, "worker_started")]
        kill(proc.pid)
        proc.wait(10)
    finally:
        proc.kill()
    done_before = line_count(run_dir / "samples.jsonl")
    assert len(workers) == 2 and done_before < N_SAMPLES
    wait_for(lambda: not any(alive(p) for p in workers), timeout_s=60, what="the dead driver's workers to end")
    rerun = start_cli(cfg, tmp, "kd", "--workers", "2", *flags)
    assert rerun.wait(240) == 0, (tmp / "kd.cli.log").read_text()[-3000:]
    check_records(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert comparable(summary) == comparable(env["baseline"].summary)
    assert summary["tasks"][0]["resumed_samples"] >= done_before - 30  # failed ones are retried on resume
    return run_dir


def module_hiding_hook(folder: Path, module: str) -> Path:
    """A folder whose sitecustomize makes `module` unimportable (as in a Python without that package);
    put it on PYTHONPATH."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name == {module!r} or name.startswith({module + '.'!r}):\n"
        "            raise ModuleNotFoundError(f\"No module named '{name}'\", name=name)\n"
        "sys.meta_path.insert(0, _Hide())\n")
    return folder
