"""The `ifeval` metric: IFEval's four accuracies, as lm-evaluation-harness's ``process_results`` gives them.

- ``prompt_level_strict_acc`` / ``prompt_level_loose_acc``: 1.0 when every instruction of the prompt is
  followed (strictly / loosely), else 0.0; the aggregator averages them over samples;
- ``inst_level_strict_acc`` / ``inst_level_loose_acc``: one 0/1 per instruction; the aggregator flattens
  the lists, i.e. micro-averages over all instructions, as lm-eval's ``agg_inst_level_acc`` does.

Loose scoring also accepts the response without its first and/or last line and with asterisks removed.
The response is ``model_output.answer``; ``instruction_id_list`` and ``kwargs`` come from
``sample.metadata`` (put there by the ``ifeval`` preprocessor).
"""
from __future__ import annotations

from typing import Any

from gage_eval.benchmarks.ifeval import text_tools
from gage_eval.benchmarks.ifeval.checkers import InstructionError, build_all, evaluate
from gage_eval.metrics.base import Metric, MetricContext, MetricResult
from gage_eval.registry import registry

_SENTENCE_IDS = frozenset({"length_constraints:number_sentences", "change_case:capital_word_frequency"})


@registry.asset("metrics", "ifeval", desc="IFEval instruction following: prompt_level_strict_acc, "
                "prompt_level_loose_acc, inst_level_strict_acc, inst_level_loose_acc (lm-eval's definitions)",
                tags=("ifeval", "instruction_following"))
class IFEvalMetric(Metric):
    def evaluate(self, context: MetricContext) -> MetricResult:
        metadata = context.sample.metadata
        if "instruction_id_list" not in metadata:
            raise ValueError(f"sample {context.sample.id!r} has no metadata.instruction_id_list: the ifeval metric "
                             "needs records of the google/IFEval schema read with params.preprocess: ifeval")
        answer = context.get("model_output.answer", "")
        response = answer if isinstance(answer, str) else str(answer)
        try:
            instructions = build_all(metadata["instruction_id_list"], metadata.get("kwargs") or [])
        except InstructionError as exc:
            raise ValueError(f"sample {context.sample.id!r}: metadata.{exc.field}: {exc}") from None
        results = evaluate(instructions, response)
        strict = [1.0 if r.strict else 0.0 for r in results]
        loose = [1.0 if r.loose else 0.0 for r in results]
        details: dict[str, Any] = {
            "instructions": [{"id": r.id, "strict": r.strict, "loose": r.loose} for r in results],
            "sentence_splitter": text_tools.sentence_splitter()[0],
        }
        if any(r.id in _SENTENCE_IDS for r in results):
            details["word_tokenizer"] = text_tools.word_tokenizer_name()
        values: dict[str, float | list[float]] = {
            "prompt_level_strict_acc": float(all(strict)),
            "inst_level_strict_acc": strict,
            "prompt_level_loose_acc": float(all(loose)),
            "inst_level_loose_acc": loose,
        }
        return MetricResult(values, details)
