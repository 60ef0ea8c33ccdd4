"""A local OpenAI-compatible server: real HTTP on 127.0.0.1, deterministic answers, latency and faults.

Used by the tests and benchmarks in place of a model server (no GPU here). It speaks the real protocol
(chat/completions, SSE streaming, usage, logprobs) so clients are exercised exactly as against vLLM, and
SGLang's or TGI's native /generate (testing/native_routes.py).

    python -m gage_eval.testing.server --port 0 --latency-ms 100      # prints "READY <base_url>"
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, Literal

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from gage_eval.testing import media_check, native_routes, tool_replies
from gage_eval.testing.logprobs import echo_logprobs, tokenize

Script = Callable[[dict[str, Any]], str] | dict[str, str] | list[str] | None


class TestServerConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    __test__ = False  # not a pytest test class

    host: str = "127.0.0.1"
    port: int = 0
    latency_ms: float = Field(default=0.0, ge=0)
    ttft_ms: float = Field(default=0.0, ge=0)  # streaming: delay before the first token
    itl_ms: float = Field(default=0.0, ge=0)  # streaming: delay between tokens
    fail_rate_5xx: float = Field(default=0.0, ge=0, le=1)
    rate_429: float = Field(default=0.0, ge=0, le=1)
    retry_after_s: float = 0.05
    drop_rate: float = Field(default=0.0, ge=0, le=1)
    slow_body_ms: float = Field(default=0.0, ge=0)
    fail_first_n: int = Field(default=0, ge=0)
    stream_cut_after: int | None = Field(default=None, ge=0)  # close SSE streams after N tokens, no [DONE]
    require_api_key: str | None = None  # also guards /v1/models, as vLLM's --api-key does
    # Deterministic faults: a request whose prompt contains a key is answered with that HTTP status.
    fail_prompts: dict[str, int] = Field(default_factory=dict)
    # ... and one whose prompt contains a key is answered only after that many ms (a client timeout, per sample).
    slow_prompts: dict[str, float] = Field(default_factory=dict)
    web_page: bool = False  # a web server, not an API: every path answers an HTML page (a misconfigured URL)
    seed: int = 0
    # Script: callable(request) -> answer (a list: the n choices; a dict: tool calls, see testing/tool_replies.py),
    # {substring: answer}, or a list cycled
    script: Any = None
    agent_turns: int | None = Field(default=None, ge=0)  # without a script: tool_replies.agent_script(agent_turns)
    verbatim: bool = False  # scripted answers as written (newlines kept), not re-tokenized on whitespace
    # /completions with echo: true returns the prompt's log-probabilities (see testing/logprobs.py);
    # echo_prompt=False acts as a server without that support (logprobs of the generated tokens only).
    echo_prompt: bool = True
    token_logprob: Any = None  # callable(prefix, token) -> float; default: a hash of both
    alt_logprob: Any = None  # callable(prefix) -> float: the one alternative token's logprob at each position
    # Which engine's native POST /generate this server speaks (see testing/native_routes.py).
    native: Literal["sglang", "tgi"] = "sglang"
    # Media (testing/media_check.py): vision=False answers image/audio parts with HTTP 400, as a text-only
    # server does; inspect_media decodes every part and logs it in `media_log`; echo_media also answers with
    # "media: <sha256 of each decoded part>" (so a test sees what arrived).
    vision: bool = True
    inspect_media: bool = False
    echo_media: bool = False


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user":
            c = m.get("content")
            return c if isinstance(c, str) else "".join(p.get("text", "") for p in c or [] if isinstance(p, dict))
    return ""


class OpenAITestServer:
    """`async with OpenAITestServer(cfg) as srv: srv.base_url` — or `run_server_in_thread(cfg)` for sync code."""

    def __init__(self, config: TestServerConfig | None = None) -> None:
        self.config = config or TestServerConfig()
        self._rng = random.Random(self.config.seed)
        self._cycle = itertools.cycle(self.config.script) if isinstance(self.config.script, list) else None
        if self.config.script is None and self.config.agent_turns is not None:
            self.config.script = tool_replies.agent_script(self.config.agent_turns)
        self.requests = 0
        self.status_counts: Counter[int] = Counter()
        self.prompt_counts: Counter[str] = Counter()
        self.dropped = 0
        self.media_log: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- answers -----------------------------------------------------------------------------------
    def _prompt(self, body: dict[str, Any], chat: bool) -> str:
        return _last_user_text(body.get("messages") or []) if chat else str(body.get("prompt", ""))

    def answer(self, body: dict[str, Any], prompt: str) -> str | list[str] | tool_replies.ToolAnswer:
        script = self.config.script
        if callable(script):
            out = script(body)
            if isinstance(out, dict):
                return out
            return [str(x) for x in out] if isinstance(out, list) else str(out)
        if isinstance(script, dict):
            return next((a for key, a in script.items() if key in prompt), prompt)
        if self._cycle is not None:
            return next(self._cycle)
        return prompt

    @staticmethod
    def shape_tokens(text: str, body: dict[str, Any]) -> list[str]:
        tokens = text.split()
        max_tokens = body.get("max_tokens")
        max_tokens = body.get("max_completion_tokens") if max_tokens is None else max_tokens
        if max_tokens is not None and (body.get("ignore_eos") or body.get("min_tokens")):
            pad = itertools.cycle(tokens or ["token"])
            while len(tokens) < max_tokens:
                tokens.append(next(pad))
        if max_tokens is not None:
            tokens = tokens[: int(max_tokens)]
        stops = body.get("stop") or []
        stops = [stops] if isinstance(stops, str) else stops
        joined = " ".join(tokens)
        for stop in stops:
            if stop and stop in joined:
                joined = joined[: joined.index(stop)]
                tokens = joined.split()
        return tokens

    @staticmethod
    def logprobs_for(tokens: list[str], chat: bool, top: int) -> dict[str, Any]:
        # Deterministic pseudo-logprobs so clients can be tested for passthrough.
        values = [-(len(t) % 7) / 10 - 0.01 for t in tokens]
        if chat:
            return {"content": [{"token": t, "logprob": v, "bytes": list(t.encode()),
                                 "top_logprobs": [{"token": t, "logprob": v, "bytes": list(t.encode())}][:top]}
                                for t, v in zip(tokens, values)]}
        return {"tokens": tokens, "token_logprobs": values, "top_logprobs": [{t: v} for t, v in zip(tokens, values)],
                "text_offset": list(itertools.accumulate([0] + [len(t) + 1 for t in tokens[:-1]]))}

    # -- faults ------------------------------------------------------------------------------------
    def _unauthorized(self, request: web.Request) -> web.Response | None:
        key = self.config.require_api_key
        if key is not None and request.headers.get("Authorization") != f"Bearer {key}":
            return web.json_response({"error": {"message": "invalid api key", "type": "invalid_request_error"}},
                                     status=401)
        return None

    def _fault(self, request: web.Request, prompt: str) -> web.Response | str | None:
        cfg = self.config
        denied = self._unauthorized(request)
        if denied is not None:
            return denied
        status = next((code for key, code in cfg.fail_prompts.items() if key in prompt), None)
        if status is not None:
            headers = {"Retry-After": f"{cfg.retry_after_s:g}"} if status == 429 else None
            return web.json_response({"error": {"message": f"injected HTTP {status}"}}, status=status, headers=headers)
        if self.requests <= cfg.fail_first_n:
            return web.json_response({"error": {"message": "warming up"}}, status=503)
        roll = self._rng.random()
        if roll < cfg.drop_rate:
            return "drop"
        roll -= cfg.drop_rate
        if roll < cfg.fail_rate_5xx:
            status = 500 if self._rng.random() < 0.5 else 503
            return web.json_response({"error": {"message": "injected server error"}}, status=status)
        roll -= cfg.fail_rate_5xx
        if roll < cfg.rate_429:
            return web.json_response({"error": {"message": "rate limited"}}, status=429,
                                     headers={"Retry-After": f"{cfg.retry_after_s:g}"})
        return None

    # -- handlers ----------------------------------------------------------------------------------
    async def _handle(self, request: web.Request, chat: bool) -> web.StreamResponse:
        self.requests += 1
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return self._count(web.json_response({"error": {"message": "body is not JSON"}}, status=400))
        fault = self._fault(request, self._prompt(body, chat))
        if fault == "drop":
            self.dropped += 1
            if request.transport is not None:
                request.transport.close()  # connection closed with no response at all
            raise asyncio.CancelledError
        if isinstance(fault, web.Response):
            return self._count(fault)
        prompt = self._prompt(body, chat)
        delay = next((ms for key, ms in self.config.slow_prompts.items() if key in prompt), 0.0)
        if delay:
            await asyncio.sleep(delay / 1000)
        self.prompt_counts[prompt] += 1
        rejected = self._check_media(body) if chat else None
        if rejected is not None:
            return self._count(rejected)
        answer = self.answer(body, prompt)
        if self.config.echo_media and chat and body.get("_media_seen") is not None:
            answer = "media: " + " ".join(m["sha256"] for m in body["_media_seen"])
        if isinstance(answer, dict):
            return await self._tool_answer(request, body, answer, prompt)
        if self.config.latency_ms and not body.get("stream"):  # streams are paced by ttft_ms / itl_ms
            await asyncio.sleep(self.config.latency_ms / 1000)
        if (isinstance(answer, list) or self.config.verbatim) and not body.get("stream"):
            return self._count(self._verbatim(body, answer if isinstance(answer, list) else [answer], chat, prompt))
        tokens = self.shape_tokens(answer if isinstance(answer, str) else " ".join(answer), body)
        if body.get("stream"):
            return await self._stream(request, body, tokens, chat)
        return self._count(await self._complete(request, body, tokens, chat, prompt))

    async def _tool_answer(self, request: web.Request, body: dict[str, Any], answer: tool_replies.ToolAnswer,
                           prompt: str) -> web.StreamResponse:
        """A scripted answer with tool calls, whole or as an SSE stream (testing/tool_replies.py)."""
        if self.config.latency_ms:
            await asyncio.sleep(self.config.latency_ms / 1000)
        if not body.get("stream"):
            return self._count(web.Response(body=tool_replies.completion_body(body, answer, prompt, self.requests),
                                            content_type="application/json"))
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        for i, event in enumerate(tool_replies.stream_events(body, answer, prompt, self.requests)):
            if self.config.stream_cut_after is not None and i >= self.config.stream_cut_after:
                if request.transport is not None:
                    request.transport.close()
                return self._count(resp)
            await resp.write(event)
        await resp.write_eof()
        return self._count(resp)

    def _check_media(self, body: dict[str, Any]) -> web.Response | None:
        """HTTP 400 for media this server cannot take (as vLLM answers); logs decoded parts when asked to."""
        cfg = self.config
        if not (cfg.inspect_media or cfg.echo_media or not cfg.vision) or not media_check.has_images(body):
            return None
        if not cfg.vision:
            return web.json_response({"error": {"message": f"{body.get('model')} is not a multimodal model",
                                                "type": "BadRequestError"}}, status=400)
        try:
            seen = media_check.inspect_parts(body)
        except media_check.MediaRejected as exc:
            return web.json_response({"error": {"message": str(exc), "type": "BadRequestError"}}, status=400)
        self.media_log.extend(seen)
        body["_media_seen"] = seen
        return None

    def _verbatim(self, body: dict[str, Any], texts: list[str], chat: bool, prompt: str) -> web.Response:
        """Scripted texts exactly as written (code keeps its newlines); a list is the n choices; stop strings cut."""
        stops = body.get("stop") or []
        stops = [stops] if isinstance(stops, str) else stops
        texts = texts * int(body.get("n") or 1) if len(texts) == 1 else texts
        cut = [min((t.index(x) for x in stops if x and x in t), default=len(t)) for t in texts]
        texts = [t[:c] for t, c in zip(texts, cut)]
        tokens = sum(len(t.split()) for t in texts)
        choices = [{"index": i, "finish_reason": "stop", **({"message": {"role": "assistant", "content": t}}
                                                            if chat else {"text": t})} for i, t in enumerate(texts)]
        return web.json_response({"id": f"cmpl-{self.requests}", "object": "chat.completion" if chat else
                                  "text_completion", "created": int(time.time()), "model": body.get("model"),
                                  "choices": choices, "usage": self._usage(prompt, ["t"] * tokens)})

    def _count(self, response: web.StreamResponse) -> web.StreamResponse:
        self.status_counts[response.status] += 1
        return response

    def _usage(self, prompt: str, tokens: list[str]) -> dict[str, int]:
        p = len(prompt.split())
        return {"prompt_tokens": p, "completion_tokens": len(tokens), "total_tokens": p + len(tokens)}

    async def _complete(self, request: web.Request, body: dict[str, Any], tokens: list[str], chat: bool,
                        prompt: str) -> web.StreamResponse:
        text = " ".join(tokens)
        n = int(body.get("n") or 1)
        want_lp = bool(body.get("logprobs"))
        top = int(body.get("top_logprobs") or (body.get("logprobs") if not chat and want_lp else 1) or 1)
        lp = self.logprobs_for(tokens, chat, top) if want_lp else None
        usage = self._usage(prompt, tokens * n)
        if not chat and body.get("echo") and self.config.echo_prompt:
            generated = [" " + t for t in tokens]  # a generated token carries its leading space, as in BPE
            text = prompt + "".join(generated)
            lp = echo_logprobs(prompt, generated, self.config.token_logprob,
                               self.config.alt_logprob) if want_lp else None
            p = len(tokenize(prompt))
            usage = {"prompt_tokens": p, "completion_tokens": len(tokens) * n, "total_tokens": p + len(tokens) * n}
        finish = "length" if body.get("max_tokens") is not None and len(tokens) >= body["max_tokens"] else "stop"
        if chat:
            choices = [{"index": i, "message": {"role": "assistant", "content": text}, "logprobs": lp,
                        "finish_reason": finish} for i in range(n)]
        else:
            choices = [{"index": i, "text": text, "logprobs": lp, "finish_reason": finish} for i in range(n)]
        payload = orjson.dumps({"id": f"cmpl-{self.requests}", "object": "chat.completion" if chat else "text_completion",
                                "created": int(time.time()), "model": body.get("model", "test-model"),
                                "choices": choices, "usage": usage})
        if not self.config.slow_body_ms:
            return web.Response(body=payload, content_type="application/json")
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.content_length = len(payload)
        await resp.prepare(request)
        step = max(1, len(payload) // 10)
        for i in range(0, len(payload), step):  # headers first, then a trickle
            await asyncio.sleep(self.config.slow_body_ms / 1000 / 10)
            await resp.write(payload[i:i + step])
        await resp.write_eof()
        return resp

    async def _stream(self, request: web.Request, body: dict[str, Any], tokens: list[str],
                      chat: bool) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        ident, model = f"cmpl-{self.requests}", body.get("model", "test-model")

        def chunk(piece: str | None, finish: str | None = None) -> bytes:
            if chat:
                delta = {} if piece is None else {"content": piece}
                choice = {"index": 0, "delta": delta, "finish_reason": finish}
                obj = "chat.completion.chunk"
            else:
                choice = {"index": 0, "text": piece or "", "finish_reason": finish}
                obj = "text_completion"
            data = {"id": ident, "object": obj, "created": int(time.time()), "model": model, "choices": [choice]}
            return b"data: " + orjson.dumps(data) + b"\n\n"

        start = time.perf_counter()
        for i, token in enumerate(tokens):
            # Delays are scheduled against the request start, so the observed TTFT/ITL do not drift.
            due = (self.config.ttft_ms + i * self.config.itl_ms) / 1000
            delay = due - (time.perf_counter() - start)
            if delay > 0:
                await asyncio.sleep(delay)
            if self.config.stream_cut_after is not None and i >= self.config.stream_cut_after:
                if request.transport is not None:
                    request.transport.close()  # the stream ends early, as when a server crashes mid-reply
                return self._count(resp)
            await resp.write(chunk(token if i == 0 else " " + token))
        await resp.write(chunk(None, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = self._usage(self._prompt(body, chat), tokens)
            await resp.write(b"data: " + orjson.dumps({"id": ident, "object": "chat.completion.chunk", "model": model,
                                                       "choices": [], "usage": usage}) + b"\n\n")
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        self._count(resp)
        return resp

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, chat=True)

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, chat=False)

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _models(self, request: web.Request) -> web.Response:
        denied = self._unauthorized(request)
        if denied is not None:
            return denied
        return web.json_response({"object": "list", "data": [{"id": "test-model", "object": "model"}]})

    # -- lifecycle ---------------------------------------------------------------------------------
    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(text="<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>",
                            content_type="text/html")

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        if self.config.web_page:
            app.router.add_route("*", "/{tail:.*}", self._page)
            return app
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/health", self._health)
        native_routes.mount(self, app)
        return app

    async def start(self) -> str:
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port, backlog=4096)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://{self.config.host}:{port}/v1"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> OpenAITestServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


@contextlib.contextmanager
def run_server_in_thread(config: TestServerConfig | None = None) -> Iterator[OpenAITestServer]:
    """For synchronous callers: the server runs its own event loop in a daemon thread."""
    server = OpenAITestServer(config)
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@contextlib.contextmanager
def start_server_process(**options: Any) -> Iterator[tuple[subprocess.Popen, str]]:
    """Run the server in its own process (so it does not share the client's CPU time or event loop)."""
    args = [sys.executable, "-m", "gage_eval.testing.server"]
    for key, value in options.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("READY "):
        proc.kill()
        raise RuntimeError(f"test server did not start: {line!r}")
    try:
        yield proc, line.split(" ", 1)[1]
    finally:
        proc.terminate()
        proc.wait(10)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="OpenAI-compatible test server")
    for name, field in TestServerConfig.model_fields.items():
        if name in ("script", "echo_prompt", "token_logprob", "alt_logprob", "fail_prompts", "slow_prompts"):
            continue
        kind = int if name in ("agent_turns", "stream_cut_after") else \
            type(field.default) if field.default is not None else str
        ap.add_argument(f"--{name.replace('_', '-')}", type=kind, default=field.default)
    ap.add_argument("--answers", nargs="*", help="answers to cycle through instead of echoing")
    args = vars(ap.parse_args(argv))
    answers = args.pop("answers")
    config = TestServerConfig(**args, script=answers or None)

    async def serve() -> None:
        server = OpenAITestServer(config)
        print(f"READY {await server.start()}", flush=True)
        await asyncio.Event().wait()

    from gage_eval.engine import event_loop

    # uvloop (when installed) halves the server's per-request overhead, so its own latency stays out of
    # what clients measure.
    with contextlib.suppress(KeyboardInterrupt):
        event_loop.run(serve())


if __name__ == "__main__":
    main()
