"""The `bfcl` preprocessor: one BFCL v4 entry (joined with its possible answer by the `bfcl` loader) -> Sample.

preprocess_kwargs: ``mode`` — ``fc`` (native function calling: the docs go as OpenAI ``tools``, the model answers
with tool calls) or ``prompt`` (bfcl-eval's prompting: the docs go into its system prompt and the model writes
``[func(a=1), ...]`` as text).

Single-turn: the messages are the question's one turn; ``metadata.bfcl`` keeps the raw docs and the possible
answer for the AST checker. Multi-turn: ``inputs.bfcl_turns`` holds every user turn and ``metadata.bfcl`` the API
classes, their initial state and the ground-truth calls per turn, for the `bfcl_agent` role and the checker.
"""
from __future__ import annotations

from typing import Any

from gage_eval.benchmarks.bfcl.data import MULTI_TURN_CATEGORIES, RELEVANCE_CATEGORIES
from gage_eval.benchmarks.bfcl.functions import openai_tools, prompt_messages, system_prompt, with_python_hint
from gage_eval.datasets.preprocess import BasePreprocessor, RecordError
from gage_eval.registry import registry

MODES = ("fc", "prompt")


@registry.asset("dataset_preprocessors", "bfcl", desc="BFCL v4 entries -> tool-calling samples (mode: fc = native "
                "function calling, prompt = bfcl-eval's prompting)", tags=("bfcl", "agents", "tools"))
class BfclPreprocessor(BasePreprocessor):
    required_fields = ("id", "question", "category")

    def to_sample(self, record: dict[str, Any], mode: str = "fc", **_: Any) -> dict[str, Any]:
        if mode not in MODES:
            raise RecordError(f"unknown mode {mode!r} (use fc or prompt)", "mode")
        category = record["category"]
        question = record["question"]
        if not isinstance(question, list) or not question or not all(isinstance(t, list) for t in question):
            raise RecordError("'question' must be a list of turns, each a list of messages", "question")
        functions = record.get("function")
        if not isinstance(functions, list):
            raise RecordError("'function' must be a list of function docs", "function")
        hinted = with_python_hint(functions)
        meta: dict[str, Any] = {"category": category, "mode": mode}
        inputs: dict[str, Any] = {}
        if mode == "fc":
            inputs["tools"] = openai_tools(hinted)
        if category in MULTI_TURN_CATEGORIES:
            meta.update(involved_classes=record["involved_classes"], initial_config=record.get("initial_config", {}),
                        ground_truth=record["ground_truth"])
            inputs["bfcl_turns"] = question
            if mode == "prompt":
                inputs["system_prompt"] = system_prompt(hinted)
            first = question[0]
        else:
            if category not in RELEVANCE_CATEGORIES:
                meta["ground_truth"] = record["ground_truth"]
            meta["functions"] = functions
            first = question[0] if mode == "fc" else prompt_messages(question[0], system_prompt(hinted))
        return {"id": str(record["id"]), "messages": first, "inputs": inputs,
                "metadata": {"bfcl": meta, "bfcl_category": category}}
