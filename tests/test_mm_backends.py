"""Vision-language backends: `openai_http` sends image and audio parts that a server decodes intact (the test
server echoes the sha256 of each decoded part), and `hf` runs a tiny random-weight LLaVA built here (processor
included) on MMMU- and DocVQA-format fixtures end to end, batched exactly as unbatched; a text-only model
asked for images fails clearly (at validation, or per sample)."""
from __future__ import annotations

import asyncio
import hashlib
import json
import wave
from pathlib import Path
from typing import Any

import pytest

import gage_eval
from gage_eval.backends.base import GenerationRequest
from gage_eval.cli.app import main
from gage_eval.errors import ConfigError
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .conftest import read_jsonl, write_jsonl
from .mm_fixtures import docvqa_records, png, write_snapshot

pytest.importorskip("torch")


def _eval(args: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(["eval", *args, "--progress", "off"])
    return int(done.value.code or 0)


# ---- openai_http -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("transport", ["data_url", "file_url"])
def test_docvqa_images_reach_the_server_intact(tmp_path: Path, transport: str) -> None:
    local = write_snapshot(tmp_path / "docvqa", "docvqa", 3)
    with run_server_in_thread(TestServerConfig(echo_media=True)) as server:
        code = _eval(["--model", "vlm", "--api-url", server.base_url, "--datasets", "docvqa",
                      "--model-args", f"media={transport}", "--dataset-args",
                      json.dumps({"docvqa": {"local_path": str(local)}}),
                      "--work-dir", str(tmp_path / "runs"), "--run-id", "d"])
        seen = list(server.media_log)
    assert code == 0
    rows = {r["sample_id"]: r for r in read_jsonl(tmp_path / "runs" / "d" / "samples.jsonl")}
    expected = {str(r["questionId"]): hashlib.sha256(r["image"]["bytes"]).hexdigest() for r in docvqa_records(3)}
    for qid, digest in expected.items():
        assert rows[qid]["model_output"]["answer"] == f"media: {digest}"  # the server decoded exactly these bytes
        assert rows[qid]["sample"]["messages"][0]["content"][0]["media"]["sha256"] == digest
    assert [s["transport"] for s in seen] == [transport] * 3
    assert {(s["width"], s["height"]) for s in seen} == {(48, 32)}


def test_litellm_sends_the_prepared_images_too(tmp_path: Path) -> None:
    pytest.importorskip("litellm")
    local = write_snapshot(tmp_path / "docvqa", "docvqa", 1)
    run_config = {"kind": "RunConfig", "base_task": "builtin/docvqa", "runtime": {
        "datasets": [{"dataset_id": "docvqa", "params": {"path": str(local)}}]}}
    with run_server_in_thread(TestServerConfig(echo_media=True)) as server:
        run_config["runtime"]["backends"] = [{"backend_id": "model", "type": "litellm", "config": {
            "model": "openai/vlm", "api_base": server.base_url, "api_key": "unused"}}]
        result = gage_eval.run(run_config, run_id="litellm", output_dir=str(tmp_path / "runs"))
    row = read_jsonl(result.run_dir / "samples.jsonl")[0]
    digest = hashlib.sha256(docvqa_records(1)[0]["image"]["bytes"]).hexdigest()
    assert row["model_output"]["answer"] == f"media: {digest}"


def test_audio_travels_as_input_audio_or_audio_url(tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * 4000)
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "transcribe"}, {"type": "audio_url", "audio_url": {"url": str(wav)}}]}]}])
    digest = hashlib.sha256(wav.read_bytes()).hexdigest()
    for mode in ("input_audio", "audio_url"):
        with run_server_in_thread(TestServerConfig(echo_media=True)) as server:
            cfg = {"kind": "PipelineConfig", "datasets": [{"dataset_id": "d", "params": {"path": str(data)}}],
                   "backends": [{"backend_id": "m", "type": "openai_http", "config": {
                       "base_url": server.base_url, "model": "m", "audio": mode}}],
                   "role_adapters": [{"adapter_id": "media", "role_type": "modal_processor"},
                                     {"adapter_id": "dut", "role_type": "dut_model", "backend_id": "m"}],
                   "custom": {"steps": [{"step": "support", "adapter_id": "media"},
                                        {"step": "inference", "adapter_id": "dut"}]}}
            result = gage_eval.run(cfg, run_id=mode, output_dir=str(tmp_path / "runs"))
            seen = list(server.media_log)
        assert result.status == "completed"
        assert seen[0]["kind"] == "audio" and seen[0]["sha256"] == digest
        assert seen[0]["transport"] == ("input_audio" if mode == "input_audio" else "data_url")


def test_a_text_only_server_rejects_images_per_sample(tmp_path: Path) -> None:
    local = write_snapshot(tmp_path / "docvqa", "docvqa", 2)
    with run_server_in_thread(TestServerConfig(vision=False)) as server:
        code = _eval(["--model", "textonly", "--api-url", server.base_url, "--datasets", "docvqa", "--dataset-args",
                      json.dumps({"docvqa": {"local_path": str(local)}}), "--work-dir", str(tmp_path / "runs"),
                      "--run-id", "t"])
    assert code == 1  # every sample failed
    rows = read_jsonl(tmp_path / "runs" / "t" / "samples.jsonl")
    assert len(rows) == 2 and {r["error"]["reason"] for r in rows} == {"HTTP 400"}
    assert all("not a multimodal model" in r["error"]["message"] for r in rows)


