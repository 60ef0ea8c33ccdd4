"""`litellm`: hosted providers through the litellm SDK's `acompletion` (extra `[litellm]`).

`model` is litellm's provider-prefixed name (`openai/gpt-4o-mini`, `anthropic/claude-...`,
`hosted_vllm/NAME` with `api_base`). The key comes, like openai_http's, from the environment variable named
by `api_key_env`, read at the CLI edge and handed over as a SecretStr; this module never reads the
environment for it and never logs it.

Retries are the project's (engine/model_call.py RetryPolicy): litellm's own (`num_retries`) and the
provider client's (`max_retries`) are set to 0 so that attempts do not multiply, and litellm's exceptions
are mapped to the same reason classes as HTTP backends: a provider's rate limit (429, with Retry-After when
the provider sends one), 5xx and timeouts are retryable; 401/403 name the key's variable.
"""
from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from pydantic import Field, SecretStr

from gage_eval.backends.base import Backend, BackendSettings, GenerationRequest, GenerationResponse
from gage_eval.backends.media_wire import has_media, wire_messages
from gage_eval.backends.openai_http import parse_retry_after
from gage_eval.backends.tool_calls import openai_tool_calls
from gage_eval.errors import BackendConnectionError, BackendError, BackendTimeout, ConfigError, HTTPStatusError
from gage_eval.registry import registry


class LiteLLMSettings(BackendSettings):
    model: str  # provider/name, as litellm spells it
    api_base: str | None = None
    api_key_env: str | None = None
    api_key: SecretStr | None = None  # filled by the runtime from api_key_env; never written anywhere
    timeout_s: float = Field(default=120.0, gt=0)
    generation: dict[str, Any] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)  # other acompletion arguments (api_version, ...)


def _litellm() -> Any:
    # The published model-cost map is fetched over the network at import unless told to use the bundled
    # copy: evaluation must not depend on (or wait for) that download.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm
    except ImportError:
        raise ConfigError("the litellm backend needs the litellm package", path="type",
                          fix="pip install 'gage-eval[litellm]'") from None
    litellm.suppress_debug_info = True
    litellm.telemetry = False
    return litellm


@registry.asset("backends", "litellm", desc="hosted providers through the litellm SDK (openai/, anthropic/, "
                "hosted_vllm/...)", tags=("http", "remote"))
