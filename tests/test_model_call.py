"""Retries with backoff honour Retry-After and give up after max_attempts; secrets are redacted."""
from __future__ import annotations

import time

import pytest

from gage_eval.backends.base import Backend, GenerationRequest, GenerationResponse
from gage_eval.engine.model_call import ModelCaller, RetryPolicy
from gage_eval.errors import BackendError
from gage_eval.redact import redact


class _Scripted(Backend):
    def __init__(self, errors: list[BackendError]) -> None:
        super().__init__(Backend.Settings())
        self.errors = errors
        self.calls = 0

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return GenerationResponse(text="ok", texts=["ok"])


async def test_retryable_errors_are_retried_and_retry_after_is_a_floor() -> None:
    backend = _Scripted([BackendError("429", retryable=True, retry_after=0.3), BackendError("503", retryable=True)])
    caller = ModelCaller(backend, RetryPolicy(max_attempts=3, base_delay_s=0.001))
    start = time.monotonic()
    response = await caller.generate(GenerationRequest(messages=[{"role": "user", "content": "x"}]))
    assert response.text == "ok" and backend.calls == 3
    assert time.monotonic() - start >= 0.3
    assert caller.stats.retries == 2 and caller.stats.errors == 2


async def test_non_retryable_error_is_raised_at_once() -> None:
    backend = _Scripted([BackendError("401", retryable=False, status=401)])
    caller = ModelCaller(backend, RetryPolicy(max_attempts=5, base_delay_s=0.001))
    with pytest.raises(BackendError, match="401"):
        await caller.generate(GenerationRequest())
    assert backend.calls == 1


async def test_gives_up_after_max_attempts() -> None:
    backend = _Scripted([BackendError("503", retryable=True) for _ in range(10)])
    caller = ModelCaller(backend, RetryPolicy(max_attempts=4, base_delay_s=0.001))
    with pytest.raises(BackendError):
        await caller.generate(GenerationRequest())
    assert backend.calls == 4


def test_backoff_is_bounded_and_jittered() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay_s=0.5, max_delay_s=4)
    delays = [policy.delay(8, None) for _ in range(200)]
    assert max(delays) <= 4 and min(delays) >= 0 and len(set(delays)) > 100


def test_redact_blanks_secret_keys_but_keeps_env_names() -> None:
    data = {"config": {"api_key": "sk-123", "api_key_env": "OPENAI_API_KEY", "headers": {"Authorization": "Bearer x"},
                       "nested": [{"token": "t"}], "model": "m"}}
    assert redact(data) == {"config": {"api_key": "***", "api_key_env": "OPENAI_API_KEY",
                                       "headers": {"Authorization": "***"}, "nested": [{"token": "***"}], "model": "m"}}
