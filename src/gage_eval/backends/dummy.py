"""`dummy` backend: echo the prompt or cycle through fixed responses, with optional latency."""
from __future__ import annotations

import itertools
import time
from typing import Literal

from pydantic import Field

from gage_eval.backends.base import (
    Backend,
    BackendSettings,
    GenerationRequest,
    GenerationResponse,
    sleep_ms,
)
from gage_eval.registry import registry


class DummySettings(BackendSettings):
    mode: Literal["echo", "cycle"] = "echo"
    responses: list[str] = Field(default_factory=list)
    latency_ms: float = Field(default=0.0, ge=0)
    prefix: str = ""


@registry.asset("backends", "dummy", desc="echo the prompt or cycle fixed responses; no model needed",
                tags=("smoke", "offline"))
class DummyBackend(Backend):
    Settings = DummySettings
    type_name = "dummy"
    capabilities = frozenset({"generate", "images"})  # images are accepted (and ignored): smoke runs of VLM templates

    def __init__(self, settings: DummySettings) -> None:
        super().__init__(settings)
        if settings.mode == "cycle" and not settings.responses:
            from gage_eval.errors import ConfigError
            raise ConfigError("dummy backend in cycle mode needs responses", path="config.responses",
                              fix="list at least one response, or use mode: echo")
        self._cycle = itertools.cycle(settings.responses) if settings.responses else None

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        s: DummySettings = self.settings  # type: ignore[assignment]
        start = time.perf_counter()
        await sleep_ms(s.latency_ms)
        if self._cycle is not None and s.mode == "cycle":
            text = next(self._cycle)
        else:
            text = request.prompt if request.prompt is not None else _last_user_text(request.messages)
        text = s.prefix + text
        n = int(request.params.get("n", 1) or 1)
        return GenerationResponse(text=text, texts=[text] * n, finish_reason="stop",
                                  usage={"prompt_tokens": 0, "completion_tokens": len(text.split())},
                                  latency_ms=(time.perf_counter() - start) * 1000)


def _last_user_text(messages: list[dict]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return "".join(p.get("text", "") for p in content or [] if p.get("type") == "text")
    return ""
