"""ARC-Easy/Challenge, HellaSwag, PIQA, TruthfulQA MC1/MC2 against lm-evaluation-harness 0.4.13 itself.

The reference is lm-eval's own `ConfigurableTask`, built from its task YAML (with its process_docs and
process_results functions) over the same generated records, with `custom_dataset` standing in for the hub
download. Records use the real hub schemas and are chosen to hit the edge cases: unicode, brackets and
WikiHow [header]/[title] tags, double and trailing spaces, ARC's numeric labels, choices of unequal length.
"""
from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

import datasets
import lm_eval
import pytest
from lm_eval.api.task import ConfigurableTask
from lm_eval.tasks._yaml_loader import load_yaml

from gage_eval.config.models import DatasetSpec
from gage_eval.config.templates import find_template, load_template
from gage_eval.datasets import iter_samples
from gage_eval.errors import DatasetError
from gage_eval.metrics.base import MetricContext
from gage_eval.metrics.multiple_choice import MultipleChoiceAccuracy, TruthfulQAMC2
from gage_eval.registry import registry
from gage_eval.sample import Sample

from .conftest import write_jsonl

datasets.disable_progress_bars()
logging.getLogger("lm_eval").setLevel(logging.ERROR)
LM_TASKS = Path(lm_eval.__file__).parent / "tasks"
BENCH_DIR = Path(__file__).resolve().parents[1] / "src" / "gage_eval" / "benchmarks"
N = 60

WORDS = ["water", "the cat's", "naïve", "café", "中文字", "Ελληνικά", "🙂", "[brackets]", "(paren)", "{{curly}}",
         "{% raw %}", "'single'", '"double"', "back\\slash", "tab\there", "new\nline", "a  b", "x[header]y",
         "[title]", " [title] Step", "[step]", "$5.00", "1/2", "ABC", "mIxEd", "Über", "%d", "\u00a0nbsp"]


def _text(rng: random.Random, lo: int = 1, hi: int = 7) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))
    return text + rng.choice(["", "", " ", "  ", "?", ".", " \n"])


def arc_docs(rng: random.Random, n: int, prefix: str = "arc") -> list[dict[str, Any]]:
    docs = []
    for i in range(n):
        k = rng.randint(3, 5)
        labels = list("ABCDE"[:k]) if rng.random() < 0.6 else [str(j + 1) for j in range(k)]
        texts = [_text(rng, 1, 1 + 4 * (j % 3)) for j in range(k)]
        docs.append({"id": f"{prefix}_{i}", "question": f"{prefix} {i}: {_text(rng, 2, 12)}",
                     "choices": {"text": texts, "label": labels}, "answerKey": rng.choice(labels)})
    return docs


def hellaswag_docs(rng: random.Random, n: int) -> list[dict[str, Any]]:
    docs = []
    for i in range(n):
        ctx_a = _text(rng, 2, 10) + rng.choice(["", " [title] Make tea.", " [header] How to", "  [step] go"])
        ctx_b = rng.choice(["", "then", "The MAN", "she  ", _text(rng, 1, 4), "[substeps] ok"])
        # never empty after cleaning: lm-eval's acc_norm divides by len(ending) = 0 there (see README)
        endings = [f"e{j} " + _text(rng, 1, 2 + 3 * j) + rng.choice(["", " [title] x", " [header]"]) for j in range(4)]
        docs.append({"ind": i, "activity_label": rng.choice(["Cooking", "Personal Care and Style", "中文", _text(rng)]),
                     "ctx_a": ctx_a, "ctx_b": ctx_b, "ctx": f"{ctx_a} {ctx_b}", "endings": endings,
                     "source_id": f"wikihow~{i}", "split": "val", "split_type": rng.choice(["indomain", "zeroshot"]),
                     "label": str(rng.randint(0, 3))})
    return docs


def piqa_docs(rng: random.Random, n: int) -> list[dict[str, Any]]:
    return [{"goal": f"{i} {_text(rng, 2, 10)}", "sol1": _text(rng, 1, 3), "sol2": _text(rng, 1, 12),
             "label": rng.randint(0, 1)} for i in range(n)]


def truthfulqa_docs(rng: random.Random, n: int) -> list[dict[str, Any]]:
    docs = []
    for i in range(n):
        k1, k2 = rng.randint(2, 6), rng.randint(2, 9)
        labels2 = [1] * rng.randint(1, k2 - 1)
        labels2 += [0] * (k2 - len(labels2))
        rng.shuffle(labels2)  # not sorted: lm-eval's mc2 v3.0 fixed exactly that assumption
        docs.append({"question": f"{i} {_text(rng, 2, 10)}",
                     "mc1_targets": {"choices": [_text(rng, 1, 8) for _ in range(k1)], "labels": [1] + [0] * (k1 - 1)},
                     "mc2_targets": {"choices": [_text(rng, 1, 8) for _ in range(k2)], "labels": labels2}})
    return docs


