"""RoleAdapter base, role pools, and the resources adapters are built from."""
from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar, Generic, TypeVar

from gage_eval.config.models import RoleAdapterSpec
from gage_eval.engine.model_call import ModelCaller
from gage_eval.metrics.base import MetricContext
from gage_eval.prompts import PromptTemplate
from gage_eval.sample import Sample

R = TypeVar("R")


@dataclass
class RoleResources:
    """What the runtime hands to adapters: model callers (by backend id) and compiled prompts."""

    callers: dict[str, ModelCaller]
    prompts: dict[str, PromptTemplate]
    pool_size: int = 1
    run_dir: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


class RolePool(Generic[R]):
    """Reusable role instances; `acquire` waits when all are busy (backpressure on the role)."""

    def __init__(self, factory: Callable[[], R], size: int) -> None:
        self._factory = factory
        self._size = size
        self._created = 0
        self._idle: asyncio.Queue[R] | None = None

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[R]:
        if self._idle is None:
            self._idle = asyncio.Queue()
        if self._idle.empty() and self._created < self._size:
            self._created += 1
            role = self._factory()
        else:
            role = await self._idle.get()
        try:
            yield role
        finally:
            reset = getattr(role, "reset", None)
            if reset is not None:
                reset()
            self._idle.put_nowait(role)


class RoleAdapter:
    role_type: ClassVar[str] = "role"
    #: The role that answers as the model under test (dut_model, agent loops): quick mode binds it to --model.
    under_test: ClassVar[bool] = False

    def __init__(self, spec: RoleAdapterSpec, resources: RoleResources, config_path: str) -> None:
        self.spec = spec
        self.adapter_id = spec.adapter_id
        self.resources = resources
        self.config_path = config_path

    async def execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None


def ensure_async(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Async callables pass through; sync ones run in the default executor so they never block the loop."""
    if inspect.iscoroutinefunction(fn):
        return fn

    async def run_sync(*args: Any, **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, partial(fn, *args, **kwargs))

    return run_sync


def prompt_context(sample: Any, **extra: Any) -> dict[str, Any]:
    return {"sample": sample, "prompt": sample.prompt_text(), "choices": sample.choices, "label": sample.label,
            "references": sample.references, "metadata": sample.metadata, "inputs": sample.inputs,
            "model_output": {}, "judge_output": {}, **extra}


def read_field(path: str | None, sample: Sample, model_output: dict[str, Any], default: Any = None) -> Any:
    """`sample.inputs.answer_a`, `model_output.answer`, `sample.metadata.x`...; a path without a known root
    is a literal (e.g. a model name)."""
    if not path:
        return default
    if path.split(".", 1)[0] not in ("sample", "model_output", "judge_output"):
        return path
    return MetricContext(sample, model_output, {}).get(path, default)
