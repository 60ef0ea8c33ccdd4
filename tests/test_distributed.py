"""Distributed runs on worker processes (`--workers N`, no Ray): one run directory, identical results,
nothing lost or duplicated when a worker or the driver is killed, load spread by work stealing."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import gage_eval
from gage_eval.errors import ConfigError, GageError
from tests import distributed_support as ds


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """One test server and one single-node baseline for the module."""
    tmp = tmp_path_factory.mktemp("dist")
    data = ds.write_dataset(tmp / "data.jsonl")
    with ds.server(latency_ms=2) as srv:
        base = gage_eval.run(ds.pipeline(data, srv.base_url), output_dir=tmp / "runs", run_id="single",
                             progress="off")
        yield {"tmp": tmp, "data": data, "srv": srv, "baseline": base}


def test_baseline_is_a_real_mix(env):
    s = env["baseline"].summary
    assert s["sample_count"] == ds.N_SAMPLES
    assert 15 <= s["failures"]["total"] <= 30  # the [boom] samples, HTTP 400
    em = s["metrics"]["exact_match"]["value"]
    assert 0.6 < em < 0.7
    assert s["metrics"]["judge_median"]["aggregation"] == "median"
    assert s["metrics"]["judge_score"]["ci_method"].startswith("normal")


def test_two_workers_give_the_single_node_summary(env):
    cfg = ds.pipeline(env["data"], env["srv"].base_url, distributed={"workers": 2, "shard_size": 7})
    result = gage_eval.run(cfg, output_dir=env["tmp"] / "runs", run_id="w2", progress="off")
    assert ds.comparable(result.summary) == ds.comparable(env["baseline"].summary)
    ds.check_records(result.run_dir)
    # Per-sample records are the single-node ones, byte for byte apart from timings and latencies.
    def strip(rec):
        rec = dict(rec)
        rec.pop("timings_ms")
        for key in ("model_output", "judge_output"):
            rec[key] = {k: v for k, v in rec[key].items() if "latency" not in k}
        rec["predict_result"] = [{k: v for k, v in p.items() if k != "latency_ms"} for p in rec["predict_result"]]
        return rec
    single = {r["seq"]: strip(r) for r in ds.records(env["baseline"].run_dir)}
    assert all(strip(r) == single[r["seq"]] for r in ds.records(result.run_dir))
    started = ds.events(result.run_dir, "worker_started")
    assert sorted(e["payload"]["worker"] for e in started) == [0, 1]
    assert result.summary["runtime_health"]["backends"]["b"]["requests"] >= 2 * ds.N_SAMPLES - 40
    assert (result.run_dir / "logs" / "worker-0.log").exists()


def test_killed_worker_loses_and_duplicates_nothing(env, tmp_path):
    """SIGKILL one worker mid-run: its unfinished samples are redone by the other (and a replacement)."""
    run_dir, victim = ds.kill_a_worker_mid_run(env, tmp_path)
    assert "SIGKILL" in ds.events(run_dir, "worker_lost")[0]["payload"]["reason"]
    assert len(ds.events(run_dir, "worker_replaced")) == 1
    assert not ds.alive(victim)


def test_sigkilled_driver_resumes_to_the_same_summary(env, tmp_path):
    """Workers notice the driver's death (their stdin closes) and exit: nothing keeps calling the server."""
    ds.kill_the_driver_and_resume(env, tmp_path)


def test_work_stealing_and_endpoint_pools(env, tmp_path):
    """Worker 0 gets the fast replica, worker 1 the slow one: the fast worker pulls far more shards."""
    data = ds.write_dataset(tmp_path / "small.jsonl", 400)
    with ds.server(latency_ms=1) as fast, ds.server(latency_ms=150) as slow:
        cfg = ds.pipeline(data, "http://127.0.0.1:1/v1", concurrency=4, judge=False,
                          distributed={"workers": 2, "shard_size": 4,
                                       "endpoints": {"b": [fast.base_url, slow.base_url]}})
        result = gage_eval.run(cfg, output_dir=tmp_path, run_id="ws", progress="off")
        assert fast.requests + slow.requests == 400
        assert slow.requests > 0 and fast.requests > 3 * slow.requests
    ds.check_records(result.run_dir, 400)


def test_equal_replicas_share_the_load(env, tmp_path):
    data = ds.write_dataset(tmp_path / "small.jsonl", 400)
    with ds.server(latency_ms=20) as a, ds.server(latency_ms=20) as b:
        cfg = ds.pipeline(data, "http://127.0.0.1:1/v1", concurrency=4, judge=False,
                          distributed={"workers": 4, "shard_size": 4, "endpoints": {"b": [a.base_url, b.base_url]}})
        gage_eval.run(cfg, output_dir=tmp_path, run_id="eq", progress="off")
        assert a.requests + b.requests == 400
        assert min(a.requests, b.requests) > 100