# benchmark: (lm-eval yaml, our preprocessor, record factory, eval split, lm-eval metric names)
BENCHES: dict[str, tuple[str, str, Any, str, tuple[str, ...]]] = {
    "arc_easy": ("arc/arc_easy.yaml", "arc", arc_docs, "test", ("acc", "acc_norm")),
    "arc_challenge": ("arc/arc_challenge.yaml", "arc", arc_docs, "test", ("acc", "acc_norm")),
    "hellaswag": ("hellaswag/hellaswag.yaml", "hellaswag", hellaswag_docs, "validation", ("acc", "acc_norm")),
    "piqa": ("piqa/piqa.yaml", "piqa", piqa_docs, "validation", ("acc", "acc_norm")),
    "truthfulqa_mc1": ("truthfulqa/truthfulqa_mc1.yaml", "truthfulqa_mc1", truthfulqa_docs, "validation", ("acc",)),
    "truthfulqa_mc2": ("truthfulqa/truthfulqa_mc2.yaml", "truthfulqa_mc2", truthfulqa_docs, "validation", ("mc2",)),
}


def lm_task(yaml_name: str, splits: dict[str, list[dict[str, Any]]], **overrides: Any) -> ConfigurableTask:
    """lm-eval's task from its own YAML; `custom_dataset` replaces the hub download with our records."""
    cfg = load_yaml(LM_TASKS / yaml_name)
    data = datasets.DatasetDict({k: datasets.Dataset.from_list(v) for k, v in splits.items()})
    cfg.update(overrides, custom_dataset=lambda **_: data)
    return ConfigurableTask(config=cfg)


def _setup(name: str, tmp_path: Path, seed: int = 0) -> tuple[ConfigurableTask, list[dict[str, Any]], list[Sample]]:
    yaml_name, preprocess, factory, split, _ = BENCHES[name]
    rng = random.Random(f"{name}{seed}")
    docs = factory(rng, N)
    splits = {split: docs, "train": factory(rng, 5)}
    if split == "test":
        splits["validation"] = docs
    task = lm_task(yaml_name, splits)
    path = write_jsonl(tmp_path / f"{name}.jsonl", docs)
    samples = list(iter_samples(DatasetSpec(dataset_id=name, loader="jsonl",
                                            params={"path": str(path), "preprocess": preprocess})))
    ref_docs = list(task.test_docs() if split == "test" else task.validation_docs())
    assert len(samples) == len(ref_docs) == N
    return task, ref_docs, samples


@pytest.mark.parametrize("name", list(BENCHES))
def test_loglikelihood_requests_equal_lm_eval(name: str, tmp_path: Path) -> None:
    task, ref_docs, samples = _setup(name, tmp_path)
    for doc, sample in zip(ref_docs, samples):
        requests = task.construct_requests(doc, task.fewshot_context(doc, 0))
        contexts = {inst.arguments[0] for inst in requests}
        assert contexts == {sample.inputs["ll_context"]}
        assert [inst.arguments[1] for inst in requests] == sample.inputs["ll_continuations"]
        assert sample.metadata["gold_index"] == task.doc_to_target(doc)
        # completion style sends exactly the scored context
        assert sample.messages[-1].content == sample.inputs["ll_context"]


def test_edge_cases_are_really_exercised(tmp_path: Path) -> None:
    _, hs_docs, hs = _setup("hellaswag", tmp_path)
    assert any("[title]" in d["ctx_a"] for d in hs_docs) and any("[header]" in e for d in hs_docs for e in d["endings"])
    assert all("[" not in s.inputs["ll_context"] for s in hs)
    _, arc, _ = _setup("arc_easy", tmp_path)
    assert {d["choices"]["label"][0] for d in arc} == {"A", "1"}
    assert any(d["question"].endswith(" ") for d in arc)


