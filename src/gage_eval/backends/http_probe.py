"""HTTP failures as reason classes, and the pre-flight probe of an OpenAI-compatible endpoint.

Shared by the `openai_http` backend (every request, and its pre-flight) and `gage perf` (its pre-flight),
so that a dead server, a wrong key or a web page where an API should be read the same everywhere.
"""
from __future__ import annotations

import asyncio
import errno
from dataclasses import dataclass, field

import aiohttp
import orjson

from gage_eval.errors import (
    BackendConnectionError,
    BackendError,
    BackendTimeout,
    ConnectionRefused,
    HTTPStatusError,
    MalformedReply,
    NonJSONReply,
)

# A dead endpoint must stop a run within seconds: the probe's own budget, whatever the request timeout.
PREFLIGHT_CONNECT_S = 3.0
PREFLIGHT_TOTAL_S = 4.0


def api_root_of(url: str) -> str:
    """`http://h:8000/v1/chat/completions` -> `http://h:8000/v1` (perf takes the full endpoint URL)."""
    url = url.rstrip("/")
    for suffix in ("/chat/completions", "/completions"):
        if url.endswith(suffix):
            return url[: -len(suffix)]
    return url


def error_from_exception(exc: BaseException, url: str, timeout_s: float) -> BackendError:
    """An aiohttp / asyncio exception as its reason class; transport faults are retryable."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = getattr(exc, "os_error", None)
        if isinstance(os_error, ConnectionRefusedError) or getattr(os_error, "errno", None) == errno.ECONNREFUSED:
            return ConnectionRefused(f"connection refused by {exc.host}:{exc.port} ({url})", retryable=True,
                                     fix="start the model server, or correct the host and port in base_url")
        return BackendConnectionError(f"cannot connect to {exc.host}:{exc.port} ({url}): {os_error or exc}",
                                      retryable=True, fix="check the host name and the network path to the server")
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        err = BackendTimeout(f"no connection to {url} within the connect timeout", retryable=True,
                             fix="check that the host is up and reachable (a firewall may drop the packets)")
        err.during_connect = True
        return err
    if isinstance(exc, asyncio.TimeoutError):
        return BackendTimeout(f"timeout after {timeout_s:g} s calling {url}", retryable=True,
                              fix="raise timeout_s (--timeout) or lower the concurrency; the server is slow")
    return BackendConnectionError(f"connection error calling {url}: {type(exc).__name__}: {exc}", retryable=True,
                                  fix="the server closed the connection; check its logs")


def decode_json(raw: bytes) -> object:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def error_from_reply(status: int, raw: bytes, url: str, *, retry_after: float | None = None,
                     key_hint: str = "the API key") -> BackendError:
    """A reply that is not a usable 200 JSON object: HTTP status class, or non-JSON / malformed reply."""
    data = decode_json(raw)
    if status in (401, 403):
        detail = _detail(data, raw)
        return HTTPStatusError(f"HTTP {status} from {url}: {detail} — check the API key in {key_hint}",
                               status=status, fix=f"set a valid key in {key_hint} (and pass it with api_key_env / "
                               "--api-key-env); the key itself is never written to the run directory")
    retryable = status in (408, 429) or status >= 500
    if not isinstance(data, dict) and not retryable:  # a proxy's HTML 502 page is still a transient fault
        kind = "a web page" if raw.lstrip()[:1] == b"<" else "text that is not a JSON object"
        return NonJSONReply(f"{url} answered HTTP {status} with {kind}: {raw[:120]!r}", status=status,
                            fix="base_url must be the API root of an OpenAI-compatible server, usually ending in /v1 "
                            "(e.g. http://127.0.0.1:8000/v1)")
    if status == 200:
        return MalformedReply(f"{url} returned a non-OpenAI reply: {raw[:200]!r}", status=status,
                              fix="point base_url at an OpenAI-compatible server and set api: chat or completions")
    fix = ("the server is failing or overloaded: check its logs, or lower the concurrency" if retryable else
           "check base_url, the model name and api (chat | completions)" if status == 404 else
           "check the request parameters the server rejects (generation settings, model name)")
    return HTTPStatusError(f"HTTP {status} from {url}: {_detail(data, raw)}", retryable=retryable,
                           retry_after=retry_after, status=status, fix=fix)


def _detail(data: object, raw: bytes) -> str:
    if isinstance(data, dict):
        detail = data.get("error", data.get("detail", data))
        detail = detail.get("message", detail) if isinstance(detail, dict) else detail
        return str(detail)[:300]
    return raw[:200].decode("utf-8", "replace")


@dataclass(frozen=True)
class ProbeTarget:
    api_root: str  # e.g. http://127.0.0.1:8000/v1
    post_url: str  # the chat/completions or completions URL requests go to
    model: str
    chat: bool
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # may carry the key: never logged
    key_hint: str = "the API key"


def _stops_run(err: BackendError, *, after_fallback: bool) -> bool:
    """Faults that would fail every sample stop the run before it starts. A busy server (429, 5xx, a slow
    reply) may still serve the run, so those are left to its retries; a 404 on /models only means the
    server does not list models, on the real endpoint that the URL is wrong."""
    if not after_fallback and err.status in (404, 405):
        return False  # whatever the body: servers without a model listing answer a real request
    if isinstance(err, BackendTimeout):
        return err.during_connect
    if isinstance(err, (BackendConnectionError, NonJSONReply)):
        return True
    return err.status in (401, 403) or (after_fallback and err.status == 404)


async def probe_openai(target: ProbeTarget) -> list[str]:
    """Connect, then `GET /models` (or, where that is not served, a one-token request).

    Raises the BackendError of a fault that would fail every sample; returns warnings about the rest.
    """
    timeout = aiohttp.ClientTimeout(total=PREFLIGHT_TOTAL_S, sock_connect=PREFLIGHT_CONNECT_S)
    async with aiohttp.ClientSession(headers=target.headers, timeout=timeout) as session:
        models_url = f"{target.api_root.rstrip('/')}/models"
        raw, err = await _call(session.get(models_url), models_url, target.key_hint)
        if err is None:
            return _model_warning(decode_json(raw), target)
        if _stops_run(err, after_fallback=False):
            raise err
        if err.status is None:  # no reply in time: reachable but slow
            return [f"pre-flight: {err.message}; continuing"]
        # /models not served (404, 405...) or failing: one real request of one token instead.
        body: dict[str, object] = {"model": target.model, "max_tokens": 1}
        body.update({"messages": [{"role": "user", "content": "ping"}]} if target.chat else {"prompt": "ping"})
        post = session.post(target.post_url, data=orjson.dumps(body), headers={"Content-Type": "application/json"})
        _, err = await _call(post, target.post_url, target.key_hint)
        if err is None:
            return []
        if _stops_run(err, after_fallback=True):
            raise err
        return [f"pre-flight request to {target.post_url} failed ({err.reason}: {err.message}); continuing, "
                "the run retries transient faults"]


async def _call(request: object, url: str, key_hint: str) -> tuple[bytes, BackendError | None]:
    try:
        async with request as resp:  # type: ignore[attr-defined]
            raw = await resp.read()
            status = resp.status
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        return b"", error_from_exception(exc, url, PREFLIGHT_TOTAL_S)
    if status == 200 and isinstance(decode_json(raw), dict):
        return raw, None
    return raw, error_from_reply(status, raw, url, key_hint=key_hint)


def _model_warning(data: object, target: ProbeTarget) -> list[str]:
    served = [m.get("id") for m in (data.get("data") or []) if isinstance(m, dict)] if isinstance(data, dict) else []
    if served and target.model not in served:
        return [f"model '{target.model}' is not among the models {target.api_root} serves ({', '.join(map(str, served[:10]))})"]
    return []
