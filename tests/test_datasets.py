"""Loaders and the preprocess pipeline on real files (jsonl, gz, parquet, csv, save_to_disk, shard folders)."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import datasets
import pytest

from gage_eval.config.models import DatasetSpec
from gage_eval.datasets import iter_samples
from gage_eval.errors import ConfigError, DatasetError
from tests.conftest import write_jsonl

ROWS = [{"id": f"r{i}", "question": f"What is {i}+1?", "answer": str(i + 1), "extra": i} for i in range(5)]


def _spec(**kw) -> DatasetSpec:
    return DatasetSpec.model_validate({"dataset_id": "ds", **kw})


def _ids(spec: DatasetSpec, **kw) -> list[str]:
    return [s.id for s in iter_samples(spec, **kw)]


def test_jsonl_default_preprocessor_maps_prompt_label_and_metadata(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", ROWS)
    samples = list(iter_samples(_spec(loader="jsonl", params={"path": str(path)})))
    s = samples[2]
    assert s.id == "r2" and s.inputs["prompt"] == "What is 2+1?" and s.label == "3"
    assert s.messages[0].role == "user" and s.messages[0].content == "What is 2+1?"
    assert s.metadata["extra"] == 2 and s.metadata["chat_template_mode"] == "chat"


def test_jsonl_gz_and_max_samples_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        for r in ROWS:
            fh.write(json.dumps(r) + "\n\n")
    assert _ids(_spec(params={"path": str(path)}), max_samples=3) == ["r0", "r1", "r2"]


def test_ids_are_derived_when_missing(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [{"prompt": "a"}, {"prompt": "b"}])
    assert _ids(_spec(params={"path": str(path)})) == ["ds_0", "ds_1"]


def test_malformed_line_names_file_line_and_config_path(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"prompt": "ok"}\n{"prompt": broken}\n')
    with pytest.raises(DatasetError) as info:
        list(iter_samples(_spec(params={"path": str(path)}), config_path="datasets[0]"))
    text = info.value.render()
    assert str(path) in text and "line 2" in text and "datasets[0].params.path" in text


def test_missing_file_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found") as info:
        list(iter_samples(_spec(params={"path": str(tmp_path / "nope.jsonl")}), config_path="datasets[3]"))
    assert info.value.path == "datasets[3].params.path"


def test_relative_path_falls_back_to_config_dir(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "rel.jsonl", ROWS[:2])
    assert _ids(_spec(params={"path": "rel.jsonl"}), base_dir=tmp_path) == ["r0", "r1"]


def test_missing_required_field_names_record_and_field(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "mc.jsonl", [{"question": "q", "choices": ["a", "b"], "answer": "A"},
                                               {"prompt": "no question here", "choices": ["a"]}])
    with pytest.raises(DatasetError) as info:
        list(iter_samples(_spec(params={"path": str(path), "preprocess": "multi_choice"})))
    assert "record 2" in info.value.message and "'question'" in info.value.message
    assert info.value.file == str(path)


@pytest.mark.parametrize("answer,expected", [("B", "B"), (1, "B"), ("1", "B"), ("blue", "B")])
def test_multi_choice_answer_forms(tmp_path: Path, answer, expected) -> None:
    path = write_jsonl(tmp_path / "mc.jsonl", [{"question": "Sky?", "choices": ["red", "blue"], "answer": answer}])
    (sample,) = iter_samples(_spec(params={"path": str(path), "preprocess": "multi_choice"}))
    assert sample.label == expected
    assert [c["label"] for c in sample.choices] == ["A", "B"]
    assert "A. red\nB. blue" in sample.inputs["prompt"]


def test_multi_choice_letter_columns(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "mc.jsonl", [{"question": "q", "A": "x", "B": "y", "C": "z", "answer": "C"}])
    (sample,) = iter_samples(_spec(params={"path": str(path), "preprocess": "multi_choice"}))
    assert [c["text"] for c in sample.choices] == ["x", "y", "z"] and sample.label == "C"


def test_hf_local_parquet_csv_json_and_arrow_files(tmp_path: Path) -> None:
    ds = datasets.Dataset.from_list(ROWS)
    ds.to_parquet(str(tmp_path / "d.parquet"))
    ds.to_csv(str(tmp_path / "d.csv"), index=False)
    ds.to_json(str(tmp_path / "d.json"))
    for name in ("d.parquet", "d.csv", "d.json"):
        spec = _spec(loader="hf_hub", params={"path": str(tmp_path / name)})
        assert _ids(spec) == [r["id"] for r in ROWS], name


def test_hf_save_to_disk_and_dataset_dict(tmp_path: Path) -> None:
    datasets.Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "single"))
    datasets.DatasetDict({"test": datasets.Dataset.from_list(ROWS[:2]),
                          "train": datasets.Dataset.from_list(ROWS)}).save_to_disk(str(tmp_path / "dict"))
    assert len(_ids(_spec(loader="hf_hub", params={"path": str(tmp_path / "single")}))) == 5
    assert _ids(_spec(loader="hf_hub", params={"path": str(tmp_path / "dict")})) == ["r0", "r1"]
    with pytest.raises(DatasetError, match="split 'validation'"):
        list(iter_samples(_spec(loader="hf_hub", hub_params={"split": "validation"},
                                params={"path": str(tmp_path / "dict")})))


def test_hf_snapshot_folder_with_split_shards(tmp_path: Path) -> None:
    data = tmp_path / "snapshot" / "data"
    data.mkdir(parents=True)
    datasets.Dataset.from_list(ROWS[:3]).to_parquet(str(data / "test-00000-of-00001.parquet"))
    datasets.Dataset.from_list(ROWS).to_parquet(str(data / "train-00000-of-00001.parquet"))
    assert _ids(_spec(loader="hf_hub", params={"path": str(tmp_path / "snapshot")})) == ["r0", "r1", "r2"]
    spec = _spec(loader="hf_hub", hub_params={"split": "train"}, params={"path": str(tmp_path / "snapshot")})
    assert len(_ids(spec)) == 5


def test_hub_id_offline_gives_actionable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(DatasetError) as info:
        list(iter_samples(_spec(loader="hf_hub", hub_params={"hub_id": "someone/not-cached-here"}),
                          config_path="datasets[0]"))
    assert "params.path" in info.value.fix and info.value.path == "datasets[0].hub_params.hub_id"


def test_unknown_loader_and_preprocessor_suggest_close_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'jsonl'"):
        list(iter_samples(_spec(loader="jsnl", params={"path": "x"})))
    path = write_jsonl(tmp_path / "d.jsonl", ROWS)
    with pytest.raises(ConfigError, match="did you mean 'multi_choice'"):
        list(iter_samples(_spec(params={"path": str(path), "preprocess": "multi_choise"})))


def test_doc_to_visual_hook_and_multimodal_merge(tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(b"\x89PNG fake")
    path = write_jsonl(tmp_path / "d.jsonl", [{"id": "v", "prompt": "What is this?", "image": str(image)}])
    spec = _spec(params={"path": str(path), "doc_to_visual": "gage_eval.datasets.hooks:attach_images_from_field"})
    (sample,) = iter_samples(spec)
    parts = sample.messages[0].content
    assert parts[1]["type"] == "image_url" and parts[1]["image_url"]["url"] == str(image)
    assert sample.inputs["multi_modal_data"] == {"image": [str(image)]}


def test_messages_roles_are_cleaned(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [{"id": "c", "messages": [
        {"from": "human", "value": "hi"}, {"role": "gpt", "content": ""}, {"role": "user", "content": "again"}]}])
    (sample,) = iter_samples(_spec(params={"path": str(path)}))
    assert [(m.role, m.content) for m in sample.messages] == [("user", "hi"), ("user", "again")]
    assert sample.inputs["prompt"] == "hi\nagain"


def test_streaming_is_lazy(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("w") as fh:
        for i in range(200_000):
            fh.write(f'{{"id": "s{i}", "prompt": "p"}}\n')
    iterator = iter_samples(_spec(params={"path": str(path)}))
    assert next(iterator).id == "s0"  # available before the rest of the file is parsed
    import itertools
    assert sum(1 for _ in itertools.islice(iterator, 1000)) == 1000
