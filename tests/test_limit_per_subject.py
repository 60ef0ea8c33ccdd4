"""`--limit N` on MMLU / CMMLU / C-Eval counts per subject, as lm-eval's --limit counts per sub-task.

lm-eval runs one task per subject and `--limit N` takes the first N documents of each (its
`doc_iterator(limit=N)`); `--limit-mode total` keeps the first N records of the concatenated set.
The reference documents come from lm-eval's own per-subject `ConfigurableTask`s over the same records.
"""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from gage_eval.cli.app import main
from gage_eval.config.quick import compile_quick, quick_task
from gage_eval.datasets import iter_samples
from gage_eval.errors import ConfigError

from .test_bench_fewshot_parity import snapshot_file, template_spec
from .test_bench_mc_knowledge import CEVAL_SUBJECTS, CMMLU_SUBJECTS, MMLU_SUBJECTS, ceval_docs, cmmlu_docs, lm_task
from .test_bench_mc_knowledge import mmlu_docs

SUBJECTS = MMLU_SUBJECTS[:3]


def mmlu_snapshot(root: Path) -> dict[str, list[dict[str, Any]]]:
    """cais/mmlu's `all` config: one test file of every subject, grouped by subject as on the hub."""
    rng = random.Random("limit")
    by_subject = {s: mmlu_docs(rng, [s], 5, f"{s}-") for s in SUBJECTS}
    snapshot_file(root, "all", "test", [d for s in SUBJECTS for d in by_subject[s]])
    snapshot_file(root, "all", "dev", [d for s in SUBJECTS for d in mmlu_docs(rng, [s], 5, "dev")])
    return by_subject


