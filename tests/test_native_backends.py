"""`sglang` and `tgi` backends against routes speaking SGLang's and TGI's native wire formats over a real
socket (the bundled test server's /generate and /generate_stream), never a patched client."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from gage_eval.backends.base import GenerationRequest
from gage_eval.backends.native_http import NativeHTTPBackend
from gage_eval.backends.sglang import SGLangBackend
from gage_eval.backends.tgi import TGIBackend
from gage_eval.cli.app import main
from gage_eval.engine.model_call import ModelCaller, RetryPolicy
from gage_eval.errors import (
    BackendConnectionError,
    BackendError,
    ConnectionRefused,
    HTTPStatusError,
    MalformedReply,
    NonJSONReply,
)
from gage_eval.testing.logprobs import tokenize
from gage_eval.testing.server import OpenAITestServer, TestServerConfig, run_server_in_thread

from .conftest import serve_routes, write_jsonl
from .test_openai_loglikelihood import _OPTIONS, _arc_lp, _scripted_lp, _truth

ENGINES = {"sglang": SGLangBackend, "tgi": TGIBackend}


def _backend(engine: str, root: str, **config: Any) -> NativeHTTPBackend:
    return ENGINES[engine].from_config({"base_url": root, **config})  # type: ignore[return-value]


def _root(server: OpenAITestServer) -> str:
    return server.base_url.removesuffix("/v1")


def _recording(bodies: list[dict[str, Any]], answer: str = "ignored") -> Any:
    def script(body: dict[str, Any]) -> str:
        bodies.append(body)
        return answer
    return script


@pytest.mark.parametrize("engine", ENGINES)
async def test_loglikelihood_is_the_sum_of_the_continuations_prompt_token_logprobs(engine: str) -> None:
    context = "Question: Which planet is red?\nAnswer:"
    continuations = [" Mars", " the red planet", " Venus, maybe"]
    cfg = TestServerConfig(native=engine, token_logprob=_scripted_lp)
    async with OpenAITestServer(cfg) as srv, _backend(engine, _root(srv)) as backend:
        scores = await backend.loglikelihood(context, continuations)
        assert [s for s, _ in scores] == pytest.approx([_truth(context, c) for c in continuations])
        assert scores[0][0] == pytest.approx(_scripted_lp(context, " Mars"))
        # lm-eval moves the context's trailing space into the continuation
        spaced = await backend.loglikelihood("Answer: ", ["Paris"])
        assert spaced[0][0] == pytest.approx(_scripted_lp("Answer:", " Paris"))
        sent = srv.requests
        assert await backend.loglikelihood("Answer:", [""]) == [(0.0, True)] and srv.requests == sent
    # the contexts alone (trailing space stripped) are scored too, to count their tokens
    assert sorted(srv.prompt_counts) == sorted([context + c for c in continuations] + ["Answer: Paris"]
                                               + [context, "Answer:"])
    # SGLang: one request per question, context and continuations batched; TGI: one per text
    assert srv.requests == (2 if engine == "sglang" else 6)
    assert backend.scoring_stats["scored_continuations"] == 4 and not backend.scoring_stats["split_by_characters"]


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_token_straddling_the_boundary_is_split_by_characters(engine: str) -> None:
    cfg = TestServerConfig(native=engine, token_logprob=_scripted_lp)
    async with OpenAITestServer(cfg) as srv, _backend(engine, _root(srv)) as backend:
        # "Answer: Pa" has as many tokens as "Answer: Paris": " Paris" counts with the continuation
        straddle = await backend.loglikelihood("Answer: Pa", ["ris"])
    assert straddle[0][0] == pytest.approx(_scripted_lp("Answer:", " Paris"))
    assert backend.scoring_stats["split_by_characters"] == 1 and backend.scoring_stats["straddling_tokens"] == 1


@pytest.mark.parametrize("engine", ENGINES)
async def test_per_token_texts_without_leading_spaces_still_score_right(engine: str) -> None:
    """SGLang and TGI decode each token alone: a Llama (SentencePiece) token "▁red" comes back as "red", so
    token texts do not add up to the prompt; the token-count split does not read them."""
    words = {"Answer:": -9.0, " the": -0.25, " red": -0.5, " planet": -1.0, " Mars": -2.0}

    def rows(text: str) -> list[list[Any]]:
        tokens = ["<s>"] + tokenize(text)
        return [[None if i == 0 else words[t], i, t.strip()] for i, t in enumerate(tokens)]

    async def sglang(request: web.Request) -> web.Response:
        return web.json_response([{"text": "", "meta_info": {"input_token_logprobs": rows(t), "prompt_tokens": 1}}
                                  for t in (await request.json())["text"]])

    async def tgi(request: web.Request) -> web.Response:
        prefill = [{"id": r[1], "text": r[2], "logprob": r[0]} for r in rows((await request.json())["inputs"])]
        return web.json_response({"generated_text": " x", "details": {"prefill": prefill, "tokens": []}})

    async with serve_routes({"/generate": sglang if engine == "sglang" else tgi}) as root, \
            _backend(engine, root) as backend:
        scores = await backend.loglikelihood("Answer:", [" the red planet", " Mars"])
    assert [s for s, _ in scores] == [-1.75, -2.0]


async def test_sglang_scoring_request_and_is_greedy_from_the_top_logprobs() -> None:
    def lp(prefix: str, token: str) -> float:
        return {" Mars": -0.5, " Venus": -2.0, " red": -0.2, " dwarf": -3.0}.get(token, -1.5)

    bodies: list[dict[str, Any]] = []

    async def record(request: web.Request) -> web.StreamResponse:
        bodies.append(await request.json())
        return await handler(request)

    srv = OpenAITestServer(TestServerConfig(native="sglang", token_logprob=lp, alt_logprob=lambda p: -1.0))
    from gage_eval.testing.native_routes import sglang_generate

    async def handler(request: web.Request) -> web.StreamResponse:
        return await sglang_generate(srv, request)

    async with serve_routes({"/generate": record}) as root, _backend("sglang", root) as backend:
        scores = await backend.loglikelihood("Answer:", [" Mars", " Venus", " red Mars", " red dwarf"])
    assert scores == [(pytest.approx(-0.5), True), (pytest.approx(-2.0), False), (pytest.approx(-0.7), True),
                      (pytest.approx(-3.2), False)]
    body = bodies[0]
    assert body["text"] == ["Answer:", "Answer: Mars", "Answer: Venus", "Answer: red Mars", "Answer: red dwarf"]
    assert (body["return_logprob"], body["logprob_start_len"], body["top_logprobs_num"],
            body["return_text_in_logprobs"], body["sampling_params"]["max_new_tokens"]) == (True, 0, 1, True, 0)


async def test_tgi_scoring_request_and_unknown_greediness() -> None:
    bodies: list[dict[str, Any]] = []
    cfg = TestServerConfig(native="tgi", token_logprob=_scripted_lp, script=_recording(bodies))
    async with OpenAITestServer(cfg) as srv, _backend("tgi", _root(srv)) as backend:
        scores = await backend.loglikelihood("Answer:", [" Mars", " red Mars"])
    # TGI's prefill tokens come without alternatives: is_greedy cannot be known and is reported False
    assert [g for _, g in scores] == [False, False]
    assert backend.scoring_stats["greedy_unknown_tokens"] == 3
    assert [s for s, _ in scores] == pytest.approx([_truth("Answer:", c) for c in (" Mars", " red Mars")])
    assert sorted(b["inputs"] for b in bodies) == ["Answer:", "Answer: Mars", "Answer: red Mars"]
    for body in bodies:  # TGI refuses max_new_tokens 0; the one generated token is not in the prefill
        assert body["parameters"] == {"max_new_tokens": 1, "do_sample": False, "details": True,
                                      "decoder_input_details": True}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("stream", [False, True])
async def test_generation_with_stop_strings_greedy_and_streaming(engine: str, stream: bool) -> None:
    cfg = TestServerConfig(native=engine, script={"capital": "Paris is the capital. Next question", "count": "one two three four"})
    async with OpenAITestServer(cfg) as srv, _backend(engine, _root(srv), stream=stream) as backend:
        # temperature 0 and top_p 1 are refused by TGI's router (HTTP 422) unless mapped to do_sample: false
        reply = await backend.generate(GenerationRequest(prompt="The capital?", params={
            "max_tokens": 16, "stop": ["."], "temperature": 0, "top_p": 1.0}))
        assert reply.text == " Paris is the capital" and reply.finish_reason == "stop"
        assert reply.usage["completion_tokens"] == 4
        cut = await backend.generate(GenerationRequest(messages=[{"role": "user", "content": "count"}],
                                                       params={"max_tokens": 2}))
        assert cut.text == " one two" and cut.finish_reason == "length"
    assert srv.status_counts == {200: 2}


async def test_sglang_stream_events_are_read_as_cumulative_text() -> None:
    events = [{"text": " Par", "meta_info": {"finish_reason": None, "completion_tokens": 1}},
              {"text": " Paris.", "meta_info": {"finish_reason": {"type": "stop", "matched": 2}, "prompt_tokens": 3,
                                               "completion_tokens": 2}}]

    async def handler(request: web.Request) -> web.StreamResponse:
        assert (await request.json())["stream"] is True
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for event in events:
            await resp.write(b"data: " + json.dumps(event).encode() + b"\n\n")
        await resp.write(b"data: [DONE]\n\n")
        return resp

    async with serve_routes({"/generate": handler}) as root, _backend("sglang", root, stream=True) as backend:
        reply = await backend.generate(GenerationRequest(prompt="x", params={"stop": "."}))
    assert reply.text == " Paris" and reply.usage == {"prompt_tokens": 3, "completion_tokens": 2}


@pytest.mark.parametrize("engine", ENGINES)
async def test_http_errors_map_to_reason_classes(engine: str) -> None:
    cfg = TestServerConfig(native=engine, fail_prompts={"busy": 429, "crash": 500, "bad": 400}, retry_after_s=1.5)
    async with OpenAITestServer(cfg) as srv, _backend(engine, _root(srv)) as backend:
        errors = {}
        for word in ("busy", "crash", "bad"):
            with pytest.raises(HTTPStatusError) as err:
                await backend.generate(GenerationRequest(prompt=word, params={"max_tokens": 4}))
            errors[word] = err.value
        with pytest.raises(HTTPStatusError) as scoring:
            await backend.loglikelihood("crash:", [" a"])
    assert (errors["busy"].reason, errors["busy"].retryable, errors["busy"].retry_after) == ("HTTP 429", True, 1.5)
    assert (errors["crash"].reason, errors["crash"].retryable) == ("HTTP 5xx", True)
    assert (errors["bad"].reason, errors["bad"].retryable) == ("HTTP 400", False)
    assert "injected HTTP 500" in str(errors["crash"]) and f"{_root(srv)}/generate" in str(errors["crash"])
    assert scoring.value.retryable


async def test_tgi_validation_error_is_not_retried() -> None:
    async with OpenAITestServer(TestServerConfig(native="tgi")) as srv, _backend("tgi", _root(srv)) as backend:
        caller = ModelCaller(backend, RetryPolicy(max_attempts=3, base_delay_s=0.01))
        with pytest.raises(HTTPStatusError) as err:
            await caller.generate(GenerationRequest(prompt="x", params={"stop": ["a", "b", "c", "d", "e"]}))
    assert err.value.status == 422 and "up to 4 stop sequences" in str(err.value) and srv.requests == 1


@pytest.mark.parametrize("engine", ENGINES)
async def test_non_json_malformed_and_refused(engine: str) -> None:
    async with OpenAITestServer(TestServerConfig(web_page=True)) as page, _backend(engine, _root(page)) as backend:
        with pytest.raises(BackendError) as err:
            await backend.generate(GenerationRequest(prompt="x"))
    assert isinstance(err.value, NonJSONReply) and "a web page" in str(err.value)
    assert f"root of a {backend.api_name} server" in (err.value.fix or "") and not err.value.retryable

    async def wrong_shape(request: web.Request) -> web.Response:
        return web.json_response({"choices": []})

    async with serve_routes({"/generate": wrong_shape}) as root, _backend(engine, root) as backend:
        with pytest.raises(MalformedReply) as bad:
            await backend.generate(GenerationRequest(prompt="x"))
        with pytest.raises(MalformedReply) as bad_ll:
            await backend.loglikelihood("Answer:", [" a"])
    assert "/generate shape" in str(bad.value) and not bad.value.retryable and not bad_ll.value.retryable

    backend = _backend(engine, "http://127.0.0.1:9")
    with pytest.raises(ConnectionRefused):
        await backend.preflight()
    await backend.aclose()


def _arc_config(tmp_path: Path, engine: str, root: str) -> Path:
    records = [{"id": f"Mercury_{i}", "question": f"Which planet is number {i}?",
                "choices": {"text": _OPTIONS, "label": ["A", "B", "C", "D"]}, "answerKey": "ABCD"[i % 4]}
               for i in range(8)]
    data = write_jsonl(tmp_path / "arc.jsonl", records)
    config = {"api_version": "gage/v1alpha1", "kind": "RunConfig", "metadata": {"name": f"arc_{engine}"},
              "base_task": "builtin/arc_easy",
              "runtime": {"datasets": [{"dataset_id": "arc_easy", "params": {"path": str(data)}}],
                          "backends": [{"backend_id": "model", "type": engine, "config": {"base_url": root}}]}}
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.mark.parametrize("engine", ENGINES)
def test_gage_run_scores_arc_by_loglikelihood(tmp_path: Path, engine: str) -> None:
    with run_server_in_thread(TestServerConfig(native=engine, token_logprob=_arc_lp)) as server:
        path = _arc_config(tmp_path, engine, _root(server))
        with pytest.raises(SystemExit) as done:
            main(["run", str(path), "--output-dir", str(tmp_path / "runs"), "--run-id", "ll", "--progress", "off"])
        prompts = dict(server.prompt_counts)
    assert done.value.code in (0, None)
    summary = json.loads((tmp_path / "runs" / "ll" / "summary.json").read_text())
    assert summary["failures"]["total"] == 0, summary["failures"]
    metrics = summary["tasks"][0]["metrics"]
    # what the scripted logprobs imply (see test_openai_loglikelihood._SPECIAL): 6/8 raw, 7/8 per character
    assert metrics["acc"]["value"] == 0.75 and metrics["acc"]["count"] == 8
    assert metrics["acc_norm"]["value"] == 0.875
    # one text per option, and each question's context alone (its token count)
    assert len(prompts) == 40 and prompts["Question: Which planet is number 7?\nAnswer: Jupiter"] == 1
    assert prompts["Question: Which planet is number 7?\nAnswer:"] == 1


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_stream_cut_short_is_a_retryable_error_not_a_short_answer(engine: str) -> None:
    cfg = TestServerConfig(native=engine, script={"count": "one two three four"}, stream_cut_after=2)
    async with OpenAITestServer(cfg) as srv, _backend(engine, _root(srv), stream=True) as backend:
        with pytest.raises(BackendConnectionError) as err:
            await backend.generate(GenerationRequest(prompt="count", params={"max_tokens": 8}))
    assert err.value.retryable and f"{_root(srv)}/generate" in str(err.value)


async def test_tgi_error_event_mid_stream() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b'data:{"index":1,"token":{"id":1,"text":" a","logprob":-1.0,"special":false}}\n\n')
        await resp.write(b'data:{"error":"Request failed during generation: CUDA OOM","error_type":"generation"}\n\n')
        return resp

    async with serve_routes({"/generate_stream": handler}) as root, _backend("tgi", root, stream=True) as backend:
        with pytest.raises(HTTPStatusError) as err:
            await backend.generate(GenerationRequest(prompt="x"))
    assert "CUDA OOM" in str(err.value) and err.value.retryable
