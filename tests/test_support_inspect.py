"""`gage support inspect` on the layouts people bring (jsonl, parquet, csv, snapshot folders, ARC-style structs,
letter answers, images), its errors (offline hub, unknown source, a slug that shadows a builtin), and how gage
discovers a project's own benchmarks."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from gage_eval.errors import ConfigError, DatasetError
from gage_eval.registry import Registry
from gage_eval.support.design import design
from gage_eval.support.inspection import inspect_dataset
from gage_eval.support.project import Project
from tests.support_fixtures import MMLU, write_jsonl

ARC = [{"id": f"Mercury_{i}", "question": f"Which is heavier, item {i}?",
        "choices": {"text": ["a feather", "a brick", "a leaf", "a coin"], "label": ["A", "B", "C", "D"]},
        "answerKey": "B"} for i in range(5)] + [
    {"id": "Mercury_9", "question": "Numbered labels?", "choices": {"text": ["x", "y", "z"], "label": ["1", "2", "3"]},
     "answerKey": "3"}]


def test_parquet_csv_and_folder_copies_are_read_like_a_run_reads_them(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    project = Project.at(tmp_path)
    frame = pd.DataFrame(MMLU)
    frame.to_parquet(tmp_path / "mmlu.parquet")
    ins = inspect_dataset(project, str(tmp_path / "mmlu.parquet"))
    assert ins.slug == "my_mmlu" and "'mmlu' is taken by the template" in ins.meta["notes"][0]
    assert ins.meta["source"]["loader"] == "hf_hub" and ins.schema["task_type"]["guess"] == "multiple_choice"
    assert ins.schema["fields"]["choices"]["list_length"] == {"min": 4, "max": 4}
    gsm = pd.DataFrame([{"question": "1+1?", "answer": "2"}, {"question": "2+3?", "answer": "5"}])
    gsm.to_csv(tmp_path / "sums.csv", index=False)
    ins = inspect_dataset(project, str(tmp_path / "sums.csv"))
    assert ins.schema["guesses"]["answer_format"] == "number" and ins.schema["task_type"]["guess"] == "math"
    folder = tmp_path / "snapshot"
    (folder / "data").mkdir(parents=True)
    frame.to_parquet(folder / "data" / "test-00000-of-00001.parquet")
    (folder / "snapshot.py").write_text("raise SystemExit('remote code must never run')\n")
    ins = inspect_dataset(project, str(folder), slug="snap")
    assert ins.meta["records_read"] == len(MMLU) and "it is not run" in ins.meta["notes"][0]


def test_arc_structs_letters_and_images_are_recognised(tmp_path: Path) -> None:
    project = Project.at(tmp_path)
    ins = inspect_dataset(project, str(write_jsonl(tmp_path / "arc.jsonl", ARC)))
    g = ins.schema["guesses"]
    assert (g["choices"], g["choice_labels"], g["answer"], g["answer_format"], g["id"]) == (
        "choices.text", "choices.label", "answerKey", "choice_label", "id")
    assert ins.slug == "my_arc"  # "arc" is a builtin preprocessor
    result = design(project, ins.slug)
    assert result.problems == []  # the draft maps every record, the "1".."3" labels too
    letters = [{"q": f"q{i}", "options": ["a", "b", "c", "d"], "answer": "ABCD"[i % 4]} for i in range(6)]
    ins = inspect_dataset(project, str(write_jsonl(tmp_path / "letters.jsonl", letters)))
    assert (ins.schema["guesses"]["choices"], ins.schema["guesses"]["answer_format"]) == ("options", "letter")
    images = [{"image": f"img/{i}.png", "question": f"What is shown in picture {i}?", "answer": "a cat"}
              for i in range(4)]
    ins = inspect_dataset(project, str(write_jsonl(tmp_path / "vqa.jsonl", images)))
    assert ins.schema["modalities"] == ["text", "image"] and ins.schema["guesses"]["media"] == ["image"]
    assert ins.schema["task_type"]["guess"] == "short_answer"
    block = design(project, "vqa").config
    assert block["hooks"] == {"doc_to_visual": "attach_images_from_field"} and block["modalities"] == ["text", "image"]


def test_sources_that_cannot_be_read_say_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = Project.at(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DatasetError) as err:
        inspect_dataset(project, "some-org/some-dataset", split="test")
    assert "cannot be downloaded" in err.value.message and "local copy" in err.value.fix
    assert not (tmp_path / "dev_docs").exists()
    with pytest.raises(ConfigError, match="neither an existing file or folder nor a hub id"):
        inspect_dataset(project, "no_such_file.jsonl")
    with pytest.raises(ConfigError, match="slug 'gsm8k' is taken by the template at"):
        inspect_dataset(project, str(write_jsonl(tmp_path / "g.jsonl", [{"question": "q", "answer": "1"}])),
                        slug="gsm8k")
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(DatasetError, match="empty"):
        inspect_dataset(project, str(tmp_path / "empty.jsonl"), slug="empty_set")


def test_a_project_s_benchmarks_are_imported_from_its_folder(tmp_path: Path) -> None:
    reg = Registry()
    for name, body in (("proj_a", "ok_one"), ("proj_b", "ok_two")):
        pkg = tmp_path / name / "gage_benchmarks" / body
        pkg.mkdir(parents=True)
        (pkg.parent / "__init__.py").write_text("")
        (pkg / "__init__.py").write_text(f"from . import impl  # noqa: F401\n")
        (pkg / "impl.py").write_text("from gage_eval.registry import registry as _r\nVALUE = 1\n")
    first = reg.load_project(tmp_path / "proj_a")
    second = reg.load_project(tmp_path / "proj_b")  # the same package name, another folder: both load
    assert first[0].endswith(".ok_one") and second[0].endswith(".ok_two") and first[0] != second[0]
    assert reg.load_project(tmp_path / "proj_a") == []  # once per folder
    broken = tmp_path / "proj_c" / "gage_benchmarks" / "bad"
    broken.mkdir(parents=True)
    (broken.parent / "__init__.py").write_text("")
    (broken / "__init__.py").write_text("raise RuntimeError('half-written benchmark')\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert reg.load_project(tmp_path / "proj_c") == []
    assert any("half-written benchmark" in str(w.message) for w in caught)
    assert "half-written benchmark" in json.dumps(reg._plugin_errors)
