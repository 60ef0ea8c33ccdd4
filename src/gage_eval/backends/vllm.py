"""`vllm`: an in-process vLLM engine (`AsyncLLMEngine`) for generation and prompt-logprob log-likelihoods.

vLLM is imported only when the engine starts (extra `[vllm]`), so configs validate and `gage list` works
without it. vLLM needs a GPU (or its separate CPU build, whose torch pin conflicts with gage's own): where it
cannot be imported or cannot start, the error says so and names the route that works everywhere, a managed
server in its own environment (`launch: {preset: vllm}`, `--serve vllm`) spoken to over HTTP.

Scoring reproduces lm-eval's vLLM model: tokens from lm_tokens.LMEncoder (the same pairs the hf backend
scores), prompt logprobs parsed by vllm_convert. vLLM batches concurrent requests itself (continuous
batching), so every call is simply submitted and awaited; no batcher of our own.
"""
from __future__ import annotations

import asyncio
import importlib.util
import itertools
import sys
import time
from typing import Any, ClassVar, Literal

from pydantic import Field

from gage_eval.backends.base import Backend, BackendSettings, GenerationRequest, GenerationResponse
from gage_eval.backends.lm_tokens import LMEncoder
from gage_eval.backends.tool_parsing import parse_tool_text
from gage_eval.backends.vllm_convert import SCORING_PARAMS, parse_prompt_logprobs, sampling_kwargs, scoring_input
from gage_eval.errors import BackendError, ConfigError, GageError
from gage_eval.registry import registry

SERVER_ROUTE = ("run vLLM as a managed server instead, in the environment where it works, and let gage talk to "
                "it over HTTP: `launch: {preset: vllm, model_path: ...}` on an openai_http backend, or "
                "`gage eval --model PATH --serve vllm`; without a GPU use vLLM's CPU build in its own virtual "
                "environment (README: vLLM) or `--serve gage`")
INSTALL_FIX = f"pip install 'gage-eval[vllm]' on a machine with a supported GPU; or {SERVER_ROUTE}"


class VLLMSettings(BackendSettings):
    model_path: str = Field(min_length=1)  # local folder or hub id
    tokenizer_path: str | None = None
    revision: str | None = None
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    tensor_parallel_size: int = Field(default=1, ge=1)
    gpu_memory_utilization: float = Field(default=0.9, gt=0, le=1)
    max_model_len: int | None = Field(default=None, ge=2)
    max_num_seqs: int | None = Field(default=None, ge=1)
    seed: int = 0
    trust_remote_code: bool = False
    enforce_eager: bool = False
    engine_args: dict[str, Any] = Field(default_factory=dict)  # any other AsyncEngineArgs field, passed through
    add_bos_token: bool | None = None  # None: the tokenizer's default
    use_chat_template: bool | None = None  # None: when the tokenizer has one and the request has messages
    max_new_tokens: int = Field(default=256, ge=1)
    generation: dict[str, Any] = Field(default_factory=dict)  # default request params (temperature, stop, ...)

    def engine_kwargs(self) -> dict[str, Any]:
        """AsyncEngineArgs keyword arguments: typed fields first, `engine_args` may add or override."""
        kwargs: dict[str, Any] = {
            "model": self.model_path, "tokenizer": self.tokenizer_path, "revision": self.revision,
            "dtype": self.dtype, "tensor_parallel_size": self.tensor_parallel_size,
            "gpu_memory_utilization": self.gpu_memory_utilization, "max_model_len": self.max_model_len,
            "max_num_seqs": self.max_num_seqs, "seed": self.seed, "trust_remote_code": self.trust_remote_code,
            "enforce_eager": self.enforce_eager}
        return {**{k: v for k, v in kwargs.items() if v is not None}, **self.engine_args}


def vllm_missing_error() -> ConfigError | None:
    """The clear error when vLLM cannot be imported in this Python, else None."""
    if importlib.util.find_spec("vllm") is not None:
        return None
    return ConfigError(f"the vllm backend needs vLLM, which is not installed in this Python ({sys.executable})",
                       path="type", fix=INSTALL_FIX)


def engine_start_error(exc: BaseException, model_path: str) -> ConfigError:
    detail = next((line for line in reversed(str(exc).strip().splitlines()) if line.strip()), type(exc).__name__)
    return ConfigError(f"vLLM could not start the engine for '{model_path}': {type(exc).__name__}: {detail[:400]} "
                       "(vLLM needs a supported GPU, or its CPU build)", path="config", fix=SERVER_ROUTE)


@registry.asset("backends", "vllm", desc="in-process vLLM engine (extra [vllm], GPU); generation and lm-eval-exact "
                "prompt-logprob loglikelihood", tags=("local", "vllm", "loglikelihood"))
