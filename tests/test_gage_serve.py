"""`gage serve` on a tiny random-weight checkpoint: the OpenAI routes, and results identical to the in-process
hf backend when a run goes through a managed `launch: {preset: gage}` server."""
from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from gage_eval.backends.base import GenerationRequest
from gage_eval.backends.hf import HFBackend
from gage_eval.backends.openai_http import OpenAIHTTPBackend
from gage_eval.cli.app import main
from gage_eval.serving.launch import LaunchConfig
from gage_eval.serving.managed import ManagedServer

from .conftest import read_jsonl, write_jsonl
from .test_bench_e2e import FIXTURES
from .test_serving_managed import _alive, _terminal_sigint
from .tiny_model import build_tiny_llama

pytest.importorskip("torch")

ARC = [{"id": f"a{i}", "question": q, "choices": {"text": c, "label": ["A", "B", "C"][:len(c)]}, "answerKey": k}
       for i, (q, c, k) in enumerate([("What is 2?", ["one", "two", "three"], "B"),
                                      ("Which is blue?", ["the sky", "grass", "a cat"], "A"),
                                      ("Where is Paris?", ["in France", "in London", "on a tree"], "A"),
                                      ("What flies?", ["a bird", "a stone"], "A")])]
GSM8K = [FIXTURES["gsm8k"][0], {"question": "A cat has 3 fish and eats one. How many are left?",
                                "answer": "3 - 1 = 2\n#### 2"}]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("tiny"), 512)


@pytest.fixture(scope="module")
def served(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedServer]:
    """One `gage serve` process for the route tests, started and stopped by a ManagedServer."""
    cfg = LaunchConfig(preset="gage", model_path=str(tiny_model), served_model_name="tiny", ready_timeout_s=120,
                       batch_size=4)
    server = ManagedServer(cfg, name="tiny", log_dir=tmp_path_factory.mktemp("logs"))
    asyncio.run(server.__aenter__())
    try:
        yield server
    finally:
        server.stop()
    assert server.pid is not None and not _alive(server.pid)


