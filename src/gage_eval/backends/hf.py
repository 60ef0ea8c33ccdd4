"""`hf`: a local Hugging Face transformers causal LM (CPU or GPU) for generation and loglikelihood scoring.

Scoring reproduces lm-evaluation-harness' `hf` model (HFLM) exactly; see hf_runtime.py.

Concurrency: the engine keeps many samples in flight, each awaiting `loglikelihood` or `generate`. Every call
queues its work items and one worker task per backend drains the queue: it runs one batch at a time on the
backend's own thread (torch never blocks the event loop, one model never runs two inferences at once, and
all torch work stays on one thread, so its intra-op thread pool is created once, not once per executor
thread), taking up to `batch_size` items per forward pass. Scoring items and generations are taken longest
first, as lm-eval sorts them, so padding stays small; greedy generations with the same options share one
left-padded `generate` call. While a batch runs, new calls queue up and join the next batch, so batches fill
without any timer. A stop signal (engine.stop) ends the current `generate` at the next token and no further
batch starts; outputs of a stopped batch are never delivered.
"""
from __future__ import annotations

import asyncio
import importlib.util
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from gage_eval.backends import hf_echo
from gage_eval.backends.base import Backend, BackendSettings, GenerationRequest, GenerationResponse
from gage_eval.backends.tool_parsing import parse_tool_text
from gage_eval.engine import stop
from gage_eval.errors import BackendError, ConfigError, GageError
from gage_eval.registry import registry