def test_two_tasks_cache_and_sample_events(env, tmp_path):
    """Multi-task runs, the response cache and per-sample events work through workers as on one node."""
    data = ds.write_dataset(tmp_path / "small.jsonl", 300)
    cfg = ds.pipeline(data, env["srv"].base_url, judge=False)
    cfg["tasks"] = [{"task_id": "first", "dataset_id": "d"},
                    {"task_id": "second", "dataset_id": "d", "metric_overrides": ["em_total"]}]
    single = gage_eval.run(cfg, output_dir=tmp_path, run_id="single", progress="off")
    cfg["execution"]["distributed"] = {"workers": 2}
    first = gage_eval.run(cfg, output_dir=tmp_path, run_id="dist", progress="off", use_cache=True,
                          sample_events=True)
    assert ds.comparable(first.summary) == ds.comparable(single.summary)
    assert [t["task_id"] for t in first.summary["tasks"]] == ["first", "second"]
    done = ds.events(first.run_dir, "sample_done")
    assert len(done) == first.summary["sample_count"] - first.summary["failures"]["total"] == 600 - 8
    assert all("exact_match" in e["payload"]["metrics"] for e in done if e["payload"]["task_id"] == "first")
    requests = env["srv"].requests
    again = gage_eval.run(cfg, output_dir=tmp_path, run_id="cached", progress="off", use_cache=True)
    assert ds.comparable(again.summary) == ds.comparable(single.summary)
    assert again.summary["runtime_health"]["response_cache"]["hits"] == 600 - 8
    assert env["srv"].requests - requests == 8  # only the failed samples (never cached) were asked again


def test_replayed_answers_through_workers(env, tmp_path):
    """`replay:` (answers from an earlier run) works on workers as on one node: no inference request is sent."""
    from gage_eval.config.phases import evaluate_with_replay

    data = ds.write_dataset(tmp_path / "small.jsonl", 200)
    gen = gage_eval.run(ds.pipeline(data, env["srv"].base_url, judge=False), output_dir=tmp_path, run_id="gen",
                        progress="off")
    cfg = evaluate_with_replay(ds.pipeline(data, "http://127.0.0.1:1/v1", judge=False), str(gen.run_dir))
    single = gage_eval.run(cfg, output_dir=tmp_path, run_id="single", progress="off", preflight=False)
    spread = gage_eval.run(cfg, output_dir=tmp_path, run_id="spread", progress="off", preflight=False, workers=2)
    assert ds.comparable(spread.summary) == ds.comparable(single.summary)
    assert spread.summary["metrics"]["exact_match"]["value"] == gen.summary["metrics"]["exact_match"]["value"]


def test_api_key_reaches_workers_and_no_file(tmp_path, monkeypatch):
    """The key (api_key_env, read at the edge) travels to the workers in their setup message, never to disk."""
    key = "sk-distributed-secret-4711"
    monkeypatch.setenv("DIST_TEST_KEY", key)
    data = ds.write_dataset(tmp_path / "small.jsonl", 60)
    with ds.server(require_api_key=key) as srv:
        cfg = ds.pipeline(data, srv.base_url, judge=False, distributed={"workers": 2})
        cfg["backends"][0]["config"]["api_key_env"] = "DIST_TEST_KEY"
        result = gage_eval.run(cfg, output_dir=tmp_path, run_id="key", progress="off")
    assert result.summary["sample_count"] == 60 and result.summary["failures"]["classes"][0]["reason"] == "HTTP 400"
    assert srv.status_counts[401] == 0
    for path in result.run_dir.rglob("*"):
        assert not path.is_file() or key.encode() not in path.read_bytes(), path


def test_fail_fast_stops_the_workers(env, tmp_path):
    cfg = ds.pipeline(env["data"], env["srv"].base_url, judge=False, distributed={"workers": 2})
    result = gage_eval.run(cfg, output_dir=tmp_path, run_id="ff", progress="off", failure_policy="fail_fast")
    assert result.status == "failed" and result.summary["run"]["error"]["type"] == "FailFast"
    assert result.summary["sample_count"] < ds.N_SAMPLES