async def _post(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as resp:
        text = await resp.text()
        return resp.status, json.loads(text) if resp.content_type == "application/json" else text


def test_health_models_and_errors(served: ManagedServer) -> None:
    async def go() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.get(served.base_url + "/models") as resp:
                models = await resp.json()
        assert [m["id"] for m in models["data"]] == ["tiny"] and models["data"][0]["max_model_len"] == 512
        status, body = await _post(served.base_url + "/completions", {"model": "other", "prompt": "x"})
        assert status == 404 and "other" in body["error"]["message"]
        status, body = await _post(served.base_url + "/completions", {"model": "tiny", "prompt": "x", "echo": True,
                                                                      "logprobs": 1, "max_tokens": 5})
        assert status == 400 and "max_tokens 0 or 1" in body["error"]["message"]

    asyncio.run(go())


def test_chat_and_completions_equal_the_in_process_backend(served: ManagedServer, tiny_model: Path) -> None:
    async def go() -> None:
        local = HFBackend.from_config({"model_path": str(tiny_model), "max_new_tokens": 6})
        for api, request in (("chat", GenerationRequest(messages=[{"role": "user", "content": "the river"}])),
                             ("completions", GenerationRequest(prompt="Question: what is the tree?\nAnswer:"))):
            request.params = {"max_tokens": 6, "temperature": 0}
            remote = OpenAIHTTPBackend.from_config({"base_url": served.base_url, "model": "tiny", "api": api})
            try:
                got, want = await remote.generate(request), await local.generate(request)
            finally:
                await remote.aclose()
            assert got.text == want.text and got.usage == want.usage and got.finish_reason == want.finish_reason
        await local.aclose()

    asyncio.run(go())


def test_streaming_sends_the_text_and_usage(served: ManagedServer) -> None:
    async def go() -> list[dict[str, Any]]:
        status, text = await _post(served.base_url + "/chat/completions", {
            "model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, "stream": True,
            "stream_options": {"include_usage": True}})
        assert status == 200 and text.rstrip().endswith("data: [DONE]")
        return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {")]

    chunks = asyncio.run(go())
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    usage = chunks[-1]["usage"]
    assert content and usage["completion_tokens"] == 5 and usage["prompt_tokens"] > 0
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "length"


def test_loglikelihood_over_http_equals_the_in_process_backend(served: ManagedServer, tiny_model: Path) -> None:
    pairs = [("Question: what is the apple?\nAnswer:", [" paris", " london", " seven three"]),
             ("The quick dog ", ["jumps", "sat on the house"]),  # trailing space moves to the continuation
             ("stone", [" river", " s"])]
    # (A continuation that BPE merges with the context's last word, "stone" + "s", is where the HTTP route
    # differs by design: see backends/openai_logprobs.py on straddling tokens.)

    async def go() -> None:
        local = HFBackend.from_config({"model_path": str(tiny_model)})
        remote = OpenAIHTTPBackend.from_config({"base_url": served.base_url, "model": "tiny", "api": "completions"})
        try:
            for context, continuations in pairs:
                got = await remote.loglikelihood(context, continuations)
                want = await local.loglikelihood(context, continuations)
                for (g, g_greedy), (w, w_greedy) in zip(got, want):
                    assert g == pytest.approx(w, abs=1e-4) and g_greedy == w_greedy
        finally:
            await remote.aclose()
            await local.aclose()
        assert remote.scoring_stats["straddling_tokens"] == 0

    asyncio.run(go())


def _run_config(tmp_path: Path, name: str, records: list[dict[str, Any]], backend: dict[str, Any]) -> Path:
    data = write_jsonl(tmp_path / f"{name}.jsonl", records)
    run_config = {"kind": "RunConfig", "base_task": f"builtin/{name}", "runtime": {
        "backends": [backend],
        "role_adapters": [{"adapter_id": "dut", "params": {"generation": {"max_tokens": 8}}}],
        "datasets": [{"dataset_id": name, "params": {"path": str(data), "preprocess_kwargs": {"num_fewshot": 0}}}]}}
    path = tmp_path / f"{name}-{backend['type']}.yaml"
    path.write_text(yaml.safe_dump(run_config))
    return path


def _gage_run(path: Path, out: Path, run_id: str) -> dict[str, Any]:
    with pytest.raises(SystemExit) as done:
        main(["run", str(path), "--output-dir", str(out), "--run-id", run_id, "--progress", "off"])
    assert done.value.code in (0, None)
    return json.loads((out / run_id / "summary.json").read_text())


@pytest.mark.parametrize("name, records, api", [("arc_easy", ARC, "completions"), ("gsm8k", GSM8K, "chat")])
def test_gage_run_through_a_launched_gage_server_equals_in_process_hf(tmp_path: Path, tiny_model: Path, name: str,
                                                                      records: list[dict[str, Any]],
                                                                      api: str) -> None:
    hf = {"backend_id": "model", "type": "hf", "config": {"model_path": str(tiny_model), "max_new_tokens": 8}}
    http = {"backend_id": "model", "type": "openai_http", "config": {"api": api, "model": "tiny"},
            "launch": {"preset": "gage", "model_path": str(tiny_model), "ready_timeout_s": 120}}
    out = tmp_path / "runs"
    local = _gage_run(_run_config(tmp_path, name, records, hf), out, "hf")
    remote = _gage_run(_run_config(tmp_path, name, records, http), out, "http")
    assert remote["sample_count"] == local["sample_count"] == len(records) and remote["failures"]["total"] == 0
    assert {k: v["value"] for k, v in remote["metrics"].items()} == {k: v["value"] for k, v in local["metrics"].items()}
    by_id = {r["sample_id"]: r for r in read_jsonl(out / "hf" / "samples.jsonl")}
    for got in read_jsonl(out / "http" / "samples.jsonl"):
        want = by_id[got["sample_id"]]
        assert got["metrics"] == want["metrics"]
        assert got["model_output"]["answer"] == want["model_output"]["answer"]
        if name == "arc_easy":
            assert got["model_output"]["loglikelihoods"] == pytest.approx(want["model_output"]["loglikelihoods"],
                                                                          abs=1e-4)
            assert got["model_output"]["is_greedy"] == want["model_output"]["is_greedy"]
    run_log = (out / "http" / "logs" / "run.log").read_text()
    pid = int(re.search(r"server model started \(pid (\d+)\)", run_log).group(1))
    assert not _alive(pid) and "gage serve: stopped" in (out / "http" / "logs" / "server-model.log").read_text()


def test_gage_eval_serve_gage_end_to_end(tmp_path: Path, tiny_model: Path) -> None:
    arc, gsm = write_jsonl(tmp_path / "arc.jsonl", ARC), write_jsonl(tmp_path / "gsm.jsonl", GSM8K)
    args = {"arc_easy": {"local_path": str(arc)}, "gsm8k": {"local_path": str(gsm), "few_shot_path": str(gsm)}}
    common = ["--datasets", "arc_easy,gsm8k", "--limit", "3", "--dataset-args", json.dumps(args),
              "--generation-config", "do_sample=false,max_new_tokens=8", "--work-dir", str(tmp_path / "runs"),
              "--progress", "off"]
    for run_id, extra in (("served", ["--serve", "gage"]), ("local", [])):
        with pytest.raises(SystemExit) as done:
            main(["eval", "--model", str(tiny_model), *extra, *common, "--run-id", run_id])
        assert done.value.code in (0, None)
    served, local = (json.loads((tmp_path / "runs" / r / "summary.json").read_text()) for r in ("served", "local"))
    assert served["sample_count"] == 3 + 2 and served["failures"]["total"] == 0
    tasks = {t["task_id"]: t for t in served["tasks"]}
    assert tasks["gsm8k"]["sample_count"] == 2
    # ARC is scored by log-likelihood over HTTP (completions + echo), exactly as in process. GSM8K goes through
    # the same completions endpoint (one backend), i.e. the plain prompt as vLLM serves base models.
    assert {k: v["value"] for k, v in tasks["arc_easy"]["metrics"].items()} == \
        {k: v["value"] for k, v in next(t for t in local["tasks"] if t["task_id"] == "arc_easy")["metrics"].items()}
    want = {r["sample_id"]: r["model_output"] for r in read_jsonl(tmp_path / "runs" / "local" / "samples.jsonl")
            if r["task_id"] == "arc_easy"}
    for record in read_jsonl(tmp_path / "runs" / "served" / "samples.jsonl"):
        if record["task_id"] == "arc_easy":
            got = record["model_output"]
            assert got["loglikelihoods"] == pytest.approx(want[record["sample_id"]]["loglikelihoods"], abs=1e-4)


def test_quick_mode_serve_picks_chat_for_generation_only_runs(tiny_model: Path) -> None:
    from gage_eval.config.quick import compile_quick, quick_task

    def api(datasets: list[str], **extra: Any) -> str:
        task = quick_task({"model": str(tiny_model), "datasets": datasets, "serve": "gage", **extra})
        return compile_quick(task)["backends"][0]["config"]["api"]

    assert api(["gsm8k"]) == "chat" and api(["arc_easy", "gsm8k"]) == "completions"
    assert api(["arc_easy"], eval_mode="generate") == "chat" and api(["gsm8k"], template_type="base") == "completions"


def test_sigterm_of_gage_mid_run_stops_gage_serve(tmp_path: Path, tiny_model: Path) -> None:
    records = [dict(GSM8K[i % 2], question=f"{GSM8K[i % 2]['question']} ({i})") for i in range(300)]
    http = {"backend_id": "model", "type": "openai_http", "config": {"api": "chat", "model": "tiny"},
            "launch": {"preset": "gage", "model_path": str(tiny_model), "ready_timeout_s": 120, "batch_size": 1}}
    cfg = _run_config(tmp_path, "gsm8k", records, http)
    out = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-m", "gage_eval", "run", str(cfg), "--output-dir", str(out),
                             "--run-id", "r", "--progress", "off", "--concurrency", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_terminal_sigint)
    samples = out / "r" / "samples.jsonl"
    deadline = time.monotonic() + 120
    while not (samples.exists() and samples.read_bytes().count(b"\n") >= 2) and time.monotonic() < deadline:
        time.sleep(0.1)
    pid = int(re.search(r"server model started \(pid (\d+)\)", (out / "r" / "logs" / "run.log").read_text()).group(1))
    assert _alive(pid)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in stderr, stderr
    assert not _alive(pid)
    assert 2 <= len(read_jsonl(samples)) < len(records)