@pytest.mark.parametrize("name", list(BENCHES))
def test_scores_equal_lm_eval_process_results(name: str, tmp_path: Path) -> None:
    task, ref_docs, samples = _setup(name, tmp_path, seed=1)
    metric_names = BENCHES[name][4]
    ours_metric = TruthfulQAMC2("mc2") if name == "truthfulqa_mc2" else MultipleChoiceAccuracy("mc_accuracy")
    rng = random.Random(name)
    seen: dict[str, set[float]] = {m: set() for m in metric_names}
    for round_ in range(3):
        for doc, sample in zip(ref_docs, samples):
            k = len(sample.inputs["ll_continuations"])
            # coarse values make ties common; the last round gives every choice the same score
            lls = [float(rng.randint(-40, -1)) / 2 for _ in range(k)] if round_ < 2 else [-3.0] * k
            reference = task.process_results(doc, [(ll, False) for ll in lls])
            ours = ours_metric.evaluate(MetricContext(sample, {"loglikelihoods": lls}, {})).values
            for metric in metric_names:
                expected = reference["acc" if metric == "mc2" else metric]
                assert ours[metric] == pytest.approx(float(expected), abs=1e-9), (metric, lls, doc)
                seen[metric].add(round(float(ours[metric]), 3))
    assert all(len(values) > 1 for values in seen.values())  # both right and wrong answers were scored