class LiteLLMBackend(Backend):
    Settings = LiteLLMSettings
    type_name = "litellm"
    capabilities = frozenset({"generate", "tools", "images"})

    def __init__(self, settings: LiteLLMSettings) -> None:
        super().__init__(settings)
        self.s = settings
        self._lib = _litellm()

    def identity(self) -> dict[str, Any]:
        return {"type": self.type_name, "model": self.s.model, "api_base": self.s.api_base,
                "generation": self.s.generation, "extra": self.s.extra}

    def capability_fix(self, capability: str) -> str:
        if capability == "loglikelihood":
            return ("litellm's chat API returns no prompt log-probabilities: serve the model with vLLM and use "
                    "openai_http with api: completions, or the hf backend on a local checkpoint")
        return super().capability_fix(capability)

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        start = time.perf_counter()
        params = {**self.s.generation, **{k: v for k, v in request.params.items() if v is not None}}
        messages = request.messages or [{"role": "user", "content": request.prompt or ""}]
        if has_media(messages):  # local files as data URLs, gage's media facts left out (backends/media_wire.py)
            messages = await asyncio.to_thread(wire_messages, messages)
        kwargs: dict[str, Any] = {**self.s.extra, **params, "model": self.s.model, "messages": messages,
                                  "timeout": self.s.timeout_s, "num_retries": 0, "max_retries": 0}
        if request.tools:
            kwargs["tools"] = request.tools
            if request.tool_choice is not None:
                kwargs["tool_choice"] = request.tool_choice
        if self.s.api_base:
            kwargs["api_base"] = self.s.api_base
        if self.s.api_key is not None:
            kwargs["api_key"] = self.s.api_key.get_secret_value()
        try:
            reply = await self._lib.acompletion(**kwargs)
        except Exception as exc:  # litellm raises its own classes (openai-style); map every one of them
            raise self._error(exc) from None
        texts = [(c.message.content or "") for c in reply.choices]
        first = reply.choices[0] if reply.choices else None
        raw_usage = getattr(reply, "usage", None)
        usage = {k: int(getattr(raw_usage, k, 0) or 0) for k in ("prompt_tokens", "completion_tokens")}
        calls = openai_tool_calls(_plain(getattr(first.message, "tool_calls", None)) if first is not None else None)
        return GenerationResponse(text=texts[0] if texts else "", texts=texts, usage=usage, tool_calls=calls,
                                  finish_reason=getattr(first, "finish_reason", None),
                                  logprobs=_plain(getattr(first, "logprobs", None)),
                                  latency_ms=(time.perf_counter() - start) * 1000)

    def _error(self, exc: Exception) -> BackendError:
        lib = self._lib
        where = f"{self.s.model}" + (f" at {self.s.api_base}" if self.s.api_base else "")
        # The provider's message, without anything that could echo the key back.
        message = str(getattr(exc, "message", None) or exc)[:300]
        if self.s.api_key is not None:
            message = message.replace(self.s.api_key.get_secret_value(), "***")
        status = getattr(exc, "status_code", None)
        if isinstance(exc, lib.Timeout):
            return BackendTimeout(f"timeout after {self.s.timeout_s:g} s calling {where}", retryable=True,
                                  fix="raise timeout_s or lower the concurrency")
        if isinstance(exc, lib.RateLimitError) or status == 429:
            return HTTPStatusError(f"HTTP 429 (rate limited) from {where}: {message}", status=429, retryable=True,
                                   retry_after=_retry_after(exc),
                                   fix="lower the concurrency, or raise the provider's rate limit")
        if (isinstance(exc, lib.APIConnectionError) and not isinstance(status, int)) or _connection_failed(exc):
            return BackendConnectionError(f"cannot reach {where}: {message}", retryable=True,
                                          fix="check api_base and the network path to the provider")
        if status in (401, 403) or isinstance(exc, lib.AuthenticationError):
            hint = f"environment variable {self.s.api_key_env}" if self.s.api_key_env else "api_key_env (not set)"
            return HTTPStatusError(f"HTTP {status or 401} from {where}: {message} — check the API key in {hint}",
                                   status=status or 401, fix=f"set a valid key in {hint}")
        if isinstance(status, int):
            retryable = status in (408, 409) or status >= 500
            return HTTPStatusError(f"HTTP {status} from {where}: {message}", status=status, retryable=retryable,
                                   fix="the provider is failing: retry later" if retryable else
                                   "check the model name and the generation parameters the provider rejects")
        return BackendError(f"{where}: {type(exc).__name__}: {message}", retryable=False)


def _connection_failed(exc: BaseException) -> bool:
    """litellm reports a refused connection as an InternalServerError (status 500): look at its causes."""
    seen: BaseException | None = exc.__cause__ or exc.__context__
    while seen is not None:
        if type(seen).__name__ in ("APIConnectionError", "ConnectError", "ConnectTimeout"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _retry_after(exc: Exception) -> float | None:
    headers = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        headers = getattr(getattr(exc, "response", None), "headers", None)
    try:
        return parse_retry_after(headers.get("retry-after")) if headers is not None else None
    except AttributeError:
        return None


def _plain(value: Any) -> Any:
    """litellm's pydantic objects as plain JSON data (samples are written as JSON)."""
    if value is None:
        return None
    if isinstance(value, list):
        return [_plain(v) for v in value]
    dump = getattr(value, "model_dump", None)
    return dump() if callable(dump) else value
