"""MMLU / CMMLU / C-Eval / GPQA diamond: local copies in the layouts they come in, bad records, templates."""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from lm_eval.tasks._yaml_loader import load_yaml

from gage_eval.config.models import DatasetSpec
from gage_eval.config.quick import compile_quick, quick_task
from gage_eval.config.templates import find_template, load_template
from gage_eval.datasets import iter_samples
from gage_eval.errors import ConfigError, DatasetError
from gage_eval.registry import registry

from .conftest import write_jsonl
from .test_bench_mc_knowledge import (
    LM_TASKS,
    ceval_docs,
    cmmlu_docs,
    gpqa_docs,
    lm_task,
    mmlu_docs,
    parquet,
    samples_of,
    snapshot,
)

BENCH_DIR = Path(__file__).resolve().parents[1] / "src" / "gage_eval" / "benchmarks"


def test_mmlu_hub_snapshot_folder_with_dev_and_test_five_shot(tmp_path: Path) -> None:
    rng = random.Random(1)
    subjects = ["college_biology", "world_religions"]
    dev, test = mmlu_docs(rng, subjects, 10, "dev"), mmlu_docs(rng, subjects, 8)
    dev.sort(key=lambda d: d["subject"])
    # the layout of a plain snapshot (data/<split>-...) and of cais/mmlu itself (all/<split>-...)
    for layout in ("data", "all"):
        root = tmp_path / layout
        parquet(root / layout / "dev-00000-of-00001.parquet", dev)
        parquet(root / layout / "validation-00000-of-00001.parquet", dev[:1])  # must not leak into dev
        parquet(root / layout / "test-00000-of-00001.parquet", test)
        spec = DatasetSpec(dataset_id="mmlu", loader="hf_hub_subsets",
                           hub_params={"hub_id": "cais/mmlu", "subset": "all", "split": "test"},
                           params={"path": str(root), "preprocess": "mmlu", "preprocess_kwargs": {
                               "num_fewshot": 5, "fewshot_split": "dev", "fewshot_sampler": "first_n"}})
        samples = samples_of(spec)
        task = lm_task("mmlu/default/mmlu_world_religions.yaml",
                       {"test": [d for d in test if d["subject"] == "world_religions"],
                        "dev": [d for d in dev if d["subject"] == "world_religions"]})
        ours = [s for s in samples if s.metadata["subject"] == "world_religions"]
        assert [s.inputs["ll_context"] for s in ours] == [task.fewshot_context(d, 5) for d in task.test_docs()]
    # chat style: the shots become turns answered with their letter
    chat = samples_of(spec.model_copy(update={"params": {**spec.params, "preprocess_kwargs": {
        **spec.params["preprocess_kwargs"], "style": "chat"}}}))[0]
    assert [m.role for m in chat.messages] == ["user", "assistant"] * 5 + ["user"]
    assert chat.messages[1].content == "ABCD"[dev[0]["answer"]]
    assert chat.messages[0].content.startswith("The following are multiple choice questions (with answers) about "
                                               "college biology.\n\n")


