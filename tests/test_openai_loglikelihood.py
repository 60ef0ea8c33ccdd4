"""Log-likelihood scoring over an OpenAI-compatible /completions endpoint (echo + logprobs), as lm-eval's
local-completions model does against vLLM: the backend against the bundled server over real HTTP."""
from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from gage_eval.backends.openai_http import OpenAIHTTPBackend
from gage_eval.cli.app import main
from gage_eval.config.quick import compile_quick, quick_task
from gage_eval.errors import BackendError, ConfigError
from gage_eval.testing.logprobs import echo_logprobs, tokenize
from gage_eval.testing.server import (
    OpenAITestServer,
    TestServerConfig,
    run_server_in_thread,
)

from .conftest import serve_routes, write_jsonl


def _backend(url: str, api: str = "completions") -> OpenAIHTTPBackend:
    return OpenAIHTTPBackend.from_config({"base_url": url, "model": "m", "api": api})  # type: ignore[return-value]


def _scripted_lp(prefix: str, token: str) -> float:
    return -round(0.1 * len(token) + 0.01 * (len(prefix) % 13) + 0.05, 6)


def _truth(context: str, continuation: str) -> float:
    """The server's scripted logprobs summed over the tokens that end after context.rstrip()."""
    text, boundary, offset, total = context + continuation, len(context.rstrip()), 0, 0.0
    for token in tokenize(text):
        if offset + len(token) > boundary:
            total += _scripted_lp(text[:offset], token)
        offset += len(token)
    return total


async def test_sums_are_the_servers_logprobs_of_the_continuation_tokens() -> None:
    bodies: list[dict[str, Any]] = []

    def record(body: dict[str, Any]) -> str:
        bodies.append(body)
        return "ignored"

    context = "Question: Which planet is red?\nAnswer:"
    continuations = [" Mars", " the red planet", " Venus, maybe"]
    cfg = TestServerConfig(script=record, token_logprob=_scripted_lp)
    async with OpenAITestServer(cfg) as srv, _backend(srv.base_url) as backend:
        scores = await backend.loglikelihood(context, continuations)
    # one token: its logprob given the whole context, computed by hand
    assert scores[0][0] == pytest.approx(_scripted_lp(context, " Mars"))
    assert scores[1][0] == pytest.approx(_scripted_lp(context, " the") + _scripted_lp(context + " the", " red")
                                         + _scripted_lp(context + " the red", " planet"))
    assert [s for s, _ in scores] == pytest.approx([_truth(context, c) for c in continuations])
    assert sorted(b["prompt"] for b in bodies) == sorted(context + c for c in continuations)
    for body in bodies:
        assert (body["echo"], body["logprobs"], body["max_tokens"], body["temperature"]) == (True, 1, 1, 0)
    assert backend.scoring_stats["scored_continuations"] == 3 and backend.scoring_stats["straddling_tokens"] == 0


async def test_is_greedy_compares_each_token_with_the_best_offered() -> None:
    def lp(prefix: str, token: str) -> float:
        return {" Mars": -0.5, " Venus": -2.0, " red": -0.2, " dwarf": -3.0}.get(token, -1.5)

    cfg = TestServerConfig(token_logprob=lp, alt_logprob=lambda prefix: -1.0)
    async with OpenAITestServer(cfg) as srv, _backend(srv.base_url) as backend:
        scores = await backend.loglikelihood("Answer:", [" Mars", " Venus", " red Mars", " red dwarf"])
    assert scores == [(pytest.approx(-0.5), True), (pytest.approx(-2.0), False), (pytest.approx(-0.7), True),
                      (pytest.approx(-3.2), False)]


