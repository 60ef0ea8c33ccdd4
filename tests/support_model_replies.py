"""What the scripted "model" answers to `gage support design --model` and `implement --model` in the tests:
a support_config per fixture layout (each differs from the inspection's draft, so the design is visibly the
model's) and a hand-written preprocessor per layout in the strict file-block format."""
from __future__ import annotations

MC_DESIGN = '''Here is my proposal.
```yaml support_config
slug: mmlu_mc
task_type: multiple_choice
preprocessor: mmlu_mc
dataset: {source: local, loader: jsonl, path: somewhere/else.jsonl}
fields: {question: question, choices: choices, answer: answer, group: subject}
answer_format: index
prompt:
  template: "Question: {question}\\nOptions:\\n{options}\\nAnswer:"
  instruction: Reply with the letter only.
generation: {max_tokens: 16}
metrics: [mc_accuracy]
```'''

MC_CODE = '''=== FILE: gage_benchmarks/mmlu_mc/preprocess.py ===
"""MMLU-layout records (question, subject, choices, answer index), written by a model."""
from __future__ import annotations

from typing import Any

from gage_eval.benchmarks.mc_chat import LetteredChatPreprocessor
from gage_eval.datasets.preprocess import RecordError
from gage_eval.registry import registry


@registry.asset("dataset_preprocessors", "mmlu_mc", desc="MMLU-layout records (model-written)")
class MmluMc(LetteredChatPreprocessor):
    default_instruction = "Reply with the letter only."

    def chat_stem(self, doc: dict[str, Any]) -> str:
        return self.text_field(doc, "question")

    def doc_to_choice(self, doc: dict[str, Any]) -> list[str]:
        return [str(c) for c in self.field(doc, "choices")]

    def doc_to_text(self, doc: dict[str, Any]) -> str:
        options = "\\n".join(f"{'ABCDEFGHIJ'[i]}. {c}" for i, c in enumerate(self.doc_to_choice(doc)))
        return f"Question: {self.text_field(doc, 'question')}\\nOptions:\\n{options}\\nAnswer:"

    def doc_to_target(self, doc: dict[str, Any]) -> int:
        answer = self.field(doc, "answer")
        if not isinstance(answer, int) or not 0 <= answer < len(self.doc_to_choice(doc)):
            raise RecordError(f"answer {answer!r} is not an option index", "answer")
        return answer
=== END FILE ===
'''

MATH_DESIGN = '''```yaml support_config
slug: gsm_math
task_type: math
preprocessor: gsm_math
dataset: {source: local, loader: jsonl}
fields: {question: question, answer: answer}
answer_format: gsm8k
prompt:
  template: "Q: {question}\\nA:"
  instruction: Think step by step, then give the final answer after '####'.
generation: {max_tokens: 400}
metrics:
- metric_id: exact_match
  implementation: regex_extract_match
  params:
    filters:
    - {name: strict, regex: '#### (\\-?[0-9\\.\\,]+)', group_select: 0}
    - {name: flexible, regex: '(-?[$0-9.,]{2,})|(-?[0-9]+)', group_select: -1}
    regexes_to_ignore: [',', '\\$', '\\.$']
```'''

MATH_CODE = '''=== FILE: gage_benchmarks/gsm_math/preprocess.py ===
from __future__ import annotations

from typing import Any

from gage_eval.benchmarks.base import BenchmarkPreprocessor
from gage_eval.datasets.preprocess import RecordError
from gage_eval.registry import registry


@registry.asset("dataset_preprocessors", "gsm_math")
class GsmMath(BenchmarkPreprocessor):
    output_type = "generate_until"
    default_instruction = "Think step by step, then give the final answer after '####'."

    def doc_to_text(self, doc: dict[str, Any]) -> str:
        question = self.text_field(doc, "question")
        return question if self.kwargs.get("style") == "chat" else f"Q: {question}\\nA:"

    def doc_to_target(self, doc: dict[str, Any]) -> str:
        answer = self.text_field(doc, "answer")
        if "####" not in answer:
            raise RecordError("the solution has no '#### N' line", "answer")
        return answer.rsplit("####", 1)[1].strip()
=== END FILE ===
'''

JUDGED_DESIGN = '''```yaml support_config
slug: mt_judged
task_type: open_ended
preprocessor: mt_judged
dataset: {source: local, loader: jsonl}
fields: {question: turns.0, reference: reference.0, id: question_id, group: category}
answer_format: none
prompt: {template: "{question}"}
generation: {max_tokens: 512}
judge: {kind: score, min_score: 1, max_score: 10}
metrics: [judge_score]
confirm: [only the first turn is asked]
```'''

JUDGED_CODE = '''=== FILE: gage_benchmarks/mt_judged/preprocess.py ===
from __future__ import annotations

from typing import Any

from gage_eval.benchmarks.base import BenchmarkPreprocessor
from gage_eval.datasets.preprocess import RecordError
from gage_eval.registry import registry


@registry.asset("dataset_preprocessors", "mt_judged")
class MtJudged(BenchmarkPreprocessor):
    output_type = "generate_until"

    def doc_to_text(self, doc: dict[str, Any]) -> str:
        turns = self.field(doc, "turns")
        if not isinstance(turns, list) or not turns:
            raise RecordError("turns must list the user turns", "turns")
        return str(turns[0])

    def doc_to_target(self, doc: dict[str, Any]) -> str:
        return str((doc.get("reference") or [""])[0])

    def references(self, doc: dict[str, Any]) -> list[Any]:
        return [self.doc_to_target(doc)] if self.doc_to_target(doc) else []

    def extra_metadata(self, doc: dict[str, Any]) -> dict[str, Any]:
        return {"category": doc.get("category")}

    def to_sample(self, record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        fields = super().to_sample(record, **kwargs)
        fields["id"] = str(self.field(record, "question_id"))
        return fields
=== END FILE ===
'''

LAYOUTS = {"mc": ("mmlu_mc", MC_DESIGN, MC_CODE), "math": ("gsm_math", MATH_DESIGN, MATH_CODE),
           "judged": ("mt_judged", JUDGED_DESIGN, JUDGED_CODE)}