class VLLMBackend(Backend):
    Settings = VLLMSettings
    type_name = "vllm"
    # What this backend can do (the shared capability set of backends/base.py): no streaming or images yet; tools
    # through the chat template and the model's text, as the hf backend (shared LMEncoder and tool_parsing).
    capabilities: ClassVar[frozenset[str]] = frozenset({"generate", "loglikelihood", "tools"})

    def __init__(self, settings: VLLMSettings) -> None:
        super().__init__(settings)
        self.s = settings
        missing = vllm_missing_error()
        if missing is not None:
            raise missing
        self._engine: Any = None
        self._encoder: LMEncoder | None = None
        self._max_length = 0
        self._start_error: GageError | None = None
        self._starting: asyncio.Lock | None = None
        self._ids = itertools.count()
        self._tools_checked = False

    def identity(self) -> dict[str, Any]:
        s = self.s  # what changes answers; not memory or parallelism settings
        return {"type": self.type_name, "model_path": s.model_path, "tokenizer_path": s.tokenizer_path,
                "revision": s.revision, "dtype": s.dtype, "max_model_len": s.max_model_len, "seed": s.seed,
                "add_bos_token": s.add_bos_token, "use_chat_template": s.use_chat_template,
                "max_new_tokens": s.max_new_tokens, "generation": s.generation}

    # ---- engine lifecycle ---------------------------------------------------------------------------
    async def preflight(self) -> list[str]:
        await self._ensure_engine()  # a model that cannot load fails the run before the first sample
        return []

    async def _ensure_engine(self) -> Any:
        if self._start_error is not None:
            raise self._start_error
        if self._engine is not None:
            return self._engine
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self._engine is None and self._start_error is None:
                try:
                    self._engine, self._encoder, self._max_length = self._start()
                except GageError as exc:
                    self._start_error = exc
                except Exception as exc:  # noqa: BLE001 - any start failure becomes one clear error
                    self._start_error = engine_start_error(exc, self.s.model_path)
            if self._start_error is not None:
                raise self._start_error
        return self._engine

    def _start(self) -> tuple[Any, LMEncoder, int]:
        # The engine binds its output handler to the running event loop, so it is built on the loop.
        try:
            from transformers import AutoTokenizer
            from vllm import AsyncEngineArgs, AsyncLLMEngine
        except ImportError as exc:
            raise ConfigError(f"the vllm backend cannot import vLLM: {exc}", path="type", fix=INSTALL_FIX) from None
        engine = AsyncLLMEngine.from_engine_args(AsyncEngineArgs(**self.s.engine_kwargs()))
        tok = AutoTokenizer.from_pretrained(self.s.tokenizer_path or self.s.model_path,
                                            trust_remote_code=self.s.trust_remote_code,
                                            **({"revision": self.s.revision} if self.s.revision else {}))
        max_length = int(engine.model_config.max_model_len)
        return engine, LMEncoder(tok, self.s.add_bos_token, self.s.use_chat_template), max_length

    async def aclose(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.shutdown()

    async def _run(self, token_ids: list[int], params: Any) -> Any:
        engine = await self._ensure_engine()
        final = None
        try:
            async for output in engine.generate({"prompt_token_ids": token_ids}, params, f"gage-{next(self._ids)}"):
                final = output
        except GageError:
            raise
        except Exception as exc:  # noqa: BLE001 - engine errors become backend errors of this request
            message = (str(exc).strip().splitlines() or [""])[0][:300]
            raise BackendError(f"vllm backend: {type(exc).__name__}: {message}",
                               retryable="out of memory" in message.lower()) from None
        if final is None:
            raise BackendError("vllm backend: the engine returned no output")
        return final

    # ---- public API ---------------------------------------------------------------------------------
    async def loglikelihood(self, context: str, continuations: list[str]) -> list[tuple[float, bool]]:
        from vllm import SamplingParams

        await self._ensure_engine()
        assert self._encoder is not None
        inputs = []
        for continuation in continuations:
            ctx, cont = self._encoder.encode_pair(context, continuation)
            if not cont:
                raise BackendError("a continuation encodes to no tokens (is it empty?); nothing to score")
            inputs.append(scoring_input(ctx, cont, self._max_length))
        params = SamplingParams(**SCORING_PARAMS)
        outputs = await asyncio.gather(*(self._run(inp, params) for inp, _ in inputs))
        return [parse_prompt_logprobs(inp, out.prompt_logprobs, ctxlen) for (inp, ctxlen), out in zip(inputs, outputs)]

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        from vllm import SamplingParams

        start = time.perf_counter()
        await self._ensure_engine()
        assert self._encoder is not None
        kwargs, copies = sampling_kwargs(request.params, self.s.generation, self.s.max_new_tokens)
        if request.tools and not self._tools_checked:
            self._encoder.check_renders_tools(request.tools)
            self._tools_checked = True
        ids = self._encoder.prompt_ids(request.prompt, request.messages, request.tools)
        room = self._max_length - kwargs["max_tokens"]
        if room <= 0:
            raise BackendError(f"max_tokens ({kwargs['max_tokens']}) must be smaller than the model's max length "
                               f"({self._max_length})", retryable=False)
        ids = ids[-room:]  # left truncation, as lm-eval's generate_until
        out = await self._run(ids, SamplingParams(**kwargs))
        texts = [c.text for c in out.outputs] * copies
        completion = sum(len(c.token_ids) for c in out.outputs)
        text, calls, finish = texts[0], [], out.outputs[0].finish_reason
        if request.tools:
            text, calls = parse_tool_text(text)
            finish = "tool_calls" if calls else finish
        return GenerationResponse(text=text, texts=texts, finish_reason=finish, tool_calls=calls,
                                  usage={"prompt_tokens": len(ids), "completion_tokens": completion,
                                         "total_tokens": len(ids) + completion},
                                  latency_ms=(time.perf_counter() - start) * 1000)
