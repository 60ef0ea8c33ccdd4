"""SGLang's and TGI's native `/generate` routes for the test server, in their wire shapes.

SGLang (python/sglang/srt/managers/io_struct.py `GenerateReqInput`, docs/basic_usage/native_api.md):
`POST /generate {"text": str | [str], "sampling_params": {max_new_tokens, stop, temperature, ...},
"return_logprob", "logprob_start_len", "top_logprobs_num", "return_text_in_logprobs", "stream"}` answers
`{"text", "meta_info": {"id", "finish_reason": {"type": "length", "length": n} | {"type": "stop", "matched":
str}, "prompt_tokens", "completion_tokens", "cached_tokens", "input_token_logprobs": [[logprob, id, text],
...], "input_top_logprobs", "output_token_logprobs", "output_top_logprobs"}}` (a list for a list of texts);
the first prompt token's logprob is None. Stop strings are trimmed from the text. Streaming sends
`data: {...}\\n\\n` chunks whose `text` is the whole text so far, then `data: [DONE]`.

TGI (router/src/lib.rs `GenerateRequest`, docs openapi.json): `POST /generate {"inputs", "parameters":
{max_new_tokens, stop, details, decoder_input_details, temperature, top_p, do_sample, top_n_tokens, seed}}`
answers `{"generated_text", "details": {"finish_reason": "length" | "eos_token" | "stop_sequence",
"generated_tokens", "seed", "prefill": [{id, text, logprob}], "tokens": [{id, text, logprob, special}],
"top_tokens"}}`. The matched stop sequence stays in `generated_text`. Validation errors are HTTP 422
`{"error", "error_type": "validation"}` (max_new_tokens must be >= 1, temperature > 0, 0 < top_p < 1, at
most 4 stop sequences). `POST /generate_stream` sends `data:{"index", "token", "generated_text": null,
"details": null}` per token, the last one with `generated_text` and `details`.

Prompt logprobs are the test server's scripted ones (testing/logprobs.py), so the OpenAI, SGLang and TGI
routes score a prompt identically; the alternative token at each position decides the top logprobs.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from gage_eval.testing.logprobs import ALT_TOKEN, _unit, hashed_alt_logprob, hashed_token_logprob, tokenize

if TYPE_CHECKING:
    from gage_eval.testing.server import OpenAITestServer


def token_id(text: str) -> int:
    return int(_unit("id", text) * 50_000)


class _Script:
    """What the scripted server generates for a prompt: token texts, the stop that ended them, logprobs."""

    def __init__(self, server: OpenAITestServer, body: dict[str, Any], prompt: str, max_new_tokens: int | None,
                 stops: list[str]) -> None:
        cfg = server.config
        self.token_lp = cfg.token_logprob or hashed_token_logprob
        self.alt_lp = cfg.alt_logprob or hashed_alt_logprob
        answer = server.answer(body, prompt)  # a script callable sees the native request body
        words = (answer if isinstance(answer, str) else " ".join(answer)).split()
        if max_new_tokens is not None:
            words = words[:max_new_tokens]
        self.length_cut = max_new_tokens is not None and len(words) >= max_new_tokens
        text = "".join(" " + w for w in words)
        self.matched: str | None = None
        cut = min(((text.index(s), s) for s in stops if s and s in text), default=None)
        if cut is not None:
            self.matched = cut[1]
            text = text[: cut[0]]
            self.length_cut = False
        self.trimmed = text  # generated text without the stop string
        self.tokens = tokenize(text) if text else []
        self.prompt = prompt
        self.prompt_tokens = tokenize(prompt)

    def entries(self, tokens: list[str], before: str, top_n: int) -> tuple[list[list[Any]], list[Any]]:
        """[[logprob, id, text], ...] and the per-position top lists, for `tokens` following `before`."""
        out, tops, prefix = [], [], before
        for i, tok in enumerate(tokens):
            if not before and i == 0:
                out.append([None, token_id(tok), tok])
                tops.append(None)
            else:
                lp = float(self.token_lp(prefix, tok))
                out.append([lp, token_id(tok), tok])
                cand = sorted([[lp, token_id(tok), tok], [float(self.alt_lp(prefix)), token_id(ALT_TOKEN), ALT_TOKEN]],
                              key=lambda e: -e[0])
                tops.append(cand[:top_n] if top_n else [])
            prefix += tok
        return out, tops


# -- SGLang ------------------------------------------------------------------------------------------
def _sglang_one(server: OpenAITestServer, body: dict[str, Any], prompt: str, sp: dict[str, Any]) -> dict[str, Any]:
    stops = sp.get("stop") or []
    script = _Script(server, body, prompt, sp.get("max_new_tokens", 128), [stops] if isinstance(stops, str) else stops)
    finish = ({"type": "stop", "matched": script.matched} if script.matched is not None else
              {"type": "length", "length": len(script.tokens)} if script.length_cut else {"type": "stop", "matched": 2})
    meta: dict[str, Any] = {"id": f"sgl-{server.requests}", "finish_reason": finish,
                            "prompt_tokens": len(script.prompt_tokens), "completion_tokens": len(script.tokens),
                            "cached_tokens": 0}
    if body.get("return_logprob"):
        top_n = int(body.get("top_logprobs_num") or 0)
        start = body.get("logprob_start_len", -1)
        start = len(script.prompt_tokens) if start is None or start < 0 else int(start)
        inp, inp_top = script.entries(script.prompt_tokens, "", top_n)
        out, out_top = script.entries(script.tokens, prompt, top_n)
        with_text = bool(body.get("return_text_in_logprobs"))
        strip = (lambda rows: rows) if with_text else (lambda rows: [[r[0], r[1], None] for r in rows])
        meta.update({"input_token_logprobs": strip(inp[start:]), "output_token_logprobs": strip(out)})
        if top_n:
            meta.update({"input_top_logprobs": [t and strip(t) for t in inp_top[start:]],
                         "output_top_logprobs": [strip(t) for t in out_top]})
    return {"text": script.trimmed, "meta_info": meta}


async def sglang_generate(server: OpenAITestServer, request: web.Request) -> web.StreamResponse:
    server.requests += 1
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return server._count(web.json_response({"error": {"message": "body is not JSON"}}, status=400))
    texts = body.get("text")
    prompts = texts if isinstance(texts, list) else [texts]
    if not all(isinstance(p, str) for p in prompts):
        return server._count(web.json_response({"error": {"message": "text must be a string or a list"}}, status=400))
    for prompt in prompts:
        fault = server._fault(request, prompt)
        if fault == "drop":
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError
        if isinstance(fault, web.Response):
            return server._count(fault)
        server.prompt_counts[prompt] += 1
    sp = body.get("sampling_params") or {}
    if body.get("stream"):
        return await _sglang_stream(server, request, body, prompts[0], sp)
    if server.config.latency_ms:
        await asyncio.sleep(server.config.latency_ms / 1000)
    replies = [_sglang_one(server, body, p, sp) for p in prompts]
    return server._count(web.json_response(replies if isinstance(texts, list) else replies[0]))


async def _sglang_stream(server: OpenAITestServer, request: web.Request, body: dict[str, Any], prompt: str,
                         sp: dict[str, Any]) -> web.StreamResponse:
    full = _sglang_one(server, body, prompt, sp)
    tokens = tokenize(full["text"]) if full["text"] else []
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    text = ""
    for i, tok in enumerate(tokens):
        await _pace(server, request, i)
        text += tok
        last = i == len(tokens) - 1
        meta = {**full["meta_info"], "completion_tokens": i + 1, "finish_reason": full["meta_info"]["finish_reason"]
                if last else None}
        await resp.write(b"data: " + orjson.dumps({"text": text, "meta_info": meta}) + b"\n\n")
    if not tokens:
        await resp.write(b"data: " + orjson.dumps(full) + b"\n\n")
    await resp.write(b"data: [DONE]\n\n")
    await resp.write_eof()
    return server._count(resp)


async def _pace(server: OpenAITestServer, request: web.Request, i: int) -> None:
    cfg = server.config
    delay = (cfg.ttft_ms if i == 0 else cfg.itl_ms) / 1000
    if delay:
        await asyncio.sleep(delay)
    if cfg.stream_cut_after is not None and i >= cfg.stream_cut_after and request.transport is not None:
        request.transport.close()
        raise asyncio.CancelledError


# -- TGI ---------------------------------------------------------------------------------------------
def _tgi_error(message: str, status: int, kind: str) -> web.Response:
    return web.json_response({"error": message, "error_type": kind}, status=status)


def _tgi_invalid(params: dict[str, Any]) -> str | None:
    """TGI's router validation (router/src/validation.rs), the checks a client is likely to trip."""
    if int(params.get("max_new_tokens") or 0) < 1:  # TGI defaults it when absent; gage always sends it
        return "`max_new_tokens` must be strictly positive"
    if params.get("temperature") is not None and params["temperature"] <= 0:
        return "`temperature` must be strictly positive"
    if params.get("top_p") is not None and not 0 < params["top_p"] < 1:
        return "`top_p` must be > 0.0 and < 1.0"
    if len(params.get("stop") or []) > 4:
        return f"`stop` supports up to 4 stop sequences. Given: {len(params['stop'])}"
    return None


