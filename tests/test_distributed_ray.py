"""Distributed runs on a Ray cluster started by the test (ray.init, 4 CPUs on this machine): the same summary as a
single-node run, a killed actor process or a SIGKILLed driver loses and duplicates nothing, scoring as Ray
tasks, and clear errors for an unreachable address and for workers without (the same) gage-eval."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import gage_eval
from gage_eval.errors import GageError
from gage_eval.metrics.base import MetricContext, SimpleMetric
from tests import distributed_support as ds

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'gage-eval[ray]')")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A local Ray cluster owned by this test process; other processes join it by its GCS address."""
    tmp = tmp_path_factory.mktemp("ray")
    started = not ray.is_initialized()
    sigterm = signal.getsignal(signal.SIGTERM)
    if started:
        ray.init(address="local", num_cpus=4, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        signal.signal(signal.SIGTERM, sigterm)  # ray.init's exit-on-SIGTERM handler must not outlive this module
    data = ds.write_dataset(tmp / "data.jsonl")
    with ds.server(latency_ms=2) as srv:
        base = gage_eval.run(ds.pipeline(data, srv.base_url), output_dir=tmp / "runs", run_id="single",
                             progress="off")
        yield {"tmp": tmp, "data": data, "srv": srv, "baseline": base,
               "address": ray.get_runtime_context().gcs_address}
    if started:
        ray.shutdown()


def test_ray_workers_give_the_single_node_summary(cluster):
    cfg = ds.pipeline(cluster["data"], cluster["srv"].base_url, distributed={"shard_size": 16})
    result = gage_eval.run(cfg, output_dir=cluster["tmp"] / "runs", run_id="ray2", progress="off",
                           ray_address=cluster["address"], workers=2)
    assert ds.comparable(result.summary) == ds.comparable(cluster["baseline"].summary)
    ds.check_records(result.run_dir)
    started = ds.events(result.run_dir, "worker_started")
    assert len(started) == 2 and all(e["payload"]["pid"] != os.getpid() for e in started)
    assert ds.events(result.run_dir, "workers_starting")[0]["payload"]["transport"] == "ray"


def test_killed_ray_worker_loses_and_duplicates_nothing(cluster, tmp_path):
    """SIGKILL one actor's process mid-run: Ray reports the actor dead, its samples are redone elsewhere."""
    run_dir, _ = ds.kill_a_worker_mid_run(cluster, tmp_path, "--ray-address", cluster["address"])
    assert len(ds.events(run_dir, "worker_replaced")) == 1


def test_sigkilled_ray_driver_resumes_to_the_same_summary(cluster, tmp_path):
    """Ray ends the actors of a dead driver (they belong to its job); the rerun resumes."""
    ds.kill_the_driver_and_resume(cluster, tmp_path, "--ray-address", cluster["address"])


def test_sigterm_interrupts_a_ray_run(cluster, tmp_path):
    """SIGTERM stops a Ray run like any run (ray.init's own exit-on-SIGTERM handler is not left in place)."""
    cfg = ds.write_config(tmp_path / "cfg.yaml", ds.pipeline(cluster["data"], cluster["srv"].base_url, concurrency=4))
    run_dir = tmp_path / "st"
    proc = ds.start_cli(cfg, tmp_path, "st", "--workers", "2", "--ray-address", cluster["address"])
    try:
        ds.wait_for(lambda: ds.line_count(run_dir / "samples.jsonl") >= 200, what="200 samples")
        proc.terminate()
        assert proc.wait(60) == 130, (tmp_path / "st.cli.log").read_text()[-3000:]
    finally:
        proc.kill()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["run"]["status"] == "interrupted" and 200 <= summary["sample_count"] < ds.N_SAMPLES


class PidMetric(SimpleMetric):
    """exact_match that also says which process scored it (shipped to Ray by value, see below)."""

    def compute_value(self, context: MetricContext) -> tuple[float, dict]:
        return float(context.prediction == context.sample.label), {"pid": os.getpid()}


def test_scoring_only_spreads_metrics_as_ray_tasks(cluster, tmp_path):
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Ray's workers need not import tests/
    data = ds.write_dataset(tmp_path / "small.jsonl", 300)
    cfg = ds.pipeline(data, cluster["srv"].base_url, judge=False)
    cfg["metrics"].append({"metric_id": "pid_em", "implementation": f"{__name__}:PidMetric"})
    single = gage_eval.run(cfg, output_dir=tmp_path, run_id="single", progress="off")
    cfg["execution"]["distributed"] = {"scoring_only": True}
    spread = gage_eval.run(cfg, output_dir=tmp_path, run_id="spread", progress="off", ray_address=cluster["address"])
    assert ds.comparable(spread.summary) == ds.comparable(single.summary)
    pids = {r["metric_details"]["pid_em"]["pid"] for r in ds.records(spread.run_dir) if "pid_em" in r["metrics"]}
    assert pids and os.getpid() not in pids
    assert {r["metric_details"]["pid_em"]["pid"] for r in ds.records(single.run_dir)
            if "pid_em" in r["metrics"]} == {os.getpid()}


# -- bad input: clear errors before any sample is sent -------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("form", ["ray://127.0.0.1:{port}", "127.0.0.1:{port}"])
def test_unreachable_address_fails_fast(cluster, tmp_path, form):
    address = form.format(port=_free_port())
    cfg = ds.write_config(tmp_path / "cfg.yaml", ds.pipeline(cluster["data"], cluster["srv"].base_url))
    requests = cluster["srv"].requests
    proc = ds.start_cli(cfg, tmp_path, "un", "--workers", "2", "--ray-address", address)
    assert proc.wait(60) == 1
    out = (tmp_path / "un.cli.log").read_text()
    assert f"cannot reach the Ray cluster at {address}: connection refused" in out
    assert "ray start --head" in out and "Traceback" not in out
    assert cluster["srv"].requests == requests


def _run_with_worker_path(cluster, tmp_path, pythonpath: Path) -> str:
    cfg = ds.pipeline(cluster["data"], cluster["srv"].base_url,
                      distributed={"runtime_env": {"env_vars": {"PYTHONPATH": str(pythonpath)}}})
    requests = cluster["srv"].requests
    with pytest.raises(GageError) as info:
        gage_eval.run(cfg, output_dir=tmp_path, run_id="env", progress="off", ray_address=cluster["address"],
                      workers=1)
    assert cluster["srv"].requests == requests
    return info.value.render()


def test_worker_without_gage_is_refused(cluster, tmp_path):
    """The workers' Python cannot import gage_eval (a site hook hides it, as on a node without the package)."""
    hook = ds.module_hiding_hook(tmp_path / "no_gage", "gage_eval")
    message = _run_with_worker_path(cluster, tmp_path, hook)
    assert "cannot import gage_eval" in message and "pip install" in message


def test_mismatched_ray_worker_version_is_refused(cluster, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(ds.REPO / "src" / "gage_eval", other / "gage_eval", ignore=shutil.ignore_patterns("__pycache__"))
    init = other / "gage_eval" / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "9.9.'))
    message = _run_with_worker_path(cluster, tmp_path, other)
    assert f"gage-eval: driver {gage_eval.__version__}, worker 9.9.{gage_eval.__version__}" in message


def test_gage_ray_up_serves_a_run_and_stops(cluster, tmp_path):
    port, client_port = _free_port(), _free_port()
    log = tmp_path / "up.log"
    env = {**os.environ, "PYTHONPATH": str(ds.REPO / "src")}
    up = subprocess.Popen([sys.executable, "-m", "gage_eval", "ray", "up", "--workers", "2", "--port", str(port),
                           "--client-port", str(client_port)], stdout=log.open("wb"), stderr=subprocess.STDOUT,
                          env=env)
    try:
        ds.wait_for(lambda: b"ready:" in log.read_bytes() or up.poll() is not None, timeout_s=180, what="ray up")
        assert b"--ray-address auto" in log.read_bytes(), log.read_text()[-2000:]
        data = ds.write_dataset(tmp_path / "small.jsonl", 100)
        cfg = ds.write_config(tmp_path / "cfg.yaml", ds.pipeline(data, cluster["srv"].base_url, judge=False))
        run = ds.start_cli(cfg, tmp_path, "up", "--workers", "2", "--ray-address", f"127.0.0.1:{port}")
        assert run.wait(180) == 0, (tmp_path / "up.cli.log").read_text()[-3000:]
        ds.check_records(tmp_path / "up", 100)
    finally:
        up.terminate()
        code = up.wait(120)
    assert code in (0, 130)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0  # the cluster is gone
    current = Path("/tmp/ray/ray_current_cluster")
    assert not (current.exists() and current.read_text().strip().endswith(f":{port}"))
