"""MMLU, CMMLU, C-Eval and GPQA diamond against lm-evaluation-harness 0.4.13 itself.

The reference is lm-eval's own `ConfigurableTask`, built from its per-subject task YAML (includes, the
description, process_docs) over the same generated records, with `custom_dataset` standing in for the hub
download. Records use the real hub schemas and hit the edge cases: Chinese and other unicode, Jinja-looking
text, leading/trailing spaces and newlines, subjects with underscores, GPQA's [title] tags and double spaces.
Our side reads the records the way a user's local copy is read: parquet files through `iter_samples`.
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
from gage_eval.datasets import iter_samples
from gage_eval.metrics.base import MetricContext
from gage_eval.metrics.multiple_choice import MultipleChoiceAccuracy
from gage_eval.sample import Sample

datasets.disable_progress_bars()
logging.getLogger("lm_eval").setLevel(logging.ERROR)
LM_TASKS = Path(lm_eval.__file__).parent / "tasks"
N = 60  # records per benchmark
ALL_METRICS = [{"metric": m, "aggregation": "mean", "higher_is_better": True} for m in ("acc", "acc_norm", "acc_bytes")]

WORDS = ["water", "the cat's", "naïve", "café", "中文字", "水稻", "答案", "Ελληνικά", "🙂", "[brackets]", "(paren)",
         "{{curly}}", "{% raw %}", "'single'", '"double"', "back\\slash", "tab\there", "new\nline", "a  b", "$5.00",
         "1/2", "ABC", "Über", "%d", "\u00a0nbsp", "x²", "∫f(x)dx", "：", "。"]
MMLU_SUBJECTS = ["abstract_algebra", "high_school_european_history", "us_foreign_policy", "anatomy", "virology"]
CMMLU_SUBJECTS = ["agronomy", "chinese_civil_service_exam", "elementary_information_and_technology", "logical"]
CEVAL_SUBJECTS = ["accountant", "mao_zedong_thought", "high_school_chinese", "logic", "physician"]


def text(rng: random.Random, lo: int = 1, hi: int = 7) -> str:
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))
    return rng.choice(["", "", " ", "\n"]) + body + rng.choice(["", "", " ", "  ", "?", "？", " \n", "\n\n"])


def mmlu_docs(rng: random.Random, subjects: list[str], n: int, tag: str = "t") -> list[dict[str, Any]]:
    return [{"question": f"{tag}{i} {text(rng, 2, 12)}", "subject": subjects[i % len(subjects)],
             "choices": [text(rng, 1, 1 + 3 * (j % 3)) for j in range(4)], "answer": rng.randint(0, 3)}
            for i in range(n)]


def cmmlu_docs(rng: random.Random, n: int, tag: str = "t") -> list[dict[str, Any]]:
    return [{"Question": f"{tag}{i} {text(rng, 2, 12)}", **{c: text(rng, 1, 5) for c in "ABCD"},
             "Answer": rng.choice("ABCD")} for i in range(n)]


def ceval_docs(rng: random.Random, n: int, tag: str = "t") -> list[dict[str, Any]]:
    return [{"id": i, "question": f"{tag}{i} {text(rng, 2, 12)}", **{c: text(rng, 1, 5) for c in "ABCD"},
             "answer": rng.choice("ABCD"), "explanation": rng.choice(["", text(rng)])} for i in range(n)]


def gpqa_docs(rng: random.Random, n: int) -> list[dict[str, Any]]:
    docs = []
    for i in range(n):
        answers = [text(rng, 1, 6) + rng.choice(["", " [title] Step", "  x", " [title]"]) for _ in range(4)]
        if i % 17 == 5:  # an incorrect answer equal to the correct one after cleaning: index() takes the first
            answers[1] = " " + answers[0] + " "
        docs.append({"Record ID": f"rec{i:04d}", "Question": f"{i} {text(rng, 2, 14)}", "Correct Answer": answers[0],
                     "Incorrect Answer 1": answers[1], "Incorrect Answer 2": answers[2],
                     "Incorrect Answer 3": answers[3], "High-level domain": rng.choice(["Physics", "Chemistry"]),
                     "Subdomain": rng.choice(["Quantum Mechanics", "Organic Chemistry"])})
    return docs


def lm_task(yaml_path: str, splits: dict[str, Any], **overrides: Any) -> ConfigurableTask:
    """lm-eval's task from its own YAML; `custom_dataset` replaces the hub download with our records."""
    cfg = load_yaml(LM_TASKS / yaml_path)
    for key in ("tag", "group", "task_list"):
        cfg.pop(key, None)
    data = datasets.DatasetDict({k: v if isinstance(v, datasets.Dataset) else datasets.Dataset.from_list(v)
                                 for k, v in splits.items()})
    cfg.update(overrides, custom_dataset=lambda **_: data)
    return ConfigurableTask(config=cfg)


def parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_list(rows).to_parquet(str(path))
    return path


def snapshot(root: Path, by_subject: dict[str, dict[str, list[dict[str, Any]]]]) -> Path:
    """A hub snapshot: <subject>/<split>-00000-of-00001.parquet (the layout of ceval-exam and cais/mmlu)."""
    for subject, splits in by_subject.items():
        for split, rows in splits.items():
            parquet(root / subject / f"{split}-00000-of-00001.parquet", rows)
    return root


def samples_of(spec: DatasetSpec) -> list[Sample]:
    return list(iter_samples(spec))


def assert_same_requests(task: ConfigurableTask, doc: dict[str, Any], sample: Sample, shots: int) -> None:
    context = task.fewshot_context(doc, shots)
    requests = task.construct_requests(doc, context)
    assert {inst.arguments[0] for inst in requests} == {sample.inputs["ll_context"]}
    assert [inst.arguments[1] for inst in requests] == sample.inputs["ll_continuations"]
    gold = task.doc_to_target(doc)
    choices = task.doc_to_choice(doc)
    assert sample.metadata["gold_index"] == (choices.index(gold) if isinstance(gold, str) else gold)
    assert sample.metadata["choice_texts"] == choices
    assert sample.metadata["num_fewshot"] == shots


# -- MMLU ------------------------------------------------------------------------------------------------
def mmlu_setup(tmp_path: Path, shots: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Sample]]:
    rng = random.Random(f"mmlu{shots}")
    dev = mmlu_docs(rng, MMLU_SUBJECTS, 5 * len(MMLU_SUBJECTS), "dev")
    dev.sort(key=lambda d: d["subject"])  # the hub's dev split: grouped by subject, 5 each
    test = mmlu_docs(rng, MMLU_SUBJECTS, N)
    test[7] = dict(dev[0])  # a test question equal to a dev question: lm-eval keeps it in the context
    dev_file = parquet(tmp_path / "dev.parquet", dev)
    test_file = parquet(tmp_path / "test.parquet", test)
    kwargs = {"num_fewshot": shots, "fewshot_split": "dev", "fewshot_sampler": "first_n", "fewshot_path": str(dev_file)}
    spec = DatasetSpec(dataset_id="mmlu", loader="hf_hub", hub_params={"split": "test"},
                       params={"path": str(test_file), "preprocess": "mmlu", "preprocess_kwargs": kwargs})
    return dev, test, samples_of(spec)


@pytest.mark.parametrize("shots", [0, 5])
def test_mmlu_contexts_equal_lm_eval_per_subject(shots: int, tmp_path: Path) -> None:
    dev, test, samples = mmlu_setup(tmp_path, shots)
    assert len(samples) == N
    for subject in MMLU_SUBJECTS:
        task = lm_task(f"mmlu/default/mmlu_{subject}.yaml", {
            "test": [d for d in test if d["subject"] == subject], "dev": [d for d in dev if d["subject"] == subject]})
        ours = [s for s in samples if s.metadata["subject"] == subject]
        ref = list(task.test_docs())
        assert len(ours) == len(ref) >= 10
        for doc, sample in zip(ref, ours):
            assert_same_requests(task, doc, sample, shots)
            assert sample.messages[-1].content == sample.inputs["ll_context"]  # completion style
    question = samples[7].inputs["ll_context"].split("\n\n")[-1]
    # the test question equal to a dev question sees itself as its first example, as in lm-eval
    assert samples[7].inputs["ll_context"].count(question) == (2 if shots else 1)