async def _tgi_prepare(server: OpenAITestServer, request: web.Request
                       ) -> tuple[dict[str, Any], _Script] | web.StreamResponse:
    server.requests += 1
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return server._count(_tgi_error("Failed to parse the request body as JSON", 400, "validation"))
    prompt, params = body.get("inputs"), body.get("parameters") or {}
    if not isinstance(prompt, str):
        return server._count(_tgi_error("missing field `inputs`", 422, "validation"))
    fault = server._fault(request, prompt)
    if fault == "drop":
        if request.transport is not None:
            request.transport.close()
        raise asyncio.CancelledError
    if isinstance(fault, web.Response):  # re-shaped as TGI's {"error", "error_type"}
        message = orjson.loads(fault.body)["error"]["message"]  # type: ignore[arg-type]
        kind = "overloaded" if fault.status == 429 else "generation" if fault.status >= 500 else "validation"
        return server._count(web.json_response({"error": message, "error_type": kind}, status=fault.status,
                                               headers={k: v for k, v in fault.headers.items() if k == "Retry-After"}))
    problem = _tgi_invalid(params)
    if problem:
        return server._count(_tgi_error(problem, 422, "validation"))
    server.prompt_counts[prompt] += 1
    return params, _Script(server, body, prompt, params["max_new_tokens"], list(params.get("stop") or []))