async def test_trailing_space_straddling_token_and_empty_continuation() -> None:
    cfg = TestServerConfig(token_logprob=_scripted_lp)
    async with OpenAITestServer(cfg) as srv, _backend(srv.base_url) as backend:
        # lm-eval moves a context's trailing space into the continuation: both score " Paris" after "Answer:"
        spaced, plain = await backend.loglikelihood("Answer: ", ["Paris"]), await backend.loglikelihood(
            "Answer:", [" Paris"])
        assert spaced[0][0] == plain[0][0] == pytest.approx(_scripted_lp("Answer:", " Paris"))
        assert backend.scoring_stats["straddling_tokens"] == 0
        # " Paris" begins inside the context: it counts with the continuation, and is tallied
        straddle = await backend.loglikelihood("Answer: Pa", ["ris"])
        assert straddle[0][0] == pytest.approx(_scripted_lp("Answer:", " Paris"))
        assert backend.scoring_stats["straddling_tokens"] == 1
        sent = srv.requests
        assert await backend.loglikelihood("Answer:", [""]) == [(0.0, True)]  # no tokens: no request
        assert srv.requests == sent
        # an empty continuation after a trailing space scores the space, as lm-eval does
        space = await backend.loglikelihood("Answer: ", [""])
        assert space[0][0] == pytest.approx(_scripted_lp("Answer:", " ")) and srv.requests == sent + 1


async def test_chat_api_is_refused_with_the_fix() -> None:
    async with OpenAITestServer() as srv, _backend(srv.base_url, api="chat") as backend:
        with pytest.raises(ConfigError) as err:
            await backend.loglikelihood("Answer:", [" a", " b"])
        assert srv.requests == 0
    text = err.value.render()
    assert "chat endpoints do not return the prompt's log-probabilities" in text
    assert "/chat/completions" in text and "api: completions" in text and "--model-args api=completions" in text


async def test_a_server_that_does_not_echo_is_an_error_not_a_zero() -> None:
    async with OpenAITestServer(TestServerConfig(echo_prompt=False)) as srv, _backend(srv.base_url) as backend:
        with pytest.raises(BackendError) as err:
            await backend.loglikelihood("Answer:", [" Mars"])
    assert f"{srv.base_url}/completions" in str(err.value) and "ignored echo=true" in str(err.value)
    assert not err.value.retryable


@pytest.mark.parametrize("logprobs, missing", [
    (None, "choices[0].logprobs"),
    ({"tokens": ["Answer:", " Mars"], "token_logprobs": [None, -1.0], "top_logprobs": [None, {" Mars": -1.0}]},
     "choices[0].logprobs.text_offset"),
])
async def test_a_reply_without_logprobs_names_the_url_and_the_field(logprobs: Any, missing: str) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"choices": [{"index": 0, "text": "x", "logprobs": logprobs}]})

    async with serve_routes({"/v1/completions": handler}) as root, _backend(f"{root}/v1") as backend:
        with pytest.raises(BackendError) as err:
            await backend.loglikelihood("Answer:", [" Mars"])
    message = str(err.value)
    assert f"{root}/v1/completions" in message and f"has no {missing}." in message and "echo=true" in message


async def test_offsets_are_matched_from_the_end_when_the_server_echoes_a_bos_token() -> None:
    # vLLM on a Llama tokenizer echoes "<s>" first, so every text_offset is 3 past the prompt's characters.
    async def handler(request: web.Request) -> web.Response:
        logprobs = {"tokens": ["<s>", "Answer", ":", " Paris", " the"], "token_logprobs": [None, -4.0, -2.0, -0.5, -1.0],
                    "top_logprobs": [None, {"Answer": -4.0}, {":": -2.0}, {" Paris": -0.5, " Rome": -0.9},
                                     {" the": -1.0}], "text_offset": [0, 3, 9, 10, 16]}
        return web.json_response({"choices": [{"index": 0, "text": "Answer: Paris the", "logprobs": logprobs}],
                                  "usage": {"prompt_tokens": 4, "completion_tokens": 1, "total_tokens": 5}})

    async with serve_routes({"/v1/completions": handler}) as root, _backend(f"{root}/v1") as backend:
        assert await backend.loglikelihood("Answer:", [" Paris"]) == [(-0.5, True)]
        assert await backend.loglikelihood("Answer", [": Paris"]) == [(-2.5, True)]
        assert backend.scoring_stats["offset_shifted_replies"] == 2