class HFSettings(BackendSettings):
    model_path: str = Field(min_length=1)  # local folder or hub id
    tokenizer_path: str | None = None
    revision: str | None = None
    device: str = Field(default="auto", pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    max_length: int | None = Field(default=None, ge=2)  # default: from the model config (as lm-eval)
    batch_size: int = Field(default=8, ge=1)
    trust_remote_code: bool = False
    use_chat_template: bool | None = None  # None: when the tokenizer has one and the request has messages
    add_bos_token: bool | None = None  # None: the tokenizer's default
    max_new_tokens: int = Field(default=256, ge=1)
    generation: dict[str, Any] = Field(default_factory=dict)  # default request params (temperature, stop, ...)
    # How the model writes tool calls (backends/tool_parsing.py): auto | hermes (Qwen) | llama3_json.
    tool_call_format: Literal["auto", "hermes", "llama3_json"] = "auto"


@dataclass(eq=False)
class _ScoreJob:
    context: str | list[dict[str, Any]]  # a list: chat messages, rendered by the chat template when prepared
    continuation: str
    future: asyncio.Future
    ctx: list[int] = field(default_factory=list)
    cont: list[int] = field(default_factory=list)
    order: tuple[int, tuple[int, ...]] = (0, ())  # lm-eval's Collator key, computed once when prepared
    prepared: bool = False


@dataclass(eq=False)
class _EchoJob:
    """Prompt log-probabilities (`gage serve`'s echo + logprobs): see hf_echo.py."""
    prompt: str
    top: int
    max_tokens: int
    future: asyncio.Future
    tokens: Any = None  # hf_echo.EchoTokens once prepared
    prepared: bool = False


@dataclass(eq=False)
class _GenJob:
    request: GenerationRequest
    options: Any  # hf_runtime.GenOptions (imported lazily with the rest of the runtime)
    future: asyncio.Future
    ids: list[int] = field(default_factory=list)
    chat: bool = False  # the prompt was rendered by the chat template
    prepared: bool = False


def _looks_local(model_path: str) -> bool:
    """Hub ids are 'name' or 'org/name'; anything else path-like must exist on disk."""
    return (model_path.startswith((".", "~", "/", "\\")) or model_path.count("/") > 1 or model_path.endswith("/")
            or Path(model_path).is_absolute() or "\\" in model_path)


@registry.asset("backends", "hf", desc="local Hugging Face transformers causal LM; generation and lm-eval-exact "
                "loglikelihood", tags=("local", "torch", "loglikelihood"))
class HFBackend(Backend):
    Settings = HFSettings
    type_name = "hf"
    capabilities = frozenset({"generate", "loglikelihood", "tools"})

    def __init__(self, settings: HFSettings) -> None:
        super().__init__(settings)
        self.s = settings
        # Fail at config time, before any torch import, for the two mistakes users make most.
        for module in ("torch", "transformers"):
            if importlib.util.find_spec(module) is None:
                from gage_eval.backends.hf_runtime import INSTALL_FIX
                raise ConfigError(f"the hf backend needs {module}, which is not installed", path="type",
                                  fix=INSTALL_FIX)
        path = Path(settings.model_path).expanduser()
        if path.exists():
            if not (path / "config.json").is_file():
                raise ConfigError(f"'{settings.model_path}' is not a model folder: it has no config.json",
                                  path="config.model_path", fix="point model_path at the folder that "
                                  "save_pretrained wrote (config.json, weights, tokenizer files)")
        elif _looks_local(settings.model_path):
            raise ConfigError(f"model folder '{settings.model_path}' does not exist", path="config.model_path",
                              fix="give an existing local folder (absolute, or relative to the working directory "
                                  f"{Path.cwd()}), or a Hugging Face hub id such as 'org/name'")
        self._runtime: Any = None  # hf_runtime.HFRuntime once loaded
        self._load_error: BaseException | None = None
        self._pending: list[_ScoreJob | _GenJob | _EchoJob] = []
        self._worker: asyncio.Task | None = None
        self._thread: ThreadPoolExecutor | None = None  # the one thread all torch work of this backend runs on
        self.forward_passes = 0  # scoring forward passes (batches), for tests and diagnostics
        self.generate_calls = 0  # model.generate calls (batches)

    def supports(self) -> frozenset[str]:
        # A vision-language checkpoint (its config.json has a vision_config) also takes images; a hub id cannot
        # be told before loading, so it is given the benefit of the doubt (a text model then fails per sample).
        from gage_eval.backends.hf_vision import is_vision_checkpoint

        vision = is_vision_checkpoint(self.s.model_path)
        return self.capabilities | ({"images"} if vision is not False else set())

    def capability_fix(self, capability: str) -> str:
        if capability == "images":
            return (f"'{self.s.model_path}' is a text-only checkpoint: evaluate a vision-language model (one "
                    "AutoProcessor and AutoModelForImageTextToText load, e.g. LLaVA, Qwen2-VL, SmolVLM)")
        return super().capability_fix(capability)

    def identity(self) -> dict[str, Any]:
        # Everything that changes answers; not device or batch size (they change numerics by ~1e-6 only).
        s = self.s
        return {"type": self.type_name, "model_path": s.model_path, "tokenizer_path": s.tokenizer_path,
                "revision": s.revision, "dtype": s.dtype, "max_length": s.max_length, "add_bos_token": s.add_bos_token,
                "use_chat_template": s.use_chat_template, "max_new_tokens": s.max_new_tokens,
                "generation": s.generation, **({"tool_call_format": s.tool_call_format}
                                                if s.tool_call_format != "auto" else {})}

    # ---- public API ---------------------------------------------------------------------------------
    async def loglikelihood(self, context: str | list[dict[str, Any]], continuations: list[str]
                            ) -> list[tuple[float, bool]]:
        loop = asyncio.get_running_loop()
        jobs = [_ScoreJob(context, c, loop.create_future()) for c in continuations]
        self._submit(jobs)
        return list(await asyncio.gather(*(j.future for j in jobs)))

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        start = time.perf_counter()
        job = _GenJob(request, self._options(request.params), asyncio.get_running_loop().create_future())
        self._submit([job])
        out = await job.future
        text, calls, finish = out.texts[0], [], out.finish_reason
        if request.tools:  # the chat template showed the tools: read the calls the model wrote
            text, calls = parse_tool_text(text, self.s.tool_call_format)
            finish = "tool_calls" if calls else finish
        return GenerationResponse(text=text, texts=out.texts, finish_reason=finish, tool_calls=calls,
                                  prompt_format="chat_template" if job.chat else "plain",
                                  usage={"prompt_tokens": out.prompt_tokens, "completion_tokens": out.completion_tokens,
                                         "total_tokens": out.prompt_tokens + out.completion_tokens},
                                  latency_ms=(time.perf_counter() - start) * 1000)

    async def prompt_logprobs(self, prompt: str, top: int = 1, max_tokens: int = 0) -> Any:
        """Every prompt token's logprob (and the greedy next token if max_tokens is 1): an hf_echo.EchoResult."""
        job = _EchoJob(prompt, max(1, top), min(max_tokens, 1), asyncio.get_running_loop().create_future())
        self._submit([job])
        return await job.future

    def load(self) -> None:
        """Load the model now (in the calling thread) instead of on the first request."""
        self._ensure_runtime()

    async def aclose(self) -> None:
        if self._worker is not None and not self._worker.done():
            await asyncio.gather(self._worker, return_exceptions=True)
        self._runtime = None
        if self._thread is not None:
            self._thread.shutdown(wait=False)
            self._thread = None

    # ---- request parameters -------------------------------------------------------------------------
    def _options(self, params: dict[str, Any]) -> Any:
        from gage_eval.backends.hf_runtime import GenOptions

        merged = {**self.s.generation, **{k: v for k, v in params.items() if v is not None}}
        try:
            max_new = (params.get("max_new_tokens") or params.get("max_tokens") or merged.get("max_new_tokens")
                       or merged.get("max_tokens") or self.s.max_new_tokens)
            stop = merged.get("stop") or ()
            stop = (stop,) if isinstance(stop, str) else tuple(str(x) for x in stop if x)
            return GenOptions(
                max_new_tokens=int(max_new), temperature=float(merged.get("temperature") or 0.0),
                top_p=None if merged.get("top_p") is None else float(merged["top_p"]),
                top_k=None if merged.get("top_k") is None else int(merged["top_k"]),
                repetition_penalty=None if merged.get("repetition_penalty") is None
                else float(merged["repetition_penalty"]),
                stop=stop, n=max(1, int(merged.get("n") or 1)),
                seed=None if merged.get("seed") is None else int(merged["seed"]))
        except (TypeError, ValueError) as exc:
            raise BackendError(f"hf backend: invalid generation parameter: {exc}", retryable=False) from None

    # ---- micro-batching worker ----------------------------------------------------------------------
    def _submit(self, jobs: list[_ScoreJob | _GenJob | _EchoJob]) -> None:
        loop = asyncio.get_running_loop()
        if self._worker is not None and not self._worker.done() and self._worker.get_loop() is not loop:
            # A worker of an earlier, finished event loop: its jobs can never complete.
            self._pending, self._worker = [], None
        self._pending.extend(jobs)
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._drain(), name="gage-hf-batcher")

    async def _drain(self) -> None:
        try:
            await asyncio.sleep(0)  # let calls started in the same tick join the first batch
            while True:
                self._pending = [j for j in self._pending if not j.future.done()]  # drop cancelled callers
                if stop.requested():  # the run is stopping: start no other batch
                    for job in self._pending:
                        job.future.cancel()
                    self._pending = []
                if not self._pending:
                    return
                fresh = [j for j in self._pending if not j.prepared]
                if fresh:
                    await self._run(self._prepare, fresh)
                    continue
                batch = self._select(self._pending)
                chosen = set(batch)
                self._pending = [j for j in self._pending if j not in chosen]
                await self._run(self._execute, batch)
        except BaseException as exc:  # a bug or loop shutdown must not leave callers waiting forever
            for job in self._pending:
                if not job.future.done():
                    job.future.set_exception(exc if isinstance(exc, Exception) else BackendError(
                        f"hf backend worker stopped: {type(exc).__name__}"))
            self._pending = []
            if isinstance(exc, asyncio.CancelledError):
                raise

    async def _run(self, fn: Any, jobs: list[Any]) -> None:
        """Run `fn(jobs)` in a thread; it returns one result or exception per job. A raised error fails all."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gage-hf", initializer=_same_threads,
                                              initargs=(_torch_threads(),))
        try:
            results = await asyncio.get_running_loop().run_in_executor(self._thread, fn, jobs)
        except Exception as exc:  # noqa: BLE001 - turned into an error of every job in the batch
            results = [_as_error(exc)] * len(jobs)
        if stop.requested():  # a generation cut short by the stop flag must never be scored as an answer
            for job in jobs:
                job.future.cancel()
            return
        failed = set()
        for job, result in zip(jobs, results):
            if isinstance(result, BaseException):
                failed.add(job)
                if not job.future.done():
                    job.future.set_exception(result)
            elif result is not None and not job.future.done():
                job.future.set_result(result)
        if failed:
            self._pending = [j for j in self._pending if j not in failed]

    def _select(self, jobs: list[_ScoreJob | _GenJob | _EchoJob]) -> list[Any]:
        head = jobs[0]
        if isinstance(head, _EchoJob):
            echoes = sorted((j for j in jobs if isinstance(j, _EchoJob)), key=lambda j: -len(j.tokens.ids))
            return echoes[:self.s.batch_size]
        if isinstance(head, _ScoreJob):
            scores = [j for j in jobs if isinstance(j, _ScoreJob)]
            scores.sort(key=lambda j: j.order)
            return scores[:self.s.batch_size]
        key = head.options.batch_key()
        if key is None:
            return [head]
        same = [j for j in jobs if isinstance(j, _GenJob) and j.options.batch_key() == key]
        same.sort(key=lambda j: -len(j.ids))  # lm-eval's order: longest first, so rows of a batch pad little
        return same[:self.s.batch_size]

    # ---- thread side --------------------------------------------------------------------------------
    def _ensure_runtime(self) -> Any:
        if self._runtime is None:
            if self._load_error is not None:
                raise self._load_error
            from gage_eval.backends.hf_vision import runtime_class
            try:
                self._runtime = runtime_class(self.s)(self.s)
            except (GageError, BackendError) as exc:
                self._load_error = exc  # loading is deterministic: do not retry it for every sample
                raise
        return self._runtime

    def _prepare(self, jobs: list[Any]) -> list[BaseException | None]:
        rt = self._ensure_runtime()
        out: list[BaseException | None] = []
        for job in jobs:
            try:
                if isinstance(job, _EchoJob):
                    job.tokens = hf_echo.encode_with_offsets(rt, job.prompt)
                elif isinstance(job, _ScoreJob):
                    context = job.context if isinstance(job.context, str) else rt.chat_context(job.context)
                    job.ctx, job.cont = rt.encode_pair(context, job.continuation)
                    rt.check_pair(job.ctx, job.cont)
                    # lm-eval's Collator order: longest first, ties by token ids.
                    job.order = (-len(job.ctx) - len(job.cont), tuple(job.ctx + job.cont))
                else:
                    job.chat = rt.applies_chat_template(job.request.prompt, job.request.messages)
                    job.ids = rt.prompt_ids(job.request.prompt, job.request.messages, job.options,
                                            job.request.tools)
                job.prepared = True
                out.append(None)
            except Exception as exc:  # noqa: BLE001 - one bad request fails only itself
                out.append(_as_error(exc))
        return out

    def _execute(self, jobs: list[Any]) -> list[Any]:
        rt = self._ensure_runtime()
        if isinstance(jobs[0], _EchoJob):
            self.forward_passes += 1
            return hf_echo.score_prompts(rt, [(j.tokens, j.top, j.max_tokens) for j in jobs])
        if isinstance(jobs[0], _ScoreJob):
            self.forward_passes += 1
            return rt.score([(j.ctx, j.cont) for j in jobs])
        self.generate_calls += 1
        return rt.generate([j.ids for j in jobs], jobs[0].options)


def _torch_threads() -> int | None:
    """torch's intra-op thread count as set in the calling thread (None: torch not imported, use its default)."""
    torch = sys.modules.get("torch")
    return int(torch.get_num_threads()) if torch is not None else None


def _same_threads(threads: int | None) -> None:
    # OpenMP's thread count is per OS thread: a `torch.set_num_threads` made by the user's script in the main
    # thread would not reach this worker thread on its own.
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def _as_error(exc: BaseException) -> BaseException:
    if isinstance(exc, (GageError, BackendError)):
        return exc
    message = (str(exc).strip().splitlines() or [""])[0][:300]
    # CUDA out-of-memory is worth a retry (other work may free memory); other runtime errors are not.
    retryable = "out of memory" in message.lower()
    return BackendError(f"hf backend: {type(exc).__name__}: {message}", retryable=retryable)