def _tgi_token(entry: list[Any]) -> dict[str, Any]:
    return {"id": entry[1], "text": entry[2], "logprob": entry[0], "special": False}


def _tgi_details(params: dict[str, Any], script: _Script) -> tuple[str, dict[str, Any]]:
    # TGI keeps the matched stop sequence in generated_text (clients trim it).
    text = script.trimmed + (script.matched or "")
    tokens = tokenize(text) if text else []
    finish = "stop_sequence" if script.matched else "length" if script.length_cut else "eos_token"
    top_n = int(params.get("top_n_tokens") or 0)
    out, out_top = script.entries(tokens, script.prompt, top_n)
    details: dict[str, Any] = {"finish_reason": finish, "generated_tokens": len(tokens), "seed": params.get("seed"),
                               "tokens": [_tgi_token(e) for e in out]}
    if params.get("decoder_input_details"):
        # As TGI: prefill tokens carry no top alternatives, whatever top_n_tokens says.
        details["prefill"] = [{"id": e[1], "text": e[2], "logprob": e[0]}
                              for e in script.entries(script.prompt_tokens, "", 0)[0]]
    if top_n:
        details["top_tokens"] = [[_tgi_token(e) for e in t] for t in out_top]
    return text, details


async def tgi_generate(server: OpenAITestServer, request: web.Request) -> web.StreamResponse:
    prepared = await _tgi_prepare(server, request)
    if isinstance(prepared, web.StreamResponse):
        return prepared
    params, script = prepared
    if server.config.latency_ms:
        await asyncio.sleep(server.config.latency_ms / 1000)
    text, details = _tgi_details(params, script)
    reply: dict[str, Any] = {"generated_text": text}
    if params.get("details"):
        reply["details"] = details
    return server._count(web.json_response(reply))


async def tgi_generate_stream(server: OpenAITestServer, request: web.Request) -> web.StreamResponse:
    prepared = await _tgi_prepare(server, request)
    if isinstance(prepared, web.StreamResponse):
        return prepared
    params, script = prepared
    text, details = _tgi_details(params, script)
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    tokens = details["tokens"]
    for i, token in enumerate(tokens):
        await _pace(server, request, i)
        last = i == len(tokens) - 1
        event = {"index": i + 1, "token": token, "top_tokens": None, "generated_text": text if last else None,
                 "details": {"finish_reason": details["finish_reason"], "generated_tokens": len(tokens),
                             "seed": details["seed"]} if last and params.get("details") else None}
        await resp.write(b"data:" + orjson.dumps(event) + b"\n\n")  # axum's SSE writes no space after "data:"
    await resp.write_eof()
    return server._count(resp)


def mount(server: OpenAITestServer, app: web.Application) -> None:
    async def generate(request: web.Request) -> web.StreamResponse:
        handler = sglang_generate if server.config.native == "sglang" else tgi_generate
        return await handler(server, request)

    async def generate_stream(request: web.Request) -> web.StreamResponse:
        return await tgi_generate_stream(server, request)

    async def info(request: web.Request) -> web.Response:
        return web.json_response({"model_id": "test-model", "version": "test", "max_stop_sequences": 4})

    app.router.add_post("/generate", generate)
    app.router.add_post("/generate_stream", generate_stream)
    app.router.add_get("/info", info)
