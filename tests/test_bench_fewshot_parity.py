"""Few-shot contexts equal lm-evaluation-harness 0.4.x's, document by document, for every benchmark whose
README says its examples are drawn as lm-eval draws them — with pools that contain evaluated questions.

lm-eval hands the evaluated document to its sampler exactly when the few-shot split equals the test split
(both unset counts: HellaSwag, PIQA): it then draws n + 1 and drops records equal to the document. Tasks whose
pool is another split (ARC, GSM8K: train; MMLU, CMMLU, C-Eval: dev) keep a pool record equal to the test
question. The reference is lm-eval's own `ConfigurableTask` from its YAML over the same records; our side is
each template's own preprocess_kwargs, reading a hub-snapshot-shaped local copy.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from gage_eval.config.models import DatasetSpec
from gage_eval.config.templates import find_template, load_template
from gage_eval.datasets import iter_samples

from .test_bench_mc_knowledge import CEVAL_SUBJECTS, CMMLU_SUBJECTS, MMLU_SUBJECTS, ceval_docs, cmmlu_docs, mmlu_docs
from .test_bench_mc_knowledge import lm_task as lm_subject_task
from .test_bench_mc_knowledge import parquet
from .test_bench_mc_reasoning import arc_docs, hellaswag_docs, lm_task, piqa_docs


def gsm8k_docs(rng: random.Random, n: int, tag: str = "q") -> list[dict[str, Any]]:
    return [{"question": f"{tag}{i}: {rng.randint(1, 99)} apples and {rng.randint(1, 99)} pears?",
             "answer": f"Add them.\n#### {rng.randint(2, 198)}"} for i in range(n)]


# name: (lm-eval yaml, record factory, lm-eval splits -> ours, shots, pool size)
FLAT = {
    "hellaswag": ("hellaswag/hellaswag.yaml", hellaswag_docs, 10, 14),
    "piqa": ("piqa/piqa.yaml", piqa_docs, 10, 13),
    "arc_easy": ("arc/arc_easy.yaml", arc_docs, 25, 40),
    "arc_challenge": ("arc/arc_challenge.yaml", arc_docs, 25, 30),
    "gsm8k": ("gsm8k/gsm8k.yaml", gsm8k_docs, 5, 12),
}


def template_dataset(name: str) -> dict[str, Any]:
    return load_template(find_template(name)).definition["datasets"][0]


def template_spec(name: str, path: Path, shots: int, **params: Any) -> DatasetSpec:
    """The template's dataset exactly, pointed at a local copy, with num_fewshot set (as --dataset-args does)."""
    ds = template_dataset(name)
    kwargs = {**ds["params"]["preprocess_kwargs"], "num_fewshot": shots}
    return DatasetSpec(**{**ds, "params": {**ds["params"], "path": str(path), "preprocess_kwargs": kwargs, **params}})


def snapshot_file(root: Path, subset: str | None, split: str, rows: list[dict[str, Any]]) -> None:
    parquet(root / (subset or "") / f"{split}-00000-of-00001.parquet", rows)


def flat_setup(name: str, tmp_path: Path) -> tuple[Any, list[str], DatasetSpec]:
    yaml_name, factory, shots, pool_size = FLAT[name]
    ds = template_dataset(name)
    eval_split, pool_split = ds["hub_params"]["split"], ds["params"]["preprocess_kwargs"]["fewshot_split"]
    rng = random.Random(f"parity-{name}")
    docs = factory(rng, 40)
    pool = factory(rng, pool_size)
    pool[3] = dict(docs[5])            # the record of an evaluated question, as a pool record
    pool[7] = dict(docs[9])            # and another, twice: lm-eval then resamples when both are drawn
    pool.insert(11, dict(docs[9]))
    question = "question" if "question" in docs[0] else "goal" if "goal" in docs[0] else "ctx_a"
    pool[1] = {**pool[1], question: docs[2][question]}  # same question text, another record
    root = tmp_path / name
    subset = ds["hub_params"].get("subset")
    snapshot_file(root, subset, eval_split, docs)
    snapshot_file(root, subset, pool_split, pool)
    lm_splits = {eval_split: docs, pool_split: pool}
    if eval_split == "test" and name.startswith("arc"):
        lm_splits["validation"] = docs
    task = lm_task(yaml_name, lm_splits)
    task.set_fewshot_seed(1234)  # lm-eval's evaluator: fewshot_random_seed=1234
    expected = [task.fewshot_context(doc, shots) for doc in task.eval_docs]
    return task, expected, template_spec(name, root, shots)


@pytest.mark.parametrize("name", list(FLAT))
def test_contexts_equal_lm_evals_default_sampler_with_test_questions_in_the_pool(name: str, tmp_path: Path) -> None:
    _, expected, spec = flat_setup(name, tmp_path)
    ours = [s.inputs["ll_context"] for s in iter_samples(spec)]
    assert len(ours) == len(expected) == 40
    for i, (a, b) in enumerate(zip(ours, expected)):
        assert a == b, f"{name}: document {i} differs"
    # a --limit prefix (and so a resumed run, which preprocesses in order) sees the same shots
    assert [s.inputs["ll_context"] for s in iter_samples(spec, max_samples=7)] == expected[:7]


