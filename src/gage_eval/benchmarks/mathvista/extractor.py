"""The `mathvista_extraction_judge` role (a judge step): the official LLM answer extraction of MathVista.

For each answer the official rules settle (an option's text, a bare integer or float, `The answer is "X".`)
no model is asked, exactly as the official code; otherwise the extraction model gets the official few-shot
prompt (official.py DEMO_PROMPT, the problem's ``query``, the response, ``Extracted answer: ``) at temperature 0,
max 256 tokens, and its stripped reply is the extraction (``judge_output.extraction``), which
``mathvista_accuracy`` then normalizes and compares.
"""
from __future__ import annotations

from typing import Any

from gage_eval.backends.base import GenerationRequest
from gage_eval.benchmarks.mathvista.metric import problem_of
from gage_eval.benchmarks.mathvista.official import direct_extraction, extraction_prompt
from gage_eval.registry import registry
from gage_eval.roles.model_roles import ModelRoleAdapter
from gage_eval.sample import Sample


@registry.asset("roles", "mathvista_extraction_judge", desc="MathVista's official LLM answer extraction (judge step): "
                "judge_output.extraction", tags=("judge", "multimodal"))
class MathVistaExtractor(ModelRoleAdapter):
    role_type = "mathvista_extraction_judge"

    async def execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        sample: Sample = payload["sample"]
        response = str((payload.get("model_output") or {}).get("answer") or "").strip()
        problem = problem_of(sample.metadata)
        direct = direct_extraction(response, problem, quick_extract=bool(self.spec.params.get("quick_extract")))
        if direct is not None:
            return {"extraction": direct, "extraction_source": "direct"}
        params = {"temperature": 0, "max_tokens": 256, **self.generation}
        prompt = extraction_prompt(problem["query"], response)
        request = GenerationRequest(messages=[{"role": "user", "content": prompt}], params=params)
        reply = await self.call(request)
        return {"extraction": reply.text.strip(), "extraction_source": "judge", "judge_adapter": self.adapter_id,
                "judge_attempts": 1, "judge_usage": dict(reply.usage)}
