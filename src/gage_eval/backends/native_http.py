"""Shared transport of the backends that speak a serving engine's native API (`sglang`, `tgi`).

JSON POSTs and `data:` event streams over one pooled aiohttp session, HTTP failures mapped to the same
reason classes as `openai_http` (so retries, the failure table and the pre-flight read them alike), and the
request fields every native API needs: a plain-text prompt, stop strings, a normalised finish reason.
"""
from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from gage_eval.backends.base import Backend, GenerationRequest, messages_text
from gage_eval.backends.http_probe import (
    PREFLIGHT_CONNECT_S,
    PREFLIGHT_TOTAL_S,
    decode_json,
    error_from_exception,
    error_from_reply,
)
from gage_eval.backends.openai_http import HTTPClientSettings, parse_retry_after
from gage_eval.backends.sse import sse_json
from gage_eval.errors import BackendError, BackendTimeout, MalformedReply, NonJSONReply


class NativeHTTPSettings(HTTPClientSettings):
    base_url: str  # the server's root, e.g. http://127.0.0.1:30000 (no /v1)
    model: str = ""  # a label for the cache identity and reports; the server serves one model
    stream: bool = False  # generate over the streaming route (same result; exercises the server's streaming)


def prompt_text(request: GenerationRequest) -> str:
    """Native /generate routes take raw text: chat turns are joined without a chat template (serve chat
    models through openai_http against the same server's /v1 routes to get its template)."""
    return request.prompt if request.prompt is not None else messages_text(request.messages)


def stop_list(params: dict[str, Any]) -> list[str]:
    stop = params.get("stop") or []
    return [stop] if isinstance(stop, str) else [s for s in stop if s]


def cut_at_stop(text: str, stops: list[str]) -> str:
    """The text before the first stop string, as OpenAI-compatible servers return it."""
    return text[: min((text.index(s) for s in stops if s in text), default=len(text))]


class NativeHTTPBackend(Backend):
    """Transport for a native-API backend; subclasses build the bodies and read the replies."""

    Settings = NativeHTTPSettings
    api_name = "native"  # the engine's name, for error messages

    def __init__(self, settings: NativeHTTPSettings) -> None:
        super().__init__(settings)
        self.s = settings
        self.root = settings.base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self.scoring_stats: Counter[str] = Counter()

    def identity(self) -> dict[str, Any]:
        return {"type": self.type_name, "base_url": self.s.base_url, "model": self.s.model,
                "generation": self.s.generation}

    def _headers(self) -> dict[str, str]:
        headers = dict(self.s.headers)
        if self.s.api_key is not None:
            headers["Authorization"] = f"Bearer {self.s.api_key.get_secret_value()}"
        return headers

    def _session_for_loop(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.s.max_connections, keepalive_timeout=60),
                timeout=aiohttp.ClientTimeout(total=self.s.timeout_s, sock_connect=self.s.connect_timeout_s),
                headers={"Content-Type": "application/json", **self._headers()})
        return self._session

    def _key_hint(self) -> str:
        return f"environment variable {self.s.api_key_env}" if self.s.api_key_env else "api_key_env (not set)"

    def _reply_error(self, status: int, raw: bytes, url: str, retry_after: float | None = None) -> BackendError:
        err = error_from_reply(status, raw, url, retry_after=retry_after, key_hint=self._key_hint())
        if isinstance(err, NonJSONReply) or status == 404:
            err.fix = (f"base_url must be the root of a {self.api_name} server (e.g. http://127.0.0.1:30000, "
                       f"without /v1), which serves POST /generate")
        return err

    def malformed(self, url: str, problem: str) -> MalformedReply:
        return MalformedReply(f"{url} returned a reply that is not {self.api_name}'s /generate shape: {problem}",
                              status=200, fix=f"point base_url at a {self.api_name} server's root")

    async def post(self, path: str, body: dict[str, Any]) -> tuple[Any, str]:
        """POST JSON; the decoded reply and the URL, or a BackendError of its class."""
        url = f"{self.root}{path}"
        try:
            async with self._session_for_loop().post(url, data=orjson.dumps(body)) as resp:
                raw = await resp.read()
                status, retry_after = resp.status, parse_retry_after(resp.headers.get("Retry-After"))
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            raise error_from_exception(exc, url, self.s.timeout_s) from None
        data = decode_json(raw)
        if status != 200 or data is None:
            raise self._reply_error(status, raw, url, retry_after)
        return data, url

    async def events(self, path: str, body: dict[str, Any], *, done_marker: bool = False
                     ) -> AsyncIterator[dict[str, Any]]:
        """The JSON objects of a `data:` event stream; an error event raises. With `done_marker`, a stream that
        ends without `data: [DONE]` was cut short (a crashed server) and raises too."""
        url = f"{self.root}{path}"
        try:
            async with self._session_for_loop().post(url, data=orjson.dumps(body)) as resp:
                if resp.status != 200:
                    raw = await resp.read()
                    raise self._reply_error(resp.status, raw, url, parse_retry_after(resp.headers.get("Retry-After")))
                async for event in sse_json(resp, url, lambda problem: self.malformed(url, problem),
                                            done_marker=done_marker):
                    yield event
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            raise error_from_exception(exc, url, self.s.timeout_s) from None

    async def preflight(self) -> list[str]:
        """GET /health before any sample: nothing listening, or a wrong key, stops the run at once."""
        url = f"{self.root}/health"
        timeout = aiohttp.ClientTimeout(total=PREFLIGHT_TOTAL_S, sock_connect=PREFLIGHT_CONNECT_S)
        try:
            async with aiohttp.ClientSession(headers=self._headers(), timeout=timeout) as session:
                async with session.get(url) as resp:
                    status, raw = resp.status, await resp.read()
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            err = error_from_exception(exc, url, PREFLIGHT_TOTAL_S)
            if isinstance(err, BackendTimeout) and not err.during_connect:  # reachable but slow: may still serve
                return [f"pre-flight: {err.message}; continuing"]
            raise err from None
        if status in (401, 403):
            raise self._reply_error(status, raw, url)
        if status != 200:
            return [f"pre-flight: GET {url} answered HTTP {status}; continuing, the run retries transient faults"]
        return []

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