@pytest.mark.parametrize("name", list(FLAT))
def test_the_templates_declare_lm_evals_same_split_rule(name: str) -> None:
    """fewshot_same_split is lm-eval's `fewshot_config.split == test_split` for its YAML (None == None too)."""
    from lm_eval.tasks._yaml_loader import load_yaml

    from .test_bench_mc_reasoning import LM_TASKS

    cfg = load_yaml(LM_TASKS / FLAT[name][0])
    if "include" in cfg:
        cfg = {**load_yaml(LM_TASKS / Path(FLAT[name][0]).parent / cfg["include"]), **cfg}
    lm_rule = cfg.get("fewshot_split") == cfg.get("test_split")
    kwargs = template_dataset(name)["params"]["preprocess_kwargs"]
    assert kwargs["fewshot_same_split"] is lm_rule
    assert kwargs["fewshot_sampler"] == "lm_eval" and kwargs["fewshot_seed"] == 1234


def test_same_split_draws_eleven_to_keep_ten_and_other_splits_keep_a_test_question(tmp_path: Path) -> None:
    """The two halves of lm-eval's rule, visible in our own output (not only as equality with lm-eval)."""
    _, _, spec = flat_setup("hellaswag", tmp_path)
    samples = list(iter_samples(spec))
    assert all(s.metadata["num_fewshot"] == 10 for s in samples)
    own = samples[5].inputs["ll_context"].split("\n\n")
    assert own[-1] not in own[:-1]  # its own record never shown, though it is in the pool
    _, expected, arc = flat_setup("arc_challenge", tmp_path)
    arc_samples = list(iter_samples(arc))
    question = arc_samples[5].inputs["ll_context"].split("\n\n")[-1]
    # 25 of 31 drawn: the pool copy of test question 5 is in some context — its own included, as in lm-eval
    assert any(question + " " in s.inputs["ll_context"] for s in arc_samples)
    assert [s.inputs["ll_context"] for s in arc_samples] == expected


# -- first_n over a dev split: MMLU, CMMLU, C-Eval ---------------------------------------------------------------
GROUPED = {  # name: (lm-eval yaml pattern, eval split, subjects, factory(rng, subject, n, tag))
    "mmlu": ("mmlu/default/mmlu_{}.yaml", "test", MMLU_SUBJECTS[:3],
             lambda rng, s, n, tag: mmlu_docs(rng, [s], n, tag)),
    "cmmlu": ("cmmlu/cmmlu_{}.yaml", "test", CMMLU_SUBJECTS[:3], lambda rng, s, n, tag: cmmlu_docs(rng, n, tag)),
    "ceval": ("ceval/ceval-valid_{}.yaml", "val", CEVAL_SUBJECTS[:3], lambda rng, s, n, tag: ceval_docs(rng, n, tag)),
}


@pytest.mark.parametrize("name", list(GROUPED))
def test_first_n_contexts_equal_lm_eval_when_dev_holds_a_test_question(name: str, tmp_path: Path) -> None:
    pattern, split, subjects, factory = GROUPED[name]
    rng = random.Random(f"parity-{name}")
    data = {}
    for subject in subjects:
        test, dev = factory(rng, subject, 8, "t"), factory(rng, subject, 6, "dev")
        dev[1] = dict(test[4])  # lm-eval keeps it: dev is not the evaluated split
        data[subject] = {split: test, "dev": dev}
    root = tmp_path / name
    params: dict[str, Any] = {}
    if name == "mmlu":  # cais/mmlu's `all` config: every subject in one file per split
        for s in (split, "dev"):
            snapshot_file(root, "all", s, [r for subject in subjects for r in data[subject][s]])
    else:
        for subject in subjects:
            for s, rows in data[subject].items():
                snapshot_file(root, subject, s, rows)
        params["subsets"] = subjects
    samples = list(iter_samples(template_spec(name, root, 5, **params)))
    assert len(samples) == 8 * len(subjects)
    for subject in subjects:
        task = lm_subject_task(pattern.format(subject), data[subject])
        ours = [s.inputs["ll_context"] for s in samples if s.metadata["subject"] == subject]
        assert ours == [task.fewshot_context(doc, 5) for doc in task.eval_docs]
        record = data[subject][split][4]
        question = (record.get("question") or record["Question"]).strip()
        assert ours[4].count(question) == 2  # its dev copy is the second example, as in lm-eval


@pytest.mark.parametrize("name", ["truthfulqa_mc1", "truthfulqa_mc2"])
def test_truthfulqa_few_shot_from_its_own_split_equals_lm_eval(name: str, tmp_path: Path) -> None:
    """lm-eval's TruthfulQA MC has no training split: n-shot draws from validation itself (split == split)."""
    from .test_bench_mc_reasoning import truthfulqa_docs

    docs = truthfulqa_docs(random.Random(name), 20)
    root = tmp_path / name
    snapshot_file(root, "multiple_choice", "validation", docs)
    task = lm_task(f"truthfulqa/{name}.yaml", {"validation": docs})
    task.set_fewshot_seed(1234)
    expected = [task.fewshot_context(doc, 3) for doc in task.eval_docs]
    ds = template_dataset(name)
    spec = DatasetSpec(**{**ds, "params": {**ds["params"], "path": str(root), "preprocess_kwargs": {
        "num_fewshot": 3, "fewshot_split": "validation", "fewshot_sampler": "lm_eval", "fewshot_seed": 1234}}})
    assert [s.inputs["ll_context"] for s in iter_samples(spec)] == expected