def run_eval(tmp_path: Path, root: Path, *extra: str) -> list[dict[str, Any]]:
    run_id = "limit" + "".join(extra).replace("-", "_")
    with pytest.raises(SystemExit) as done:
        main(["eval", "--model", "dummy", "--datasets", "mmlu", "--limit", "2",
              "--dataset-args", json.dumps({"mmlu": {"local_path": str(root)}}),
              "--work-dir", str(tmp_path / "runs"), "--run-id", run_id, "--progress", "off", *extra])
    assert done.value.code in (0, None)
    lines = (tmp_path / "runs" / run_id / "samples.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def lm_eval_first(by_subject: dict[str, list[dict[str, Any]]], limit: int) -> dict[str, list[str]]:
    """The contexts of the documents lm-eval's --limit takes: its doc_iterator over each subject's task."""
    out = {}
    for subject, docs in by_subject.items():
        task = lm_task(f"mmlu/default/mmlu_{subject}.yaml", {"test": docs, "dev": docs})
        out[subject] = [task.fewshot_context(doc, 0) for _, doc in task.doc_iterator(limit=limit)]
    return out


def test_gage_eval_limit_2_takes_the_first_2_of_each_subject_as_lm_eval(tmp_path: Path) -> None:
    by_subject = mmlu_snapshot(tmp_path / "mmlu")
    records = run_eval(tmp_path, tmp_path / "mmlu")
    assert len(records) == 6
    contexts: dict[str, list[str]] = {}
    for record in records:
        sample = record["sample"]
        contexts.setdefault(sample["metadata"]["subject"], []).append(sample["inputs"]["ll_context"])
    expected = lm_eval_first(by_subject, 2)
    assert {s: sorted(c) for s, c in contexts.items()} == {s: sorted(c) for s, c in expected.items()}
    # the old meaning, on request: the first 2 records of the concatenated set (both of the first subject)
    total = run_eval(tmp_path, tmp_path / "mmlu", "--limit-mode", "total")
    assert sorted(r["sample"]["inputs"]["ll_context"] for r in total) == sorted(expected[SUBJECTS[0]])


def test_per_subject_limit_keeps_full_run_ids_and_order(tmp_path: Path) -> None:
    by_subject = mmlu_snapshot(tmp_path / "mmlu")
    full = list(iter_samples(template_spec("mmlu", tmp_path / "mmlu", 0)))
    limited = list(iter_samples(template_spec("mmlu", tmp_path / "mmlu", 0), max_samples=2))
    keep = {s: 0 for s in by_subject}
    expected = []
    for sample in full:  # dataset order, the first 2 of each subject; ids as a full run derives them
        if keep[sample.metadata["subject"]] < 2:
            keep[sample.metadata["subject"]] += 1
            expected.append((sample.id, sample.inputs["ll_context"]))
    assert [(s.id, s.inputs["ll_context"]) for s in limited] == expected


@pytest.mark.parametrize("name", ["cmmlu", "ceval"])
def test_chinese_benchmarks_limit_per_subject_too(name: str, tmp_path: Path) -> None:
    subjects, factory, split = ((CMMLU_SUBJECTS[:3], cmmlu_docs, "test") if name == "cmmlu"
                                else (CEVAL_SUBJECTS[:3], ceval_docs, "val"))
    rng = random.Random(name)
    root = tmp_path / name
    for subject in subjects:
        snapshot_file(root, subject, split, factory(rng, 4, f"{subject}-"))
    samples = list(iter_samples(template_spec(name, root, 0, subsets=subjects), max_samples=2))
    assert [s.metadata["subject"] for s in samples] == [s for s in subjects for _ in range(2)]


def test_limit_mode_in_quick_mode_and_bad_values(tmp_path: Path) -> None:
    per = compile_quick(quick_task({"model": "dummy", "datasets": ["mmlu", "arc_easy"], "limit": 2}))
    assert per["datasets"][0]["params"]["limit_per"] == "subject"
    assert "limit_per" not in per["datasets"][1]["params"]
    total = compile_quick(quick_task({"model": "dummy", "datasets": ["mmlu"], "limit": 2, "limit_mode": "total"}))
    assert "limit_per" not in total["datasets"][0]["params"] and total["tasks"][0]["max_samples"] == 2
    with pytest.raises(ConfigError, match="limit_mode"):
        quick_task({"model": "dummy", "datasets": ["mmlu"], "limit_mode": "per_subjects"})
    spec = template_spec("mmlu", tmp_path, 0, limit_per=["subject"])
    with pytest.raises(ConfigError, match="limit_per"):
        iter_samples(spec, config_path="datasets[0]")


def test_fractional_limit_takes_that_share_of_each_subject_rounded_up_as_lm_eval(tmp_path: Path) -> None:
    """lm-eval's `--limit 0.3`: `int(math.ceil(len(task.eval_docs) * limit))` documents of each sub-task; here
    from lm-eval's own helper over each subject's task, and compared context by context."""
    from lm_eval.evaluator_utils import get_sample_size

    by_subject = mmlu_snapshot(tmp_path / "mmlu")
    with pytest.raises(SystemExit) as done:
        main(["eval", "--model", "dummy", "--datasets", "mmlu", "--limit", "0.3",
              "--dataset-args", json.dumps({"mmlu": {"local_path": str(tmp_path / "mmlu")}}),
              "--work-dir", str(tmp_path / "runs"), "--run-id", "frac", "--progress", "off"])
    assert done.value.code in (0, None)
    records = [json.loads(x) for x in (tmp_path / "runs" / "frac" / "samples.jsonl").read_text().splitlines()]
    expected = {}
    for subject, docs in by_subject.items():
        task = lm_task(f"mmlu/default/mmlu_{subject}.yaml", {"test": docs, "dev": docs})
        n = get_sample_size(task, 0.3)
        expected[subject] = [task.fewshot_context(doc, 0) for _, doc in task.doc_iterator(limit=n)]
    assert sum(map(len, expected.values())) == 6  # ceil(5 x 0.3) = 2 of each of 3 subjects
    got: dict[str, list[str]] = {}
    for r in sorted(records, key=lambda r: r["seq"]):
        got.setdefault(r["sample"]["metadata"]["subject"], []).append(r["sample"]["inputs"]["ll_context"])
    assert got == expected


def test_fractional_limit_in_gage_run_and_bad_limits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from .conftest import pipeline, write_jsonl

    data = write_jsonl(tmp_path / "qa.jsonl", [{"id": f"q{i}", "question": f"q{i}?", "answer": "a"} for i in range(10)])
    cfg = tmp_path / "cfg.yaml"
    import yaml
    cfg.write_text(yaml.safe_dump(pipeline(data)))
    with pytest.raises(SystemExit) as done:
        main(["run", str(cfg), "--output-dir", str(tmp_path / "runs"), "--run-id", "r", "--max-samples", "0.25",
              "--progress", "off"])
    assert done.value.code == 0
    ids = [json.loads(x)["sample_id"] for x in (tmp_path / "runs" / "r" / "samples.jsonl").read_text().splitlines()]
    assert sorted(ids) == ["q0", "q1", "q2"]  # ceil(10 x 0.25)
    for bad in ("1.5", "-0.2"):
        capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            main(["run", str(cfg), "--output-dir", str(tmp_path / "runs"), "--run-id", "b", "--max-samples", bad])
        out = capsys.readouterr()
        assert done.value.code == 2, out
        assert "--max-samples" in out.out + out.err and "fraction between 0 and 1" in out.out + out.err
