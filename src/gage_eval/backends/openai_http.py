"""`openai_http`: any OpenAI-compatible chat or completions endpoint (vLLM, SGLang, TGI, hosted APIs).

One pooled aiohttp session per backend, created inside the running loop. aiohttp rather than httpx:
at hundreds of concurrent requests on two cores httpx's pool costs several times more CPU per
request, and the client must not be the bottleneck of a throughput-bound evaluation.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import aiohttp
import orjson
from pydantic import Field, SecretStr

from gage_eval.backends.base import (
    Backend,
    BackendSettings,
    GenerationRequest,
    GenerationResponse,
    messages_text,
)
from gage_eval.backends.http_probe import (
    ProbeTarget,
    decode_json,
    error_from_exception,
    error_from_reply,
    probe_openai,
)
from gage_eval.backends.openai_chat import chat_response, read_stream, tool_fields
from gage_eval.backends.media_wire import has_media, wire_messages
from gage_eval.backends.openai_logprobs import needs_request, score_reply, scoring_body
from gage_eval.errors import BackendError, ConfigError
from gage_eval.registry import registry

_KNOWN = {"max_tokens", "temperature", "top_p", "stop", "n", "seed", "logprobs", "top_logprobs",
          "presence_penalty", "frequency_penalty"}


class HTTPClientSettings(BackendSettings):
    """What every HTTP backend's settings share (openai_http, sglang, tgi)."""

    api_key_env: str | None = None
    api_key: SecretStr | None = None  # filled by the runtime from api_key_env; never written anywhere
    timeout_s: float = Field(default=120.0, gt=0)
    connect_timeout_s: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=256, ge=1)
    generation: dict[str, Any] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)


class OpenAIHTTPSettings(HTTPClientSettings):
    base_url: str
    model: str
    api: Literal["chat", "completions"] = "chat"
    stream: bool = False  # chat: read the reply as a server-sent event stream (text and tool calls put together)
    # How media parts travel (backends/media_wire.py): images as data URLs or file:// URLs (a server on this
    # machine allowed to read them, e.g. vLLM --allowed-local-media-path); audio as input_audio or audio_url.
    media: Literal["data_url", "file_url"] = "data_url"
    audio: Literal["input_audio", "audio_url"] = "input_audio"


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


@registry.asset("backends", "openai_http", desc="OpenAI-compatible chat/completions endpoint over HTTP "
                "(loglikelihood with api: completions; tools, images, stream with api: chat)",
                tags=("http", "remote"))