def test_every_subject_description_equals_lm_eval_yaml() -> None:
    from gage_eval.benchmarks.ceval.preprocess import CEvalPreprocessor
    from gage_eval.benchmarks.cmmlu.preprocess import CMMLUPreprocessor
    from gage_eval.benchmarks.mmlu.preprocess import MMLUPreprocessor

    for pre, pattern in ((MMLUPreprocessor(), "mmlu/default/mmlu_*.yaml"), (CMMLUPreprocessor(), "cmmlu/cmmlu_*.yaml"),
                         (CEvalPreprocessor(), "ceval/ceval-valid_*.yaml")):
        files = sorted(LM_TASKS.glob(pattern))
        assert len(files) in (57, 67, 52)
        for f in files:
            cfg = load_yaml(f)
            assert pre.description({"subject": cfg["dataset_name"]}) == cfg["description"], f.name


# -- CMMLU and C-Eval ----------------------------------------------------------------------------------
CHINESE = {  # name: (lm-eval yaml pattern, eval split, record factory, subjects)
    "cmmlu": ("cmmlu/cmmlu_{}.yaml", "test", cmmlu_docs, CMMLU_SUBJECTS),
    "ceval": ("ceval/ceval-valid_{}.yaml", "val", ceval_docs, CEVAL_SUBJECTS),
}


def chinese_setup(name: str, tmp_path: Path, shots: int) -> tuple[dict[str, dict[str, list]], list[Sample]]:
    _, split, factory, subjects = CHINESE[name]
    rng = random.Random(f"{name}{shots}")
    per = N // len(subjects) + 1
    data = {s: {split: factory(rng, per), "dev": factory(rng, 5, "dev")} for s in subjects}
    root = snapshot(tmp_path / name, data)
    spec = DatasetSpec(dataset_id=name, loader="hf_hub_subsets", hub_params={"split": split},
                       params={"path": str(root), "preprocess": name, "subsets": subjects, "subset_field": "subject",
                               "preprocess_kwargs": {"num_fewshot": shots, "fewshot_split": "dev"}})
    return data, samples_of(spec)


@pytest.mark.parametrize("shots", [0, 5])
@pytest.mark.parametrize("name", list(CHINESE))
def test_chinese_contexts_equal_lm_eval_per_subject(name: str, shots: int, tmp_path: Path) -> None:
    yaml_pattern, split, _, subjects = CHINESE[name]
    data, samples = chinese_setup(name, tmp_path, shots)
    assert len(samples) >= 50
    assert [s.metadata["subject"] for s in samples] == [s for s in subjects for _ in data[s][split]]
    for subject in subjects:
        task = lm_task(yaml_pattern.format(subject), data[subject])
        ours = [s for s in samples if s.metadata["subject"] == subject]
        ref = list(task.eval_docs)
        assert len(ours) == len(ref)
        for doc, sample in zip(ref, ours):
            assert_same_requests(task, doc, sample, shots)
    assert any("答案：" in s.inputs["ll_context"] and "中文字" in s.inputs["ll_context"] for s in samples)


# -- GPQA diamond ------------------------------------------------------------------------------------
def gpqa_setup(tmp_path: Path) -> tuple[list[dict[str, Any]], list[Sample], ConfigurableTask]:
    """lm-eval's docs as a real run gets them: hub data is file-backed, so the first process_docs pass after
    the evaluator's random.seed(0) is cached by `datasets` and every later pass (eval_docs) reads that cache."""
    docs = gpqa_docs(random.Random("gpqa"), N)
    file = parquet(tmp_path / "gpqa_diamond.parquet", docs)
    backed = datasets.load_dataset("parquet", data_files={"train": str(file)}, cache_dir=str(tmp_path / "hf"))["train"]
    random.seed(0)
    task = lm_task("gpqa/zeroshot/gpqa_diamond_zeroshot.yaml", {"train": backed}, metric_list=ALL_METRICS)
    ref = list(task.eval_docs)
    spec = DatasetSpec(dataset_id="gpqa_diamond", loader="hf_hub", hub_params={"split": "train"},
                       params={"path": str(file), "preprocess": "gpqa_diamond"})
    return ref, samples_of(spec), task