# ---- hf: a tiny LLaVA ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_vlm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .tiny_vlm import build_tiny_llava

    return build_tiny_llava(tmp_path_factory.mktemp("tiny-llava"))


@pytest.fixture(scope="module")
def tiny_text_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .tiny_model import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), 256)


def _image_request(path: Path, words: int) -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": path.as_uri()}},
        {"type": "text", "text": "what is the apple" + " tree" * words}]}], params={"max_tokens": 8, "temperature": 0})


def test_hf_batches_vision_requests_with_the_same_answers_as_one_by_one(tmp_path: Path, tiny_vlm: Path) -> None:
    from gage_eval.backends.hf import HFBackend

    images = []
    for i in range(5):
        images.append(tmp_path / f"{i}.png")
        images[-1].write_bytes(png(i, (40 + 7 * i, 30 + 3 * i)))
    requests = [_image_request(images[i], i) for i in range(5)]
    requests.append(GenerationRequest(messages=[{"role": "user", "content": "a text-only question"}],
                                      params={"max_tokens": 8, "temperature": 0}))

    async def answers(batch_size: int, together: bool) -> tuple[list[str], int]:
        backend = HFBackend.from_config({"model_path": str(tiny_vlm), "batch_size": batch_size})
        assert "images" in backend.supports()
        if together:
            out = await asyncio.gather(*(backend.generate(r) for r in requests))
        else:
            out = [await backend.generate(r) for r in requests]
        await backend.aclose()
        return [o.text for o in out], backend.generate_calls

    batched, calls = asyncio.run(answers(8, together=True))
    alone, alone_calls = asyncio.run(answers(1, together=False))
    assert batched == alone and len(set(batched[:5])) >= 3  # images change what the model says
    assert calls < alone_calls == 6


def test_mmmu_and_docvqa_run_end_to_end_on_the_tiny_vlm(tmp_path: Path, tiny_vlm: Path) -> None:
    local = tmp_path / "local"
    write_snapshot(local / "mmmu", "mmmu", 4)
    write_snapshot(local / "docvqa", "docvqa", 4)
    runs = {}
    for batch in (1, 4):
        code = _eval(["--model", str(tiny_vlm), "--datasets", "mmmu", "docvqa", "--dataset-dir", str(local),
                      "--dataset-args", json.dumps({"mmmu": {"subset_list": ["Accounting"]}}),
                      "--generation-config", "do_sample=false,max_new_tokens=6", "--eval-batch-size", str(batch),
                      "--work-dir", str(tmp_path / "runs"), "--run-id", f"b{batch}"])
        assert code == 0
        runs[batch] = {(r["task_id"], r["sample_id"]): r for r in read_jsonl(tmp_path / "runs" / f"b{batch}" /
                                                                             "samples.jsonl")}
    assert len(runs[1]) == 8 and runs[1].keys() == runs[4].keys()
    for key, row in runs[1].items():
        assert row["status"] == "ok" and row["model_output"]["answer"] == runs[4][key]["model_output"]["answer"]
        assert row["model_output"]["prompt_format"] == "chat_template"
    summary = json.loads((tmp_path / "runs" / "b4" / "summary.json").read_text())
    assert set(summary["summary_generators"]) >= {"metric_breakdown:mmmu", "metric_breakdown:mmmu:discipline"}
    assert summary["summary_generators"]["metric_breakdown:mmmu:discipline"]["Business"]["mmmu_acc"]["count"] == 4


def test_a_text_only_checkpoint_asked_for_images_fails_clearly(tmp_path: Path, tiny_text_model: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    local = write_snapshot(tmp_path / "docvqa", "docvqa", 2)
    code = _eval(["--model", str(tiny_text_model), "--datasets", "docvqa", "--dataset-args",
                  json.dumps({"docvqa": {"local_path": str(local)}}), "--work-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2 and "does not support images" in err and "text-only checkpoint" in err
    # A config that does not declare images: each sample fails with the reason, none is lost.
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": f"s{i}", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,aGVsbG8="}},
        {"type": "text", "text": "what?"}]}]} for i in range(3)])
    cfg: dict[str, Any] = {"kind": "PipelineConfig", "datasets": [{"dataset_id": "d", "params": {"path": str(data)}}],
                           "backends": [{"backend_id": "m", "type": "hf", "config": {"model_path": str(tiny_text_model),
                                                                                    "max_new_tokens": 4}}],
                           "role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "m"}]}
    result = gage_eval.run(cfg, run_id="percall", output_dir=str(tmp_path / "runs"))
    rows = read_jsonl(result.run_dir / "samples.jsonl")
    assert len(rows) == 3 and {r["error"]["reason"] for r in rows} == {"no vision support"}
    assert "text-only model" in rows[0]["error"]["message"] and rows[0]["error"]["fix"]
    with pytest.raises(ConfigError, match="does not support images"):
        gage_eval.run({**cfg, "role_adapters": [{**cfg["role_adapters"][0], "capabilities": ["images"]}]},
                      run_id="declared", output_dir=str(tmp_path / "runs"))