def test_sigterm_stops_driver_and_workers(env, tmp_path):
    cfg = ds.write_config(tmp_path / "cfg.yaml", ds.pipeline(env["data"], env["srv"].base_url, concurrency=4))
    run_dir = tmp_path / "st"
    proc = ds.start_cli(cfg, tmp_path, "st", "--workers", "2")
    try:
        ds.wait_for(lambda: ds.line_count(run_dir / "samples.jsonl") >= 200, what="200 samples")
        workers = [e["payload"]["pid"] for e in ds.events(run_dir, "worker_started")]
        proc.terminate()
        assert proc.wait(60) == 130
    finally:
        proc.kill()
    assert not any(ds.alive(p) for p in workers)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["run"]["status"] == "interrupted"


# -- bad input: clear errors before any sample is sent -------------------------------------------------

def _config_error(cfg, tmp_path, **flags) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        gage_eval.run(cfg, output_dir=tmp_path, run_id="bad", progress="off", **flags)
    return info.value


def test_bad_distribution_settings(env, tmp_path):
    data, url = env["data"], env["srv"].base_url
    err = _config_error(ds.pipeline(data, url, distributed={"endpoints": {"nope": [url]}, "workers": 1}), tmp_path)
    assert err.path == "execution.distributed.endpoints.nope" and "b" in err.fix
    err = _config_error(ds.pipeline(data, url, distributed={"endpoints": {"b": [url, url, url]}}), tmp_path,
                        workers=2)
    assert err.path == "--workers" and "at least 3" in err.fix
    err = _config_error(ds.pipeline(data, url, distributed={"scoring_only": True, "workers": 2}), tmp_path)
    assert err.path == "execution.distributed.scoring_only" and "--ray-address" in err.fix
    err = _config_error(ds.pipeline(data, url, distributed={"scoring_only": True, "ray_address": "local"}), tmp_path,
                        workers=2)
    assert err.path == "--workers" and "scoring_only" in err.fix
    err = _config_error(ds.pipeline(data, url, distributed={"runtime_env": {"pip": ["x"]}, "workers": 2}), tmp_path)
    assert err.path == "execution.distributed.runtime_env"
    with pytest.raises(ConfigError) as info:
        gage_eval.run(ds.pipeline(data, url), output_dir=tmp_path, run_id="bad", workers=0)
    assert "workers" in info.value.render()


def test_ray_options_without_ray_installed(env, tmp_path):
    """--ray-address in a Python without Ray: a config error with the install command, before any sample."""
    hook = ds.module_hiding_hook(tmp_path / "no_ray", "ray")
    cfg = ds.write_config(tmp_path / "cfg.yaml", ds.pipeline(env["data"], env["srv"].base_url))
    requests = env["srv"].requests
    proc = ds.start_cli(cfg, tmp_path, "nr", "--ray-address", "local", pythonpath=hook)
    assert proc.wait(60) == 2
    out = (tmp_path / "nr.cli.log").read_text()
    assert "--ray-address: Ray is not installed" in out and "pip install 'gage-eval[ray]'" in out
    assert env["srv"].requests == requests
    proc = ds.start_cli(cfg, tmp_path, "na", "--ray-address", "ray://nohost")
    assert proc.wait(60) == 2
    assert "'ray://nohost' is not a Ray address" in (tmp_path / "na.cli.log").read_text()


def test_worker_side_errors_name_the_worker(env, tmp_path):
    """A dead replica in a pool fails its worker's pre-flight; the run stops before any sample."""
    data, url = env["data"], env["srv"].base_url
    cfg = ds.pipeline(data, url, distributed={"workers": 2, "endpoints": {"b": [url, "http://127.0.0.1:1/v1"]}})
    result = gage_eval.run(cfg, output_dir=tmp_path, run_id="pf", progress="off")
    assert result.status == "failed"
    error = result.summary["run"]["error"]
    assert error["type"] == "PreflightError" and error["reason"] == "connection refused"
    assert "worker 1" in error["message"]
    assert result.summary["sample_count"] == 0


def test_mismatched_worker_version_is_refused(env, tmp_path):
    """A worker that imports another gage-eval (here: a copy with another version) is stopped at hello."""
    other = tmp_path / "other"
    shutil.copytree(ds.REPO / "src" / "gage_eval", other / "gage_eval",
                    ignore=shutil.ignore_patterns("__pycache__"))
    init = other / "gage_eval" / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "9.9.'))
    cfg = ds.pipeline(env["data"], env["srv"].base_url,
                      distributed={"workers": 1, "runtime_env": {"env_vars": {"PYTHONPATH": str(other)}}})
    requests = env["srv"].requests
    with pytest.raises(GageError) as info:
        gage_eval.run(cfg, output_dir=tmp_path, run_id="mv", progress="off")
    message, v = info.value.render(), gage_eval.__version__
    assert f"gage-eval: driver {v}, worker 9.9.{v}" in message and "pip install" in message
    assert env["srv"].requests == requests  # nothing was sent
