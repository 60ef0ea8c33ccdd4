"""The shared benchmark machinery: lm-eval-style contexts, few-shot sampling, both scoring modes, MC metrics."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gage_eval.benchmarks.base import BenchmarkPreprocessor
from gage_eval.config.models import DatasetSpec
from gage_eval.datasets import iter_samples
from gage_eval.errors import ConfigError, DatasetError
from gage_eval.metrics.base import MetricContext
from gage_eval.metrics.multiple_choice import MultipleChoiceAccuracy, TruthfulQAMC2
from gage_eval.registry import registry
from gage_eval.sample import Sample

from .conftest import write_jsonl


@registry.asset("dataset_preprocessors", "toy_mc_test")
class ToyMC(BenchmarkPreprocessor):
    def description(self, doc: dict[str, Any]) -> str:
        return f"Questions about {doc['topic']}.\n\n"

    def doc_to_text(self, doc: dict[str, Any]) -> str:
        return f"Q: {self.field(doc, 'q')}\nA:"

    def doc_to_choice(self, doc: dict[str, Any]) -> list[str]:
        return list(self.field(doc, "options"))

    def doc_to_target(self, doc: dict[str, Any]) -> int:
        return int(self.field(doc, "gold"))

    def fewshot_group(self, doc: dict[str, Any]) -> Any:
        return doc["topic"]


def _docs(n: int, topic: str = "cats") -> list[dict[str, Any]]:
    return [{"q": f"{topic} question {i}?", "options": ["yes", "no", "maybe so"], "gold": i % 3, "topic": topic}
            for i in range(n)]


def _spec(path: Path, **kwargs: Any) -> DatasetSpec:
    return DatasetSpec(dataset_id="toy", loader="jsonl",
                       params={"path": str(path), "preprocess": "toy_mc_test", "preprocess_kwargs": kwargs})


def test_zero_shot_sample_serves_both_scoring_modes(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "test.jsonl", _docs(3))
    sample = list(iter_samples(_spec(path)))[1]
    assert sample.inputs["ll_context"] == "Questions about cats.\n\nQ: cats question 1?\nA:"
    assert sample.inputs["ll_continuations"] == [" yes", " no", " maybe so"]
    assert sample.label == "B" and sample.metadata["gold_index"] == 1
    assert [c.model_dump()["text"] if hasattr(c, "model_dump") else c["text"] for c in sample.choices] == \
        ["yes", "no", "maybe so"]
    # completion style: one user message with exactly the scored context
    assert [m.role for m in sample.messages] == ["user"]
    assert sample.messages[0].content == sample.inputs["ll_context"]


def test_few_shot_first_n_same_group_and_never_the_question_itself(tmp_path: Path) -> None:
    pool = _docs(4, "dogs") + _docs(4, "cats")
    write_jsonl(tmp_path / "dev.jsonl", pool)
    path = write_jsonl(tmp_path / "test.jsonl", _docs(2))
    samples = list(iter_samples(_spec(path, num_fewshot=2, fewshot_path=str(tmp_path / "dev.jsonl"))))
    ctx = samples[0].inputs["ll_context"]
    # same topic only, first two that are not the question itself (cats question 0 is in the pool too)
    assert ctx == ("Questions about cats.\n\nQ: cats question 1?\nA: no\n\nQ: cats question 2?\nA: maybe so\n\n"
                   "Q: cats question 0?\nA:")
    assert samples[0].metadata["num_fewshot"] == 2


def test_random_few_shot_is_seeded_by_question_not_position(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "dev.jsonl", _docs(30))
    docs = _docs(6)
    forward = write_jsonl(tmp_path / "a.jsonl", docs)
    backward = write_jsonl(tmp_path / "b.jsonl", docs[::-1])
    kw = {"num_fewshot": 3, "fewshot_sampler": "random", "fewshot_seed": 7, "fewshot_path": str(tmp_path / "dev.jsonl")}
    a = {s.metadata.get("q", s.inputs["ll_context"][-30:]): s.inputs["ll_context"] for s in iter_samples(_spec(forward, **kw))}
    b = {s.metadata.get("q", s.inputs["ll_context"][-30:]): s.inputs["ll_context"] for s in iter_samples(_spec(backward, **kw))}
    assert a == b
    other_seed = {**kw, "fewshot_seed": 8}
    c = [s.inputs["ll_context"] for s in iter_samples(_spec(forward, **other_seed))]
    assert sorted(c) != sorted(a.values())


def test_chat_style_puts_shots_in_turns(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "dev.jsonl", _docs(5))
    path = write_jsonl(tmp_path / "test.jsonl", [{"q": "new?", "options": ["a", "b"], "gold": 0, "topic": "cats"}])
    sample = next(iter_samples(_spec(path, num_fewshot=2, style="chat", system_prompt="Be brief.",
                                     instruction="Answer with the letter.", fewshot_path=str(tmp_path / "dev.jsonl"))))
    roles = [m.role for m in sample.messages]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    assert sample.messages[1].content.startswith("Questions about cats.")
    assert sample.messages[2].content == "yes"
    assert sample.messages[-1].content == "Q: new?\nA:\n\nAnswer with the letter."


def test_few_shot_without_a_source_and_bad_records_are_clear_errors(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "test.jsonl", _docs(2) + [{"q": "x", "gold": 0, "topic": "cats"}])
    with pytest.raises(ConfigError) as err:
        iter_samples(_spec(path, num_fewshot=2), config_path="datasets[0]")
    assert "fewshot_split" in err.value.render() and "datasets[0].params.preprocess_kwargs" in err.value.render()
    with pytest.raises(DatasetError) as bad:
        list(iter_samples(_spec(path)))
    text = bad.value.render()
    assert "test.jsonl" in text and "3" in text and "options" in text
    out_of_range = write_jsonl(tmp_path / "bad.jsonl", [{"q": "x", "options": ["a", "b"], "gold": 5, "topic": "t"}])
    with pytest.raises(DatasetError, match="answer"):
        list(iter_samples(_spec(out_of_range)))


def _ctx(lls: list[float] | None, choices: list[str], gold: Any, answer: str = "", **meta: Any) -> MetricContext:
    sample = Sample(id="s", choices=[{"label": chr(65 + i), "text": c} for i, c in enumerate(choices)],
                    metadata={"gold_index": gold, "choice_texts": choices, **meta})
    output: dict[str, Any] = {"answer": answer}
    if lls is not None:
        output.update(loglikelihoods=lls, is_greedy=[False] * len(lls))
    return MetricContext(sample, output, {})


def test_mc_accuracy_matches_numpy_definition_on_random_cases() -> None:
    rng = np.random.default_rng(0)
    metric = MultipleChoiceAccuracy("mc_accuracy", outputs=["acc", "acc_norm", "acc_bytes"])
    for _ in range(300):
        k = int(rng.integers(2, 6))
        choices = ["x" * int(rng.integers(1, 12)) + "é" * int(rng.integers(0, 3)) for _ in range(k)]
        lls = [float(v) for v in np.round(rng.normal(-10, 4, k), 1)]  # rounding makes ties happen
        gold = int(rng.integers(0, k))
        values = metric.evaluate(_ctx(lls, choices, gold)).values
        arr = np.array(lls)
        assert values["acc"] == float(np.argmax(arr) == gold)
        assert values["acc_norm"] == float(np.argmax(arr / np.array([len(c) for c in choices])) == gold)
        assert values["acc_bytes"] == float(np.argmax(arr / np.array([len(c.encode()) for c in choices])) == gold)


def test_mc_accuracy_generative_fallback_counts_unparsed() -> None:
    metric = MultipleChoiceAccuracy("mc_accuracy")
    ok = metric.evaluate(_ctx(None, ["a", "b", "c"], 2, answer="The answer is (C)."))
    assert ok.values == {"acc": 1.0} and not ok.details["unparsed"]
    bad = metric.evaluate(_ctx(None, ["a", "b", "c"], 2, answer="I am not sure."))
    assert bad.values == {"acc": 0.0} and bad.details["unparsed"]


def test_mc2_is_normalized_true_mass_and_survives_underflow() -> None:
    metric = TruthfulQAMC2("mc2")
    lls = [-1.0, -2.0, -0.5, -3.0]
    labels = [1, 1, 0, 0]
    probs = np.exp(lls) / np.exp(lls).sum()
    assert math.isclose(metric.evaluate(_ctx(lls, ["a"] * 4, 0, mc2_labels=labels)).values["mc2"],
                        probs[:2].sum(), rel_tol=1e-12)
    tiny = [-900.0, -901.0]
    assert math.isclose(metric.evaluate(_ctx(tiny, ["a", "b"], 0, mc2_labels=[1, 0])).values["mc2"],
                        1 / (1 + math.exp(-1)), rel_tol=1e-12)


def test_median_aggregate_has_a_bootstrap_interval_that_covers_the_true_median() -> None:
    from gage_eval.metrics.aggregate import RunningStat

    rng = np.random.default_rng(1)
    covered = 0
    for _ in range(40):
        stat = RunningStat("median")
        for x in rng.exponential(1.0, 301):
            stat.add(float(x))
        result = stat.result()
        low, high = result["ci95"]
        assert low <= result["value"] <= high and "bootstrap" in result["ci_method"]
        covered += low <= math.log(2) <= high  # the exponential's true median
    assert covered >= 34  # nominal 95% of 40 draws; 34 is ~2.6 sd below


def test_few_shot_split_from_a_single_local_file_is_refused(tmp_path: Path) -> None:
    """A one-file local copy holds one split: drawing 'train' shots from it would show the model the very
    questions it is scored on."""
    path = write_jsonl(tmp_path / "test.jsonl", _docs(4))
    spec = DatasetSpec(dataset_id="toy", loader="hf_hub", hub_params={"split": "test"},
                       params={"path": str(path), "preprocess": "toy_mc_test",
                               "preprocess_kwargs": {"num_fewshot": 2, "fewshot_split": "train"}})
    with pytest.raises(ConfigError) as err:
        iter_samples(spec, config_path="datasets[0]")
    assert "single file" in err.value.render() and "fewshot_path" in err.value.render()


def test_who_removes_the_evaluated_question_and_how(tmp_path: Path) -> None:
    """lm-eval's rule when the splits are known (declared or named); the text rule for a pool file of unknown
    split (first_n) and always for `random`, which is gage's own sampler."""
    docs = _docs(6)
    test = write_jsonl(tmp_path / "test.jsonl", docs)
    dev = write_jsonl(tmp_path / "dev.jsonl", [{**docs[0], "gold": 2}, *docs])  # same text, another record first

    def first(**kw: Any) -> str:
        return next(iter(iter_samples(_spec(test, num_fewshot=2, fewshot_path=str(dev), **kw)))).inputs["ll_context"]

    q0 = "Q: cats question 0?\nA:"
    assert first().count(q0) == 1                                    # unknown split: dropped by question text
    assert first(fewshot_same_split=False).count(q0) == 3            # another split: both kept, as lm-eval keeps them
    assert first(fewshot_same_split=True).count(q0) == 2             # same split: only the equal record goes
    assert first(fewshot_sampler="random", fewshot_same_split=False).count(q0) == 1  # random: always by text
    # the pool file is the evaluated file: the same split, derived — lm_eval draws n + 1 and drops the record
    same_file = list(iter_samples(_spec(test, num_fewshot=5, fewshot_sampler="lm_eval", fewshot_path=str(test))))
    assert all(s.metadata["num_fewshot"] == 5 for s in same_file)
    assert all(s.inputs["ll_context"].count(s.inputs["ll_context"].split("\n\n")[-1]) == 1 for s in same_file)
    declared_other = list(iter_samples(_spec(test, num_fewshot=5, fewshot_sampler="lm_eval", fewshot_path=str(test),
                                             fewshot_same_split=False)))  # a fact beats the declaration
    assert [s.inputs["ll_context"] for s in declared_other] == [s.inputs["ll_context"] for s in same_file]
    with pytest.raises(DatasetError, match="fewshot_same_split must be true or false"):
        first(fewshot_same_split="yes")
