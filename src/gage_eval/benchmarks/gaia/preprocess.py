"""The `gaia` preprocessor: a GAIA task (task_id, Question, Level, Final answer, file_name) -> Sample.

The prompt is GAIA's own system prompt (the paper's, used by the leaderboard's baselines): think, then end with
"FINAL ANSWER: ...". An attached file is named in the question with its absolute path (``inputs.files`` too), for
an agent with file tools; a plain model sees only the path.
"""
from __future__ import annotations

from typing import Any

from gage_eval.datasets.preprocess import BasePreprocessor, RecordError
from gage_eval.registry import registry

SYSTEM_PROMPT = (
    "You are a general AI assistant. I will ask you a question. Report your thoughts, and finish your answer with the "
    "following template: FINAL ANSWER: [YOUR FINAL ANSWER]. YOUR FINAL ANSWER should be a number OR as few words as "
    "possible OR a comma separated list of numbers and/or strings. If you are asked for a number, don't use comma to "
    "write your number neither use units such as $ or percent sign unless specified otherwise. If you are asked for a "
    "string, don't use articles, neither abbreviations (e.g. for cities), and write the digits in plain text unless "
    "specified otherwise. If you are asked for a comma separated list, apply the above rules depending of whether the "
    "element to be put in the list is a number or a string.")


@registry.asset("dataset_preprocessors", "gaia", desc="GAIA tasks (Question, Level, Final answer, attached file) -> "
                "GAIA's system prompt and the question", tags=("gaia", "agents"))
class GaiaPreprocessor(BasePreprocessor):
    required_fields = ("task_id", "Question")

    def to_sample(self, record: dict[str, Any], system_prompt: str | None = None, **_: Any) -> dict[str, Any]:
        answer = record.get("Final answer")
        if answer in (None, "", "?"):
            raise RecordError("the task has no 'Final answer' (the test split's answers are hidden)", "Final answer")
        level = record.get("Level")
        if str(level) not in ("1", "2", "3"):
            raise RecordError(f"'Level' must be 1, 2 or 3, not {level!r}", "Level")
        question = record["Question"]
        files = [record["file_path"]] if record.get("file_path") else []
        if files:
            question += f"\n\nAttached file: {files[0]}"
        return {"id": str(record["task_id"]), "label": str(answer), "references": [str(answer)],
                "messages": [{"role": "system", "content": system_prompt or SYSTEM_PROMPT},
                             {"role": "user", "content": question}],
                "inputs": {"files": files} if files else {},
                "metadata": {"level": str(level), "file_name": record.get("file_name") or ""}}