def test_gpqa_prompts_and_shuffle_equal_lm_eval(tmp_path: Path) -> None:
    ref, samples, task = gpqa_setup(tmp_path)
    assert len(samples) == len(ref) == N
    for doc, sample in zip(ref, samples):
        assert_same_requests(task, doc, sample, 0)
        assert sample.id == doc["Record ID"] and sample.metadata["subject"] == doc["High-level domain"]
    # the shuffle really moves the gold answer around, and a cleaned duplicate resolves to the first copy
    assert len({s.metadata["gold_index"] for s in samples}) == 4
    assert any("[title]" in d["Correct Answer"] for d in ref) and all("[title]" not in s.inputs["ll_context"]
                                                                        for s in samples)
    # a second read replays the same stream: same options, same order
    again = samples_of(DatasetSpec(dataset_id="g", loader="hf_hub", hub_params={"split": "train"},
                                   params={"path": str(tmp_path / "gpqa_diamond.parquet"), "preprocess": "gpqa_diamond"}))
    assert [s.inputs["ll_context"] for s in again] == [s.inputs["ll_context"] for s in samples]


# -- scoring -----------------------------------------------------------------------------------------
def scored_pairs(name: str, tmp_path: Path) -> list[tuple[ConfigurableTask, dict[str, Any], Sample]]:
    if name == "gpqa_diamond":
        ref, samples, task = gpqa_setup(tmp_path)
        return [(task, d, s) for d, s in zip(ref, samples)]
    if name == "mmlu":
        dev, test, samples = mmlu_setup(tmp_path, 0)
        tasks = {sub: lm_task(f"mmlu/default/mmlu_{sub}.yaml", {"test": [d for d in test if d["subject"] == sub],
                                                                "dev": dev}, metric_list=ALL_METRICS)
                 for sub in MMLU_SUBJECTS}
        return [(tasks[d["subject"]], d, s) for d, s in zip(test, samples)]
    data, samples = chinese_setup(name, tmp_path, 0)
    yaml_pattern, split = CHINESE[name][:2]
    tasks = {sub: lm_task(yaml_pattern.format(sub), data[sub], metric_list=ALL_METRICS) for sub in data}
    return [(tasks[s.metadata["subject"]], d, s) for s, d in zip(samples, [d for sub in data for d in data[sub][split]])]


@pytest.mark.parametrize("name", ["mmlu", "cmmlu", "ceval", "gpqa_diamond"])
def test_mc_accuracy_equals_lm_eval_process_results(name: str, tmp_path: Path) -> None:
    pairs = scored_pairs(name, tmp_path)
    assert len(pairs) >= 50
    metric = MultipleChoiceAccuracy("mc_accuracy", outputs=["acc", "acc_norm", "acc_bytes"])
    rng = random.Random(name)
    seen = set()
    for round_ in range(3):
        for task, doc, sample in pairs:
            # coarse values make ties common; the last round gives every option the same score (first wins)
            lls = [float(rng.randint(-12, -1)) / 2 for _ in range(4)] if round_ < 2 else [-2.5] * 4
            reference = task.process_results(doc, [(ll, False) for ll in lls])
            ours = metric.evaluate(MetricContext(sample, {"loglikelihoods": lls}, {})).values
            for key in ("acc", "acc_norm", "acc_bytes"):
                assert ours[key] == float(reference[key]), (key, lls, doc)
            seen.add(ours["acc"])
    assert seen == {0.0, 1.0}


@pytest.mark.parametrize("name", ["mmlu", "gpqa_diamond"])
def test_generated_letters_are_scored_through_the_same_metric(name: str, tmp_path: Path) -> None:
    pairs = scored_pairs(name, tmp_path)[:20]
    metric = MultipleChoiceAccuracy("mc_accuracy")
    for _, _, sample in pairs:
        gold = sample.metadata["gold_index"]
        right = f"({'ABCD'[gold]})" if name == "gpqa_diamond" else f"Answer: {'ABCD'[gold]}"
        wrong = f"The answer is {'ABCD'[(gold + 1) % 4]}"
        assert metric.evaluate(MetricContext(sample, {"answer": right}, {})).values == {"acc": 1.0}
        assert metric.evaluate(MetricContext(sample, {"answer": wrong}, {})).values == {"acc": 0.0}