def test_cmmlu_and_ceval_release_csv_layouts_and_parquet_export(tmp_path: Path) -> None:
    rng = random.Random(2)
    cm = {s: {"test": cmmlu_docs(rng, 3), "dev": cmmlu_docs(rng, 5, "dev")} for s in ("arts", "virology")}
    root = tmp_path / "cmmlu_release"  # CMMLU's GitHub release: <split>/<subject>.csv with an unnamed index column
    for subject, splits in cm.items():
        for split, rows in splits.items():
            (root / split).mkdir(parents=True, exist_ok=True)
            lines = [",Question,A,B,C,D,Answer"] + [",".join([str(i)] + [_csv(r[k]) for k in ("Question", *"ABCD",
                                                                                             "Answer")])
                                                    for i, r in enumerate(rows)]
            (root / split / f"{subject}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec = DatasetSpec(dataset_id="cmmlu", loader="hf_hub_subsets", hub_params={"split": "test"},
                       params={"path": str(root), "preprocess": "cmmlu", "subsets": ["arts", "virology"],
                               "subset_field": "subject", "preprocess_kwargs": {"num_fewshot": 2, "fewshot_split": "dev"}})
    samples = samples_of(spec)
    assert [s.metadata["subject"] for s in samples] == ["arts"] * 3 + ["virology"] * 3
    task = lm_task("cmmlu/cmmlu_virology.yaml", cm["virology"])
    assert [s.inputs["ll_context"] for s in samples[3:]] == [task.fewshot_context(d, 2) for d in task.test_docs()]
    # narrowing to one subject (`--dataset-args '{"cmmlu": {"subset": "virology"}}'`)
    narrowed = samples_of(spec.model_copy(update={"hub_params": spec.hub_params.model_copy(update={"subset": "virology"})}))
    assert [s.inputs["ll_context"] for s in narrowed] == [s.inputs["ll_context"] for s in samples[3:]]

    ce = {s: {"val": ceval_docs(rng, 4), "dev": ceval_docs(rng, 5, "dev")} for s in ("law", "logic")}
    export = tmp_path / "ceval_export"  # the hub's refs/convert/parquet branch: <config>/<split>/0000.parquet
    for subject, splits in ce.items():
        for split, rows in splits.items():
            parquet(export / subject / split / "0000.parquet", rows)
    samples = samples_of(DatasetSpec(dataset_id="ceval", loader="hf_hub_subsets", hub_params={"split": "val"},
                                     params={"path": str(export), "preprocess": "ceval", "subsets": ["law", "logic"],
                                             "subset_field": "subject"}))
    assert [s.id for s in samples] == [f"{s}_{i}" for s in ("law", "logic") for i in range(4)]  # ids stay unique
    assert samples[0].inputs["ll_context"].startswith("以下是中国关于法学的单项选择题，请选出其中的正确答案。\n\n")


