"""Judge roles: `pairwise_judge` (A vs B, both orders) and `binary_judge` (verdict against a reference).

Both ask the judge model, parse strictly, and re-ask up to `parse_retries` times with a varied seed (so a
cached unparsable answer is not served again) before reporting the verdict as unparsed with its raw text.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gage_eval.config.models import RoleAdapterSpec
from gage_eval.judges.prompts import judge_binary_prompt, judge_pairwise_prompt
from gage_eval.judges.verdicts import parse_binary, parse_pairwise
from gage_eval.registry import registry
from gage_eval.roles.base import RoleResources, read_field
from gage_eval.roles.model_roles import ModelRoleAdapter
from gage_eval.sample import Sample

_SWAP = {"A": "B", "B": "A", "tie": "tie"}


class _VerdictJudge(ModelRoleAdapter):
    role_type = "judge"

    def __init__(self, spec: RoleAdapterSpec, resources: RoleResources, config_path: str) -> None:
        super().__init__(spec, resources, config_path)
        self.parse_retries = int(spec.params.get("parse_retries", 2))
        self.fields: dict[str, str] = dict(spec.params.get("fields", {}))

    def field(self, name: str, sample: Sample, model_output: dict[str, Any], default: Any = None) -> Any:
        return read_field(self.fields.get(name), sample, model_output, default)

    async def ask(self, sample: Sample, parse: Callable[[str], Any], **variables: Any) -> dict[str, Any]:
        assert self.prompt is not None
        result = await self.ask_until_parsed(self.build_request(sample, self.prompt, **variables), parse,
                                             self.parse_retries)
        return {"verdict": result.verdict, "raw": result.raw, "attempts": result.attempts, "usage": result.usage}


@registry.asset("roles", "pairwise_judge", desc="A-vs-B judge; runs both orders, inconsistent verdicts become ties "
                "and are reported", tags=("model", "judge", "pairwise"))
class PairwiseJudge(_VerdictJudge):
    """params: fields {question, answer_a, answer_b, model_a, model_b, reference} (dotted paths or literals),
    allow_tie (true), swap (true), parse_retries (2), prompt_params."""

    role_type = "pairwise_judge"

    def __init__(self, spec: RoleAdapterSpec, resources: RoleResources, config_path: str) -> None:
        super().__init__(spec, resources, config_path)
        self.allow_tie = bool(spec.params.get("allow_tie", True))
        self.swap = bool(spec.params.get("swap", True))
        if self.prompt is None:
            self.prompt = judge_pairwise_prompt("judge_pairwise", allow_tie=self.allow_tie,
                                                **spec.params.get("prompt_params", {}))
        self.fields = {"answer_a": "sample.inputs.answer_a", "answer_b": "sample.inputs.answer_b",
                       "model_a": "sample.inputs.model_a", "model_b": "sample.inputs.model_b", **self.fields}

    async def execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        sample: Sample = payload["sample"]
        output = payload.get("model_output") or {}
        question = self.field("question", sample, output, sample.evaluated_question())
        a = str(self.field("answer_a", sample, output, "") or "")
        b = str(self.field("answer_b", sample, output, "") or "")
        reference = self.field("reference", sample, output)
        names = (str(self.field("model_a", sample, output, "model_a")), str(self.field("model_b", sample, output,
                                                                                        "model_b")))
        parse = lambda text: parse_pairwise(text, self.allow_tie)
        first = await self.ask(sample, parse, question=question, answer_a=a, answer_b=b, reference=reference)
        rounds = [{"order": "AB", **first}]
        if self.swap:
            second = await self.ask(sample, parse, question=question, answer_a=b, answer_b=a, reference=reference)
            # In the swapped order "A" is model_b: map back so both verdicts speak of the same models.
            rounds.append({"order": "BA", **second, "verdict": _SWAP.get(second["verdict"])
                           if second["verdict"] else None})
        usage = {k: sum(r["usage"][k] for r in rounds) for k in ("prompt_tokens", "completion_tokens")}
        verdicts = [r["verdict"] for r in rounds]
        out: dict[str, Any] = {
            "model_a": names[0], "model_b": names[1], "judge_adapter": self.adapter_id,
            "judge_attempts": sum(r["attempts"] for r in rounds), "judge_usage": usage,
            "verdicts": [{"order": r["order"], "verdict": r["verdict"], "raw": r["raw"]} for r in rounds],
            "judge_raw": rounds[-1]["raw"], "len_a": len(a), "len_b": len(b),
        }
        unparsed = any(v is None for v in verdicts)
        out["judge_calls"] = {self.adapter_id: {"attempts": out["judge_attempts"], "unparsed": unparsed,
                                                "usage": usage}}
        if unparsed:
            return {**out, "winner": None, "unparsed": True, "consistent": None}
        consistent = len(set(verdicts)) == 1
        combined = verdicts[0] if consistent else "tie"
        winner = {"A": "model_a", "B": "model_b", "tie": "tie"}[combined]
        return {**out, "winner": winner, "consistent": consistent, "unparsed": False}


@registry.asset("roles", "binary_judge", desc="correct/incorrect (or yes/no) verdict against a reference; "
                "writes score 1/0", tags=("model", "judge"))
class BinaryJudge(_VerdictJudge):
    """params: fields {question, answer, reference} (dotted paths), parse_retries, prompt_params; prompt_id to
    use another template (e.g. judge_truthful / judge_informative). `output_key` names the verdict
    (default score)."""

    role_type = "binary_judge"

    def __init__(self, spec: RoleAdapterSpec, resources: RoleResources, config_path: str) -> None:
        super().__init__(spec, resources, config_path)
        if self.prompt is None:
            self.prompt = judge_binary_prompt("judge_binary", **spec.params.get("prompt_params", {}))
        self.output_key = str(spec.params.get("output_key", "score"))
        self.fields = {"answer": "model_output.answer", "reference": "sample.label", **self.fields}

    async def execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        sample: Sample = payload["sample"]
        output = payload.get("model_output") or {}
        # Every configured field is a prompt variable (e.g. TruthfulQA's correct/incorrect answer lists).
        variables = {name: self.field(name, sample, output) for name in self.fields}
        variables.update(question=self.field("question", sample, output, sample.evaluated_question()),
                         answer=str(self.field("answer", sample, output, "") or ""))
        result = await self.ask(sample, parse_binary, **variables)
        key = self.output_key
        unparsed = result["verdict"] is None
        return {key: result["verdict"], f"{key}_unparsed": unparsed, f"{key}_raw": result["raw"],
                "unparsed": unparsed, "judge_adapter": self.adapter_id, "judge_attempts": result["attempts"],
                "judge_usage": result["usage"],
                "judge_calls": {self.adapter_id: {"attempts": result["attempts"], "unparsed": unparsed,
                                                  "usage": result["usage"]}}}
