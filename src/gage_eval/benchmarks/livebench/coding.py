"""LiveBench coding (LCB_generation, coding_completion): the answer's code run against the question's public
and private tests in gage's sandbox, scored 1 only when every test passes — LiveBench's
``LCB_generation_process_results`` with LiveCodeBench's grader (`lcb_harness`, inlined into the program).

The private tests come as JSON, or (LiveCodeBench's packing) base64 of zlib of a pickled JSON string; the
pickle is read with an unpickler that rebuilds plain strings only, so a question file cannot run code here.
"""
from __future__ import annotations

import base64
import io
import json
import pickle
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gage_eval.benchmarks.livebench.text import SandboxUnavailable, ScoringError, Verdict
from gage_eval.sandbox import Limits, Sandbox, default_sandbox

LCB_TIMEOUT_S = 6  # LiveCodeBench's per-test alarm
_HARNESS = (Path(__file__).with_name("lcb_harness.py")).read_text(encoding="utf-8")


def extract_code(model_output: str) -> str:
    """LiveCodeBench's ``extract_code`` for chat models: the text between the last two ``` lines; a reply
    wrapped in single backticks loses them; a lone closing fence on the last line is dropped."""
    lines = model_output.rstrip().split("\n")
    fences = [i for i, line in enumerate(lines) if "```" in line]
    if len(fences) < 2:
        if len(model_output) > 1 and model_output[0] == "`" and model_output[-1] == "`":
            return model_output[1:-1]
        if len(fences) == 1 and fences[0] == len(lines) - 1:
            return "\n".join(lines[:-1])
        return model_output.rstrip()
    return "\n".join(lines[fences[-2] + 1:fences[-1]])


class _StringsOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a question's test cases")


def decode_tests(raw: Any, field: str) -> list[dict[str, Any]]:
    if isinstance(raw, list):
        return raw
    if not isinstance(raw, str):
        raise ScoringError(f"{field} must be a JSON string, not {type(raw).__name__}")
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        pass
    try:
        packed = _StringsOnly(io.BytesIO(zlib.decompress(base64.b64decode(raw.encode("utf-8"))))).load()
        return json.loads(packed)
    except Exception as exc:  # noqa: BLE001 - any decoding failure is the same problem for the user
        raise ScoringError(f"{field} is neither JSON nor LiveCodeBench's packed tests: {exc}") from None


def _function_name(original: Any) -> str | None:
    if isinstance(original, str):
        original = json.loads(original)
    meta = (original or {}).get("metadata") if isinstance(original, dict) else None
    if isinstance(meta, str):
        meta = json.loads(meta) if meta.strip() else {}
    return (meta or {}).get("func_name")


def solution_code(answer: str, partial: str | None) -> str:
    """The extracted code, behind the question's starter code when it does not already start with it."""
    code = extract_code(answer)
    if partial and not code.startswith(partial):
        return partial + "\n" + code
    return code


@dataclass(frozen=True, slots=True)
class CodingQuestion:
    inputs: list[str]
    outputs: list[str]
    fn_name: str | None
    partial: str | None

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any]) -> CodingQuestion:
        tests = (decode_tests(metadata.get("public_test_cases") or "[]", "public_test_cases")
                 + decode_tests(metadata.get("private_test_cases") or "[]", "private_test_cases"))
        if not tests:
            raise ScoringError("the question has no test cases")
        return cls([t["input"] for t in tests], [t["output"] for t in tests],
                   _function_name(metadata.get("original_json")), metadata.get("partial_solution") or None)

    def program(self, code: str) -> str:
        tests = json.dumps({"inputs": self.inputs, "outputs": self.outputs, "fn_name": self.fn_name})
        return f"{_HARNESS}\n\nmain({code!r}, json.loads({tests!r}), {LCB_TIMEOUT_S})\n"

    def limits(self, memory_mb: int) -> Limits:
        # LiveCodeBench's global timeout for one program: (per-test timeout + 1) x tests + 5 s.
        return Limits(timeout_s=float((LCB_TIMEOUT_S + 1) * len(self.inputs) + 5),
                      memory_bytes=memory_mb * 1024 * 1024)


async def score_coding(metadata: dict[str, Any], answer: str, memory_mb: int = 4096,
                       sandbox: Sandbox | None = None) -> Verdict:
    question = CodingQuestion.from_metadata(metadata)
    code = solution_code(answer, question.partial)
    result = await (sandbox or default_sandbox()).run(question.program(code), question.limits(memory_mb))
    if result.status == "error":
        raise SandboxUnavailable(f"the code sandbox could not run the program: {result.reason}")
    return Verdict(float(result.passed), f"{len(question.inputs)} tests",
                   "" if result.passed else f"{result.status}: {result.reason[:300]}")