def _parquet(path: Path, rows: list[dict[str, Any]], features: datasets.Features | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_list(rows, features=features).to_parquet(str(path))
    return path


def test_arc_few_shot_from_a_hub_snapshot_matches_lm_eval_first_n(tmp_path: Path) -> None:
    rng = random.Random(5)
    train, test = arc_docs(rng, 8, "train"), arc_docs(rng, 6, "test")
    snapshot = tmp_path / "ai2_arc"
    _parquet(snapshot / "ARC-Challenge" / "train-00000-of-00001.parquet", train)
    _parquet(snapshot / "ARC-Challenge" / "test-00000-of-00001.parquet", test)
    _parquet(snapshot / "ARC-Easy" / "test-00000-of-00001.parquet", arc_docs(rng, 2, "easy"))

    def spec(**kwargs: Any) -> DatasetSpec:
        return DatasetSpec(dataset_id="arc_challenge", loader="hf_hub",
                           hub_params={"subset": "ARC-Challenge", "split": "test"},
                           params={"path": str(snapshot), "preprocess": "arc", "preprocess_kwargs": {
                               "num_fewshot": 3, "fewshot_split": "train", "fewshot_sampler": "first_n", **kwargs}})

    samples = list(iter_samples(spec()))
    task = lm_task("arc/arc_challenge.yaml", {"train": train, "validation": test, "test": test},
                   fewshot_config={"sampler": "first_n"})
    assert [s.id for s in samples] == [d["id"] for d in test]
    for doc, sample in zip(task.test_docs(), samples):
        assert sample.inputs["ll_context"] == task.fewshot_context(doc, 3)
        assert sample.metadata["num_fewshot"] == 3
    # the template's default sampler reproduces lm-eval's default (random, Random(1234), in order) draw
    drawn = list(iter_samples(spec(fewshot_sampler="lm_eval", fewshot_seed=1234)))
    default_task = lm_task("arc/arc_challenge.yaml", {"train": train, "validation": test, "test": test})
    default_task.set_fewshot_seed(1234)
    assert [s.inputs["ll_context"] for s in drawn] == [default_task.fewshot_context(d, 3)
                                                       for d in default_task.test_docs()]
    chat = next(iter(iter_samples(spec(style="chat"))))
    roles = [m.role for m in chat.messages]
    assert roles == ["user", "assistant"] * 3 + ["user"]
    first_gold = train[0]["choices"]["label"].index(train[0]["answerKey"])
    assert chat.messages[1].content == "ABCDE"[first_gold]
    assert chat.messages[-1].content.endswith("Answer with the letter of the correct option.")
    assert f"\nA. {test[0]['choices']['text'][0]}\nB. " in chat.messages[-1].content
    # the generated letter is scored by mc_accuracy's generative path
    gold = "ABCDE"[chat.metadata["gold_index"]]
    metric = MultipleChoiceAccuracy("mc_accuracy")
    assert metric.evaluate(MetricContext(chat, {"answer": f"The answer is ({gold})."}, {})).values == {"acc": 1.0}


def test_hub_schema_parquet_files_through_hf_hub_loader(tmp_path: Path) -> None:
    rng = random.Random(9)
    hs = hellaswag_docs(rng, 4)
    hs_file = _parquet(tmp_path / "hellaswag" / "validation.parquet", hs)
    samples = list(iter_samples(DatasetSpec(dataset_id="hellaswag", loader="hf_hub", hub_params={"split": "validation"},
                                            params={"path": str(hs_file), "preprocess": "hellaswag"})))
    assert [s.metadata["gold_index"] for s in samples] == [int(d["label"]) for d in hs]

    piqa_features = datasets.Features({"goal": datasets.Value("string"), "sol1": datasets.Value("string"),
                                       "sol2": datasets.Value("string"),
                                       "label": datasets.ClassLabel(names=["0", "1"])})
    pq = piqa_docs(rng, 5)
    pq_file = _parquet(tmp_path / "piqa" / "validation.parquet", pq, piqa_features)
    samples = list(iter_samples(DatasetSpec(dataset_id="piqa", loader="hf_hub", hub_params={"split": "validation"},
                                            params={"path": str(pq_file), "preprocess": "piqa"})))
    assert [s.label for s in samples] == ["AB"[d["label"]] for d in pq]
    assert samples[0].inputs["ll_continuations"] == [" " + pq[0]["sol1"], " " + pq[0]["sol2"]]

    tq = truthfulqa_docs(rng, 4)
    _parquet(tmp_path / "truthful_qa" / "multiple_choice" / "validation-00000-of-00001.parquet", tq)
    for preprocess in ("truthfulqa_mc1", "truthfulqa_mc2"):
        samples = list(iter_samples(DatasetSpec(
            dataset_id=preprocess, loader="hf_hub", hub_params={"subset": "multiple_choice", "split": "validation"},
            params={"path": str(tmp_path / "truthful_qa"), "preprocess": preprocess})))
        targets = "mc1_targets" if preprocess.endswith("1") else "mc2_targets"
        assert [s.metadata["choice_texts"] for s in samples] == [d[targets]["choices"] for d in tq]
        assert all(s.inputs["ll_context"].startswith("Q: What is human life expectancy") for s in samples)
        if preprocess.endswith("2"):
            assert [s.metadata["mc2_labels"] for s in samples] == [d["mc2_targets"]["labels"] for d in tq]


def _bad(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k not in changes or changes[k] is not None}
    out.update({k: v for k, v in changes.items() if v is not None})
    return out


_R = random.Random(3)
_ARC, _HS, _PQ, _TQ = arc_docs(_R, 1)[0], hellaswag_docs(_R, 1)[0], piqa_docs(_R, 1)[0], truthfulqa_docs(_R, 1)[0]
BAD = [
    ("arc", _bad(_ARC, answerKey="Z"), "answerKey"),
    ("arc", _bad(_ARC, question=None), "question"),
    ("arc", _bad(_ARC, choices={"text": ["a", "b"]}), "choices.label"),
    ("hellaswag", _bad(_HS, ctx_b=None), "ctx_b"),
    ("hellaswag", _bad(_HS, label="7"), "label"),
    ("hellaswag", _bad(_HS, label=""), "validation split"),
    ("piqa", _bad(_PQ, label=2), "label"),
    ("piqa", _bad(_PQ, sol2=None), "sol2"),
    ("truthfulqa_mc1", _bad(_TQ, mc1_targets={"choices": ["a", "b"], "labels": [0, 1]}), "mc1_targets.labels"),
    ("truthfulqa_mc2", _bad(_TQ, mc2_targets=None), "mc2_targets"),
    ("truthfulqa_mc2", _bad(_TQ, mc2_targets={"choices": ["a", "b"], "labels": [1]}), "mc2_targets.labels"),
]


@pytest.mark.parametrize(("preprocess", "record", "field"), BAD, ids=[f"{p}-{f}" for p, _, f in BAD])
def test_bad_records_name_file_record_and_field(preprocess: str, record: dict[str, Any], field: str,
                                                tmp_path: Path) -> None:
    good = {"arc": _ARC, "hellaswag": _HS, "piqa": _PQ}.get(preprocess, _TQ)
    path = write_jsonl(tmp_path / "bad_records.jsonl", [good, good, record])
    with pytest.raises(DatasetError) as err:
        list(iter_samples(DatasetSpec(dataset_id="x", loader="jsonl",
                                      params={"path": str(path), "preprocess": preprocess})))
    text = err.value.render()
    assert "bad_records.jsonl" in text and "record 3" in text and field in text, text


@pytest.mark.parametrize("name", list(BENCHES))
def test_templates_pass_the_digest_check_and_point_at_their_preprocessor(name: str) -> None:
    path = BENCH_DIR / name / "v1.yaml"
    assert find_template(name) == path.resolve()
    template = load_template(path)
    dataset = template.definition["datasets"][0]
    assert dataset["dataset_id"] == template.metadata.name == name
    assert registry.get("dataset_preprocessors", dataset["params"]["preprocess"]) is not None
    assert dataset["hub_params"]["hub_id"] == load_yaml(LM_TASKS / BENCHES[name][0])["dataset_path"]
    assert dataset["hub_params"]["split"] == BENCHES[name][3]
    assert (BENCH_DIR / name / "README.md").is_file()