class OpenAIHTTPBackend(Backend):
    Settings = OpenAIHTTPSettings
    type_name = "openai_http"
    capabilities = frozenset({"generate", "loglikelihood", "tools", "images", "stream"})  # per api: see supports()

    def __init__(self, settings: OpenAIHTTPSettings) -> None:
        super().__init__(settings)
        self.s = settings
        self._session: aiohttp.ClientSession | None = None
        root = settings.base_url.rstrip("/")
        self.url = f"{root}/chat/completions" if settings.api == "chat" else f"{root}/completions"
        # loglikelihood diagnostics: scored_continuations, straddling_tokens, offset_shifted_replies
        self.scoring_stats: Counter[str] = Counter()

    def supports(self) -> frozenset[str]:
        # Only /completions echoes the prompt's logprobs; only chat takes tool definitions and image parts.
        if self.s.api == "chat":
            return frozenset({"generate", "tools", "images", "stream"})
        return frozenset({"generate", "loglikelihood"})

    def kind(self) -> str:
        return f"type {self.type_name}, api: {self.s.api}"

    def capability_fix(self, capability: str) -> str:
        if capability == "loglikelihood":
            return ("set api: completions (--model-args api=completions, or an --api-url ending in /completions) "
                    "for a base model served by vLLM, or use the hf backend on a local checkpoint, or score "
                    "generatively (remove params.mode: loglikelihood / --eval-mode generate)")
        return super().capability_fix(capability)

    def identity(self) -> dict[str, Any]:
        # `stream` is left out: a streamed reply is the same answer, so it shares the cache entry.
        return {"type": self.type_name, "base_url": self.s.base_url, "model": self.s.model, "api": self.s.api,
                "generation": self.s.generation}

    def _session_for_loop(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            headers = {"Content-Type": "application/json", **self.s.headers}
            if self.s.api_key is not None:
                headers["Authorization"] = f"Bearer {self.s.api_key.get_secret_value()}"
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.s.max_connections, keepalive_timeout=60),
                timeout=aiohttp.ClientTimeout(total=self.s.timeout_s, sock_connect=self.s.connect_timeout_s),
                headers=headers, json_serialize=lambda o: orjson.dumps(o).decode())
        return self._session

    def _body(self, request: GenerationRequest) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.s.model, **self.s.generation}
        params = dict(request.params)
        if params.get("logprobs") and self.s.api == "completions" and params["logprobs"] is True:
            params["logprobs"] = int(params.pop("top_logprobs", 1) or 1)
        body.update({k: v for k, v in params.items() if v is not None})  # unknown keys pass through to the server
        if self.s.api == "chat":
            messages = request.messages or [{"role": "user", "content": request.prompt or ""}]
            body["messages"] = wire_messages(messages, self.s.media, self.s.audio) if has_media(messages) else messages
            body.update(tool_fields(request.tools, request.tool_choice))
            if self.s.stream:
                body["stream"] = True
                body["stream_options"] = {"include_usage": True}
        elif has_media(request.messages):
            raise BackendError(f"{self.url} is a completions endpoint, which takes text only, and this request has "
                               "images or audio", fix="set api: chat for a vision-language model")
        else:
            if request.tools:
                raise ConfigError("tool definitions need a chat endpoint, and this backend uses api: completions",
                                  path="config.api", fix="set api: chat for agent and tool-calling tasks")
            body["prompt"] = request.prompt if request.prompt is not None else messages_text(request.messages)
        return body

    async def _post(self, body: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        """POST a JSON body to self.url; the decoded reply (and its raw bytes), or a BackendError of its class."""
        try:
            # Bytes straight from orjson: a body with images is megabytes, not worth two more copies (str, re-encode).
            async with self._session_for_loop().post(self.url, data=orjson.dumps(body)) as resp:
                raw = await resp.read()
                status, retry_after = resp.status, parse_retry_after(resp.headers.get("Retry-After"))
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            raise error_from_exception(exc, self.url, self.s.timeout_s) from None
        data = decode_json(raw)
        if status != 200 or not isinstance(data, dict):
            raise error_from_reply(status, raw, self.url, retry_after=retry_after, key_hint=self._key_hint())
        return data, raw

    def _key_hint(self) -> str:
        return f"environment variable {self.s.api_key_env}" if self.s.api_key_env else "api_key_env (not set)"

    async def preflight(self) -> list[str]:
        """Connect and ask /v1/models (or send one token) before any sample: see backends/http_probe.py."""
        headers = dict(self.s.headers)
        if self.s.api_key is not None:
            headers["Authorization"] = f"Bearer {self.s.api_key.get_secret_value()}"
        return await probe_openai(ProbeTarget(api_root=self.s.base_url, post_url=self.url, model=self.s.model,
                                              chat=self.s.api == "chat", headers=headers, key_hint=self._key_hint()))

    async def _post_stream(self, body: dict[str, Any]) -> GenerationResponse:
        """POST a streaming chat request and put the event stream back together (openai_chat.py)."""
        try:
            async with self._session_for_loop().post(self.url, json=body) as resp:
                if resp.status != 200:
                    raw = await resp.read()
                    raise error_from_reply(resp.status, raw, self.url, key_hint=self._key_hint(),
                                           retry_after=parse_retry_after(resp.headers.get("Retry-After")))
                return await read_stream(resp, self.url)
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            raise error_from_exception(exc, self.url, self.s.timeout_s) from None

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        start = time.perf_counter()
        # Reading and base64-encoding media (megabytes) happens in a worker thread, off the event loop.
        body = await asyncio.to_thread(self._body, request) if has_media(request.messages) else self._body(request)
        if body.get("stream"):
            response = await self._post_stream(body)
            response.latency_ms = (time.perf_counter() - start) * 1000
            return response
        data, raw = await self._post(body)
        choices = data.get("choices")
        if not isinstance(choices, list):
            raise error_from_reply(200, raw, self.url)
        if self.s.api == "chat":
            response = chat_response(data, choices)
        else:
            texts = [c.get("text") or "" for c in choices]
            first = choices[0] if choices else {}
            response = GenerationResponse(text=texts[0] if texts else "", texts=texts, usage=data.get("usage") or {},
                                          finish_reason=first.get("finish_reason"), logprobs=first.get("logprobs"),
                                          prompt_format="plain")
        response.latency_ms = (time.perf_counter() - start) * 1000
        return response

    async def loglikelihood(self, context: str | list[dict[str, Any]], continuations: list[str]
                            ) -> list[tuple[float, bool]]:
        """lm-eval's local-completions scoring: one echo+logprobs request per continuation, sent concurrently
        (the connector's max_connections bounds them); see openai_logprobs.py for how tokens are assigned."""
        if not isinstance(context, str):
            raise ConfigError("chat-template log-likelihood scoring renders the template with the model's "
                              "tokenizer, which a served endpoint does not expose", path="config.api",
                              fix="score a local checkpoint (--model PATH) for --apply-chat-template, or drop it")
        if self.s.api != "completions":
            raise ConfigError(f"loglikelihood scoring needs a completions endpoint, and {self.url} is a chat "
                              "endpoint: chat endpoints do not return the prompt's log-probabilities",
                              path="config.api", fix="set api: completions (--model-args api=completions, or an "
                              "--api-url ending in /completions) for a base model served by vLLM, or score "
                              "generatively (--eval-mode generate)")

        async def score(continuation: str) -> tuple[float, bool]:
            if not needs_request(context, continuation):
                return 0.0, True
            data, _ = await self._post(scoring_body(self.s.model, context + continuation))
            return score_reply(data, context, continuation, self.url, self.scoring_stats)

        return list(await asyncio.gather(*(score(c) for c in continuations)))

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