async def test_continuations_of_one_question_are_sent_concurrently() -> None:
    inflight, peak = 0, 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal inflight, peak
        prompt = (await request.json())["prompt"]
        inflight += 1
        peak = max(peak, inflight)
        await asyncio.sleep(0.2)
        inflight -= 1
        return web.json_response({"choices": [{"index": 0, "text": prompt + " x",
                                               "logprobs": echo_logprobs(prompt, [" x"])}]})

    async with serve_routes({"/v1/completions": handler}) as root, _backend(f"{root}/v1") as backend:
        scores = await backend.loglikelihood("Q:", [" a", " b", " c", " d"])
    assert peak == 4 and len(scores) == 4


def test_quick_mode_scores_completions_endpoints_by_loglikelihood() -> None:
    for extra in ({"api_url": "http://127.0.0.1:9/v1", "model_args": {"api": "completions"}},
                  {"api_url": "http://127.0.0.1:9/v1/completions"}):
        cfg = compile_quick(quick_task({"model": "base", "datasets": ["arc_easy"], **extra}))
        assert cfg["backends"][0]["config"] == {"base_url": "http://127.0.0.1:9/v1", "model": "base",
                                                "api": "completions"}
        assert cfg["role_adapters"][0]["params"]["mode"] == "loglikelihood"
    chat = {"model": "chat-model", "datasets": ["arc_easy"], "api_url": "http://127.0.0.1:9/v1"}
    assert "mode" not in compile_quick(quick_task(chat))["role_adapters"][0]["params"]
    with pytest.raises(ConfigError) as err:
        compile_quick(quick_task({**chat, "eval_mode": "loglikelihood"}))
    assert err.value.path == "eval_mode" and "api=completions" in err.value.render()


# -- end to end: `gage eval` on ARC-format data against a scripted server ---------------------------------
_OPTIONS = ["Mars", "Venus", "Earth", "Jupiter"]
# question i -> logprob of each option's token. 0-5: the gold option is the most likely (acc and acc_norm
# right); 6: "Mars" beats the gold "Earth" raw and per character (both wrong); 7: "Mars" wins raw (-3.0 >
# -3.5) but the gold "Jupiter" wins per character (-3.5/7 = -0.5 > -3.0/4 = -0.75): acc wrong, acc_norm right.
_SPECIAL = {6: {"Mars": -1.0, "Earth": -5.0}, 7: {"Mars": -3.0, "Jupiter": -3.5}}


def _gold(i: int) -> str:
    return _OPTIONS["ABCD".index("ABCD"[i % 4])]


def _arc_lp(prefix: str, token: str) -> float:
    match = re.search(r"number (\d+)\?\nAnswer:$", prefix)
    if not match or token.strip() not in _OPTIONS:
        return -1.0  # a context token (or the generated one)
    i, option = int(match.group(1)), token.strip()
    if i in _SPECIAL:
        return _SPECIAL[i].get(option, -10.0)
    return -0.1 if option == _gold(i) else -5.0


def test_gage_eval_scores_arc_by_loglikelihood_over_completions(tmp_path: Path) -> None:
    records = [{"id": f"Mercury_{i}", "question": f"Which planet is number {i}?",
                "choices": {"text": _OPTIONS, "label": ["A", "B", "C", "D"]}, "answerKey": "ABCD"[i % 4]}
               for i in range(8)]
    path = write_jsonl(tmp_path / "arc.jsonl", records)
    with run_server_in_thread(TestServerConfig(token_logprob=_arc_lp)) as server:
        with pytest.raises(SystemExit) as done:
            main(["eval", "--model", "base-model", "--api-url", server.base_url, "--model-args", "api=completions",
                  "--datasets", "arc_easy", "--dataset-args", json.dumps({"arc_easy": {"local_path": str(path)}}),
                  "--work-dir", str(tmp_path / "runs"), "--run-id", "ll", "--progress", "off"])
        prompts = dict(server.prompt_counts)
    assert done.value.code in (0, None)
    summary = json.loads((tmp_path / "runs" / "ll" / "summary.json").read_text())
    assert summary["failures"]["total"] == 0, summary["failures"]
    metrics = summary["tasks"][0]["metrics"]
    assert metrics["acc"]["value"] == 0.75 and metrics["acc"]["count"] == 8
    assert metrics["acc_norm"]["value"] == 0.875
    # lm-eval's arc_easy prompt, one request per option
    assert len(prompts) == 32 and prompts["Question: Which planet is number 7?\nAnswer: Jupiter"] == 1
