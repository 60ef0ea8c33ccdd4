"""`gage serve`: an OpenAI-compatible HTTP server over the `hf` backend, for CPU machines and tests.

Routes as vLLM serves them: `/v1/chat/completions`, `/v1/completions` (with `echo: true` + `logprobs` the
prompt's token log-probabilities, which log-likelihood scoring reads), SSE streaming with usage, `/health`
and `/v1/models`. Every request becomes a call of the hf backend, whose worker batches the calls that wait
together (dynamic batching), so concurrent clients share forward passes. The model is loaded before the
socket is opened: `/health` answering means the server can serve.

Streaming sends the finished text as one chunk: the hf backend generates a batch at once, not token by token.
"""
from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import uuid
from typing import Any

import orjson
from aiohttp import web

from gage_eval.backends.base import GenerationRequest, GenerationResponse
from gage_eval.backends.hf import HFBackend
from gage_eval.errors import BackendError

_PARAMS = ("max_tokens", "temperature", "top_p", "top_k", "stop", "n", "seed", "repetition_penalty")


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _error(message: str, status: int) -> web.Response:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return web.json_response({"error": {"message": message, "type": kind, "code": status}}, status=status,
                             dumps=lambda o: orjson.dumps(o).decode())


def _json(data: dict[str, Any]) -> web.Response:
    return web.Response(body=orjson.dumps(data), content_type="application/json")


class GageOpenAIServer:
    def __init__(self, backend: HFBackend, served_model_name: str) -> None:
        self.backend = backend
        self.name = served_model_name

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/health", self._health)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/completions", self._route(self._completions))
        app.router.add_post("/v1/chat/completions", self._route(self._chat))
        return app

    async def _health(self, request: web.Request) -> web.Response:
        return _json({"status": "ok"})

    async def _models(self, request: web.Request) -> web.Response:
        max_len = getattr(self.backend._runtime, "max_length", None)
        return _json({"object": "list", "data": [{"id": self.name, "object": "model", "owned_by": "gage",
                                                  "max_model_len": max_len}]})

    def _route(self, handler: Any) -> Any:
        async def route(request: web.Request) -> web.StreamResponse:
            try:
                body = orjson.loads(await request.read())
                if not isinstance(body, dict):
                    raise BadRequest("the request body must be a JSON object")
                model = body.get("model")
                if model is not None and model != self.name:
                    raise BadRequest(f"The model `{model}` does not exist; this server serves `{self.name}`", 404)
                return await handler(request, body)
            except orjson.JSONDecodeError:
                return _error("the request body is not valid JSON", 400)
            except BadRequest as exc:
                return _error(str(exc), exc.status)
            except BackendError as exc:
                return _error(exc.message if hasattr(exc, "message") else str(exc), 500 if exc.retryable else 400)
        return route

    @staticmethod
    def _params(body: dict[str, Any]) -> dict[str, Any]:
        return {k: body[k] for k in _PARAMS if body.get(k) is not None}

    async def _completions(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
            prompt = prompt[0]
        if not isinstance(prompt, str):
            raise BadRequest("prompt must be a string (token-id and batched prompts are not supported)")
        logprobs = body.get("logprobs")
        if body.get("echo") and logprobs:
            return await self._echo(body, prompt, int(logprobs))
        if logprobs:
            raise BadRequest("logprobs of generated tokens are not supported by gage serve; only prompt "
                             "logprobs (echo: true, max_tokens: 0 or 1)")
        out = await self.backend.generate(GenerationRequest(prompt=prompt, params=self._params(body)))
        if body.get("echo"):
            out.texts = [prompt + t for t in out.texts]
        return await self._reply(request, body, out, chat=False)

    async def _echo(self, body: dict[str, Any], prompt: str, top: int) -> web.Response:
        max_tokens = int(body.get("max_tokens") if body.get("max_tokens") is not None else 16)
        if max_tokens > 1:
            raise BadRequest("echo with logprobs takes max_tokens 0 or 1 in gage serve (prompt scoring)")
        result = await self.backend.prompt_logprobs(prompt, top=top, max_tokens=max_tokens)
        generated = "".join(text for text, _, _ in result.generated)
        n_prompt, n_gen = len(result.prompt.ids), len(result.generated)
        choice = {"index": 0, "text": prompt + generated, "logprobs": result.as_openai(prompt),
                  "finish_reason": "length"}
        return _json({"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()),
                      "model": self.name, "choices": [choice],
                      "usage": {"prompt_tokens": n_prompt, "completion_tokens": n_gen,
                                "total_tokens": n_prompt + n_gen}})

    async def _chat(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise BadRequest("messages must be a non-empty list")
        if body.get("logprobs"):
            raise BadRequest("logprobs are not supported on chat completions by gage serve")
        if body.get("max_completion_tokens") is not None and body.get("max_tokens") is None:
            body["max_tokens"] = body["max_completion_tokens"]
        out = await self.backend.generate(GenerationRequest(messages=messages, params=self._params(body)))
        return await self._reply(request, body, out, chat=True)

    async def _reply(self, request: web.Request, body: dict[str, Any], out: GenerationResponse, chat: bool
                     ) -> web.StreamResponse:
        texts = out.texts or [out.text]
        rid = f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}"
        head = {"id": rid, "created": int(time.time()), "model": self.name}
        if body.get("stream"):
            return await self._stream(request, body, out, texts, chat, head)
        choices = [{"index": i, "message": {"role": "assistant", "content": t}, "logprobs": None,
                    "finish_reason": out.finish_reason} if chat else
                   {"index": i, "text": t, "logprobs": None, "finish_reason": out.finish_reason}
                   for i, t in enumerate(texts)]
        return _json({**head, "object": "chat.completion" if chat else "text_completion", "choices": choices,
                      "usage": out.usage})

    async def _stream(self, request: web.Request, body: dict[str, Any], out: GenerationResponse, texts: list[str],
                      chat: bool, head: dict[str, Any]) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        kind = "chat.completion.chunk" if chat else "text_completion"

        def event(choices: list[dict[str, Any]], usage: Any = None) -> bytes:
            data = {**head, "object": kind, "choices": choices, **({"usage": usage} if usage is not None else {})}
            return b"data: " + orjson.dumps(data) + b"\n\n"

        for i, text in enumerate(texts):
            if chat:
                await resp.write(event([{"index": i, "delta": {"role": "assistant", "content": ""},
                                         "finish_reason": None}]))
                await resp.write(event([{"index": i, "delta": {"content": text}, "finish_reason": None}]))
                await resp.write(event([{"index": i, "delta": {}, "finish_reason": out.finish_reason}]))
            else:
                await resp.write(event([{"index": i, "text": text, "finish_reason": None}]))
                await resp.write(event([{"index": i, "text": "", "finish_reason": out.finish_reason}]))
        if (body.get("stream_options") or {}).get("include_usage"):
            await resp.write(event([], out.usage))
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp


async def serve(backend: HFBackend, served_model_name: str, host: str, port: int,
                ready: asyncio.Event | None = None) -> None:
    """Load the model, listen, and serve until cancelled or SIGTERM / SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # The loop's own handlers: a managed server must stop on SIGTERM even when it inherited SIGINT ignored.
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    await asyncio.to_thread(backend.load)
    runner = web.AppRunner(GageOpenAIServer(backend, served_model_name).app(), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, backlog=1024).start()
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        await runner.cleanup()
        await backend.aclose()
