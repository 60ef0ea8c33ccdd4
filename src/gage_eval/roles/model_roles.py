"""Model role adapters: dut_model, helper_model, judge_model (spec §4.4.1)."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from gage_eval.backends.base import GenerationRequest, GenerationResponse
from gage_eval.config.models import RoleAdapterSpec
from gage_eval.errors import ConfigError
from gage_eval.judges.verdicts import parse_score
from gage_eval.prompts import PromptTemplate
from gage_eval.prompts.builtin import judge_score_prompt
from gage_eval.registry import registry
from gage_eval.roles.base import RoleAdapter, RolePool, RoleResources, prompt_context, read_field
from gage_eval.sample import Sample, iter_media_parts


@dataclass
class ParsedAnswer:
    verdict: Any
    raw: str
    attempts: int
    usage: dict[str, int]


class ModelRole:
    """A role instance: the backend caller plus the conversation history of the sample it serves."""

    def __init__(self, caller: Any) -> None:
        self.caller = caller
        self.history: list[dict[str, Any]] = []

    def reset(self) -> None:
        self.history = []


class ModelRoleAdapter(RoleAdapter):
    def __init__(self, spec: RoleAdapterSpec, resources: RoleResources, config_path: str) -> None:
        super().__init__(spec, resources, config_path)
        backend_key = spec.backend_id or f"inline:{spec.adapter_id}"
        self.caller = resources.callers[backend_key]
        self.prompt: PromptTemplate | None = resources.prompts.get(spec.prompt_id) if spec.prompt_id else None
        self.generation: dict[str, Any] = dict(spec.params.get("generation", {}))
        # prompt_format (quick mode sets it; lm-eval's rule): "plain" sends the prompt text as is, "chat_template"
        # sends messages for the model's chat template — also for log-likelihood scoring. It overrides `mode:
        # completion`; without it, completion mode sends plain text and other requests send messages.
        self.prompt_format: str | None = spec.params.get("prompt_format")
        if self.prompt_format not in (None, "plain", "chat_template"):
            raise ConfigError(f"unknown prompt_format {self.prompt_format!r}",
                              path=f"{config_path}.params.prompt_format",
                              fix="use plain (the prompt text as is) or chat_template (messages through the "
                                  "model's chat template)")
        self.completion_mode = (self.prompt_format == "plain" if self.prompt_format else
                                "completion" in spec.capabilities or spec.params.get("mode") == "completion")
        # Multiple choice scored by the model's log-likelihood of each option; whether the backend can is
        # checked when the pipeline is built (engine/build.py check_capabilities).
        self.loglikelihood_mode = spec.scores_loglikelihood
        self.pool: RolePool[ModelRole] = RolePool(lambda: ModelRole(self.caller),
                                                  spec.pool_size or resources.pool_size)

    def build_request(self, sample: Sample, prompt: PromptTemplate | None, **extra: Any) -> GenerationRequest:
        params = {**self.generation, **sample.inputs.get("generation_params", {})}
        if prompt is not None:
            messages = prompt.render_messages(prompt_context(sample, **extra))
        else:
            messages = [m.model_dump(exclude_none=True) for m in sample.messages]
        if self.completion_mode:
            if any(True for _ in iter_media_parts(messages)):
                raise ConfigError(f"sample '{sample.id}' has images or audio, and this adapter sends a plain text "
                                  "prompt (prompt_format: plain / mode: completion), which would drop them",
                                  path=f"{self.config_path}.params.prompt_format",
                                  fix="use prompt_format: chat_template, so the messages with their media are sent")
            text = "\n\n".join(m["content"] if isinstance(m["content"], str) else
                               "".join(p.get("text", "") for p in m["content"]) for m in messages)
            return GenerationRequest(messages=[], prompt=text, params=params)
        # A sample that brings its tools (OpenAI format, e.g. BFCL's function docs) is asked with them.
        tools = sample.inputs.get("tools")
        return GenerationRequest(messages=messages, params=params, tools=tools if isinstance(tools, list) else None,
                                 tool_choice=sample.inputs.get("tool_choice"))

    async def call(self, request: GenerationRequest) -> GenerationResponse:
        async with self.pool.acquire() as role:
            role.history.extend(request.messages)
            return await role.caller.generate(request)

    async def ask_until_parsed(self, request: GenerationRequest, parse: Callable[[str], Any], retries: int
                               ) -> ParsedAnswer:
        """Ask, parse; on an unparsable answer ask again (up to `retries` more times). The verdict is None
        when every attempt failed, with the last raw text kept for the report."""
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        raw = ""
        for attempt in range(retries + 1):
            if attempt:
                # Vary the request so a retry is not served the same (cached) unparsable answer.
                request.params = {**request.params, "seed": attempt}
            response = await self.call(request)
            raw = response.text
            for key in usage:
                usage[key] += int(response.usage.get(key, 0) or 0)
            verdict = parse(raw)
            if verdict is not None:
                return ParsedAnswer(verdict, raw, attempt + 1, usage)
        return ParsedAnswer(None, raw, retries + 1, usage)


def to_predict_result(response: GenerationResponse, request: GenerationRequest | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"answer": response.text, "usage": response.usage, "latency_ms": response.latency_ms,
                           "finish_reason": response.finish_reason, "cached": response.cached}
    prompt_format = response.prompt_format or (None if request is None or request.prompt is None else "plain")
    if prompt_format:
        out["prompt_format"] = prompt_format
    if response.logprobs is not None:
        out["logprobs"] = response.logprobs
    if len(response.texts) > 1:
        out["answers"] = response.texts
    if response.tool_calls:
        out["tool_calls"] = response.tool_calls
    return out


@registry.asset("roles", "dut_model", desc="the model under test", tags=("model",))
class DutModelAdapter(ModelRoleAdapter):
    role_type = "dut_model"
    under_test: ClassVar[bool] = True  # quick mode points this role at the user's model

    async def execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        sample: Sample = payload["sample"]
        if self.loglikelihood_mode:
            out = await self.score_choices(sample)
        else:
            request = self.build_request(sample, self.prompt)
            out = to_predict_result(await self.call(request), request)
        if "prompt_format" in out:  # which prompt the model saw: plain text or its chat template
            sample.metadata["prompt_format"] = out["prompt_format"]
        return out

    async def score_choices(self, sample: Sample) -> dict[str, Any]:
        context = sample.inputs.get("ll_context")
        continuations = sample.inputs.get("ll_continuations")
        if not isinstance(context, str) or not continuations:
            raise ConfigError(f"sample '{sample.id}' has no inputs.ll_context / inputs.ll_continuations, which "
                              "loglikelihood scoring needs", path=f"{self.config_path}.params.mode",
                              fix="use a benchmark preprocessor that builds them (multiple-choice benchmarks do), "
                                  "or score generatively (remove mode: loglikelihood)")
        chat = self.prompt_format == "chat_template"
        scored: str | list[dict[str, Any]] = [m.model_dump(exclude_none=True) for m in sample.messages] if chat \
            else context
        async with self.pool.acquire() as role:
            scores = await role.caller.loglikelihood(scored, list(continuations))
        lls = [ll for ll, _ in scores]
        best = max(range(len(lls)), key=lls.__getitem__)
        return {"answer": chr(ord("A") + best) if len(lls) <= 26 else str(best), "loglikelihoods": lls,
                "is_greedy": [g for _, g in scores], "continuations": list(continuations),
                "prompt_format": "chat_template" if chat else "plain"}


@registry.asset("roles", "helper_model", desc="an auxiliary model for support or judging", tags=("model",))
class HelperModelAdapter(DutModelAdapter):
    role_type = "helper_model"
    under_test: ClassVar[bool] = False

    async def execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        out = await super().execute(payload)
        return {"adapter_id": self.adapter_id, "output": out["answer"], "usage": out["usage"]}


@registry.asset("roles", "judge_model", desc="LLM-as-judge; writes its verdict into eval_result", tags=("model", "judge"))
class JudgeModelAdapter(ModelRoleAdapter):
    """Renders the judge prompt, parses a numeric verdict; unparsable verdicts are retried then reported."""

    role_type = "judge_model"

    def __init__(self, spec: RoleAdapterSpec, resources: RoleResources, config_path: str) -> None:
        super().__init__(spec, resources, config_path)
        if self.prompt is None:
            self.prompt = judge_score_prompt("judge_score", **spec.params.get("prompt_params", {}))
        try:
            self.pattern = re.compile(spec.params.get("verdict_pattern", r"Rating:\s*\[\[\s*(-?\d+(?:\.\d+)?)\s*\]\]"))
        except re.error as exc:
            raise ConfigError(f"invalid verdict_pattern: {exc}", path=f"{config_path}.params.verdict_pattern",
                              fix="give a regular expression with one group capturing the number") from None
        self.parse_retries = int(spec.params.get("parse_retries", 2))
        scale = {"min_score": 1, "max_score": 10, **spec.params.get("prompt_params", {})}
        self.scale = (float(scale["min_score"]), float(scale["max_score"]))
        self.answer_field: str | None = spec.params.get("fields", {}).get("answer")

    async def execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        sample: Sample = payload["sample"]
        model_output = payload.get("model_output") or {}
        if self.answer_field:  # grade an answer stored in the sample (e.g. an earlier run's output in an arena)
            model_output = {**model_output, "answer": read_field(self.answer_field, sample, model_output, "")}
        request = self.build_request(sample, self.prompt, model_output=model_output)

        def parse(text: str) -> float | None:
            # The last rating, inside the scale: judges often quote the format ("Rating: [[5]]") before deciding.
            return parse_score(text, self.pattern, self.scale[0], self.scale[1])

        result = await self.ask_until_parsed(request, parse, self.parse_retries)
        out = {"score": result.verdict, "judge_raw": result.raw, "judge_adapter": self.adapter_id,
               "judge_attempts": result.attempts, "judge_usage": result.usage}
        return out if result.verdict is not None else {**out, "unparsed": True}