def _csv(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def test_gpqa_hub_csv_file_and_zero_shot_only(tmp_path: Path) -> None:
    import datasets

    docs = gpqa_docs(random.Random(3), 6)
    csv = tmp_path / "gpqa_diamond.csv"
    datasets.Dataset.from_list(docs).to_csv(str(csv), index=False)
    samples = samples_of(DatasetSpec(dataset_id="gpqa_diamond", loader="hf_hub",
                                     hub_params={"subset": "gpqa_diamond", "split": "train"},
                                     params={"path": str(csv), "preprocess": "gpqa_diamond"}))
    assert [s.id for s in samples] == [d["Record ID"] for d in docs]
    assert samples[0].inputs["ll_context"].startswith(f"What is the correct answer to this question:{docs[0]['Question']}")
    assert samples[0].inputs["ll_continuations"] == [" (A)", " (B)", " (C)", " (D)"]
    with pytest.raises(ConfigError, match="0-shot"):
        iter_samples(DatasetSpec(dataset_id="g", loader="hf_hub", hub_params={"split": "train"},
                                 params={"path": str(csv), "preprocess": "gpqa_diamond",
                                         "preprocess_kwargs": {"num_fewshot": 3, "fewshot_split": "train"}}))


def _without(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k not in changes}
    out.update({k: v for k, v in changes.items() if v is not None})
    return out


_R = random.Random(4)
_MMLU, _CM, _CE, _GP = (mmlu_docs(_R, ["anatomy"], 1)[0], {**cmmlu_docs(_R, 1)[0], "subject": "arts"},
                        {**ceval_docs(_R, 1)[0], "subject": "law"}, gpqa_docs(_R, 1)[0])
BAD = [
    ("mmlu", _MMLU, _without(_MMLU, choices=None), "choices"),
    ("mmlu", _MMLU, _without(_MMLU, choices=["a", "b", "c"]), "choices"),
    ("mmlu", _MMLU, _without(_MMLU, answer=4), "answer"),
    ("mmlu", _MMLU, _without(_MMLU, subject=None), "subject"),
    ("cmmlu", _CM, _without(_CM, Answer="E"), "Answer"),
    ("cmmlu", _CM, _without(_CM, C=None), "'C'"),
    ("cmmlu", _CM, _without(_CM, subject="no_such_subject"), "no_such_subject"),
    ("ceval", _CE, _without(_CE, answer=""), "val split"),
    ("ceval", _CE, _without(_CE, question=None), "question"),
    ("gpqa_diamond", _GP, _without(_GP, **{"Incorrect Answer 2": None}), "Incorrect Answer 2"),
]


@pytest.mark.parametrize(("preprocess", "good", "bad", "field"), BAD, ids=[f"{b[0]}-{b[3]}" for b in BAD])
def test_bad_records_name_file_record_and_field(preprocess: str, good: dict[str, Any], bad: dict[str, Any],
                                                field: str, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "bad_records.jsonl", [good, good, bad])
    with pytest.raises(DatasetError) as err:
        samples_of(DatasetSpec(dataset_id="x", loader="jsonl", params={"path": str(path), "preprocess": preprocess}))
    text = err.value.render()
    assert "bad_records.jsonl" in text and "record 3" in text and field in text, text


def test_bad_record_in_a_subject_folder_names_the_subject_and_a_missing_subject_folder(tmp_path: Path) -> None:
    rows = cmmlu_docs(random.Random(5), 4)
    rows[2] = _without(rows[2], B=None)
    root = snapshot(tmp_path / "cmmlu", {"arts": {"test": cmmlu_docs(random.Random(6), 2)}, "virology": {"test": rows}})
    spec = DatasetSpec(dataset_id="cmmlu", loader="hf_hub_subsets", hub_params={"split": "test"},
                       params={"path": str(root), "preprocess": "cmmlu", "subsets": ["arts", "virology"],
                               "subset_field": "subject"})
    with pytest.raises(DatasetError) as err:
        samples_of(spec)
    text = err.value.render()
    assert str(root) in text and "record 5" in text and "'B'" in text and "subject 'virology'" in text, text
    missing = spec.model_copy(update={"params": {**spec.params, "subsets": ["arts", "genetics"]}})
    with pytest.raises(DatasetError) as err:
        samples_of(missing)
    assert "genetics" in err.value.render() and "genetics/test-*" in err.value.render()


LM_REFERENCE = {  # template: (lm-eval yaml, eval split, subset or None, lm-eval group with the subject list)
    "mmlu": ("mmlu/default/_default_template_yaml", "test", "all", None),
    "cmmlu": ("cmmlu/_default_template_yaml", "test", None, "cmmlu/_cmmlu.yaml"),
    "ceval": ("ceval/_default_ceval_yaml", "val", None, "ceval/_ceval-valid.yaml"),
    "gpqa_diamond": ("gpqa/zeroshot/gpqa_diamond_zeroshot.yaml", "train", "gpqa_diamond", None),
}


@pytest.mark.parametrize("name", list(LM_REFERENCE))
def test_templates_pass_the_digest_check_and_match_lm_eval(name: str) -> None:
    path = BENCH_DIR / name / "v1.yaml"
    assert find_template(name) == path.resolve()
    template = load_template(path)  # raises on a digest mismatch
    dataset = template.definition["datasets"][0]
    lm_yaml, split, subset, group = LM_REFERENCE[name]
    assert dataset["dataset_id"] == template.metadata.name == name
    assert registry.get("dataset_preprocessors", dataset["params"]["preprocess"]) is not None
    assert registry.get("dataset_loaders", dataset["loader"]) is not None
    assert dataset["hub_params"]["hub_id"] == load_yaml(LM_TASKS / lm_yaml)["dataset_path"]
    assert dataset["hub_params"]["split"] == split and dataset["hub_params"].get("subset") == subset
    assert dataset["params"]["preprocess_kwargs"].get("num_fewshot", 0) == 0  # lm-eval's default
    if group:
        prefix = "cmmlu_" if name == "cmmlu" else "ceval-valid_"
        assert dataset["params"]["subsets"] == sorted(t.removeprefix(prefix) for t in load_yaml(LM_TASKS / group)["task"])
    assert template.definition["metrics"] == ["mc_accuracy"]
    assert (BENCH_DIR / name / "README.md").is_file()


def test_quick_mode_few_shot_num_sets_num_fewshot() -> None:
    pipeline = compile_quick(quick_task({"model": "dummy", "datasets": ["mmlu"],
                                         "dataset_args": {"mmlu": {"few_shot_num": 5}}}))
    kwargs = pipeline["datasets"][0]["params"]["preprocess_kwargs"]
    assert kwargs["num_fewshot"] == 5 and kwargs["fewshot_split"] == "dev" and kwargs["fewshot_sampler"] == "first_n"
