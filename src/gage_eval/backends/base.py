"""Backend protocol: async model I/O with typed settings and a stable identity for caching."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from gage_eval.config.loading import validation_to_config_error
from gage_eval.errors import ConfigError


@dataclass(slots=True)
class GenerationRequest:
    messages: list[dict[str, Any]] = field(default_factory=list)
    prompt: str | None = None  # used by completion-style endpoints / models
    params: dict[str, Any] = field(default_factory=dict)  # max_tokens, temperature, top_p, stop, n, seed, logprobs
    # OpenAI `tools` format: [{"type": "function", "function": {"name", "description", "parameters"}}].
    # Messages may then hold assistant turns with `tool_calls` and `role: "tool"` turns with `tool_call_id`.
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None  # "auto" | "none" | "required" | {"type": "function", ...}

    def cache_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"messages": self.messages, "prompt": self.prompt, "params": self.params}
        # Only when set, so that the keys of requests without tools (and existing caches) stay the same.
        if self.tools is not None:
            payload["tools"] = self.tools
        if self.tool_choice is not None:
            payload["tool_choice"] = self.tool_choice
        return payload


@dataclass(slots=True)
class GenerationResponse:
    text: str
    texts: list[str] = field(default_factory=list)  # all n choices; texts[0] == text
    usage: dict[str, int] = field(default_factory=dict)
    finish_reason: str | None = None
    logprobs: Any = None
    latency_ms: float | None = None
    cached: bool = False
    # What the model was given: "plain" (the prompt text as is) or "chat_template" (the messages rendered by
    # the model's chat template, locally or by the server); None when the backend cannot tell.
    prompt_format: str | None = None
    # The first choice's tool calls, each {"id", "name", "arguments": dict | None, "raw_arguments": str,
    # "error": str | None} (see backends/tool_calls.py: arguments None and error set when they do not parse).
    tool_calls: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "texts": self.texts, "usage": self.usage, "finish_reason": self.finish_reason,
                "logprobs": self.logprobs, "latency_ms": self.latency_ms, "prompt_format": self.prompt_format,
                "tool_calls": self.tool_calls}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationResponse:
        return cls(**data)


def messages_text(messages: list[dict[str, Any]]) -> str:
    """Chat turns as one completion prompt (text parts only, turns separated by a blank line)."""
    parts = []
    for m in messages:
        c = m.get("content")
        parts.append(c if isinstance(c, str) else "".join(p.get("text", "") for p in c or []))
    return "\n\n".join(parts)


class BackendSettings(BaseModel):
    """Base of every backend's typed settings; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


# What a backend type can do. Declared so that a config asking for something its backend cannot do (a
# log-likelihood benchmark on a chat endpoint) fails at validation, before any sample is sent.
CAPABILITIES = ("generate", "loglikelihood", "stream", "tools", "images")


class Backend:
    """Subclass, set `Settings` and `capabilities`, implement `generate` (and `loglikelihood` when declared).
    Sync work belongs in `asyncio.to_thread`."""

    Settings: ClassVar[type[BackendSettings]] = BackendSettings
    type_name: ClassVar[str] = "backend"
    capabilities: ClassVar[frozenset[str]] = frozenset({"generate"})

    def __init__(self, settings: BackendSettings) -> None:
        self.settings = settings

    @classmethod
    def from_config(cls, config: dict[str, Any], config_path: str | None = None, file: str | None = None) -> Backend:
        try:
            settings = cls.Settings.model_validate(config)
        except ValidationError as exc:
            err = validation_to_config_error(exc, file, cls.Settings)
            err.path = f"{config_path}.{err.path}" if config_path and err.path else (config_path or err.path)
            raise err from None
        return cls(settings)

    def supports(self) -> frozenset[str]:
        """This instance's capabilities; override when they depend on settings (openai_http's `api`)."""
        return self.capabilities

    def kind(self) -> str:
        """The type, and the setting that decides its capabilities where one does, for error messages."""
        return f"type {self.type_name}"

    def capability_fix(self, capability: str) -> str:
        """How to get `capability` when this backend lacks it; overridden where a setting turns it on."""
        if capability == "tools":
            return ("use a backend that takes tool definitions (openai_http with api: chat, litellm, hf), or set "
                    "tool_doc_format: prompt on the toolchain (tools documented in the prompt, calls read from "
                    "the model's text)")
        return f"use a backend type that supports {capability} (`gage list backends` shows each type's capabilities)"

    def identity(self) -> dict[str, Any]:
        """What distinguishes this backend's answers, for the response cache (never secrets)."""
        return {"type": self.type_name, **self.settings.model_dump(exclude={"api_key_env"}, mode="json")}

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        raise NotImplementedError

    async def loglikelihood(self, context: str | list[dict[str, Any]], continuations: list[str]
                            ) -> list[tuple[float, bool]]:
        """(sum of log-probabilities, is_greedy) per continuation. A list context is chat messages, to be
        rendered by the model's chat template (lm-eval's --apply_chat_template); backends that cannot
        render it raise."""
        raise NotImplementedError(f"backend '{self.type_name}' does not support loglikelihood scoring")

    async def preflight(self) -> list[str]:
        """Check, before any sample is sent, that the backend can serve: raise the BackendError of a fault that
        would fail every sample (nothing listens, wrong key); return warnings about lesser ones."""
        return []

    async def aclose(self) -> None:
        return None

    async def __aenter__(self) -> Backend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def require_capability(backend: Backend, capability: str, backend_id: str, path: str, why: str) -> None:
    """ConfigError naming the backend, its type, what it lacks and the fix, unless it supports `capability`."""
    have = backend.supports()
    if capability in have:
        return
    raise ConfigError(f"backend '{backend_id}' ({backend.kind()}) does not support {capability}, which "
                      f"{why} needs; it supports: {', '.join(c for c in CAPABILITIES if c in have) or 'nothing'}",
                      path=path, fix=backend.capability_fix(capability))


async def sleep_ms(ms: float) -> None:
    if ms > 0:
        await asyncio.sleep(ms / 1000)
