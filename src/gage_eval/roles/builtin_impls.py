"""Small built-in context and judge implementations, useful offline and as templates for plugins."""
from __future__ import annotations

from typing import Any

from gage_eval.registry import registry
from gage_eval.sample import Message


@registry.asset("context_impls", "static_context", desc="prepend a fixed system message", tags=("demo",))
class StaticContext:
    def __init__(self, text: str, role: str = "system") -> None:
        self.text = text
        self.role = role

    def provide(self, payload: dict[str, Any]) -> dict[str, Any]:
        sample = payload["sample"]
        sample.messages.insert(0, Message(role=self.role, content=self.text))  # type: ignore[arg-type]
        return {"context": self.text}


@registry.asset("judge_impls", "reference_match", desc="offline judge: normalized answer equals a reference",
                tags=("offline",))
class ReferenceMatchJudge:
    def __init__(self, case_sensitive: bool = False) -> None:
        self.case_sensitive = case_sensitive

    def _norm(self, value: Any) -> str:
        text = " ".join(str(value).split())
        return text if self.case_sensitive else text.casefold()

    def invoke(self, payload: dict[str, Any]) -> dict[str, Any]:
        sample = payload["sample"]
        answer = self._norm((payload.get("model_output") or {}).get("answer", ""))
        refs = sample.references or ([sample.label] if sample.label is not None else [])
        resolved = any(answer == self._norm(r) for r in refs)
        return {"resolved": resolved, "score": 1.0 if resolved else 0.0}
