"""Loaders and the preprocess pipeline on real files (jsonl, gz, parquet, csv, save_to_disk, shard folders)."""
from __future__ import annotations

import gzip
import itertools
import json
import tracemalloc
from pathlib import Path
from typing import Any

import datasets
import orjson
import pytest

import gage_eval.registry as registry_module
from gage_eval.config.models import DatasetSpec
from gage_eval.datasets import DatasetPreprocessor, iter_samples
from gage_eval.errors import ConfigError, DatasetError
from gage_eval.sample import Sample
from tests.conftest import write_jsonl

ROWS = [{"id": f"r{i}", "question": f"What is {i}+1?", "answer": str(i + 1), "extra": i} for i in range(5)]
IDS = [r["id"] for r in ROWS]


def _spec(**kw: Any) -> DatasetSpec:
    return DatasetSpec.model_validate({"dataset_id": "ds", **kw})


def _ids(spec: DatasetSpec, **kw: Any) -> list[str]:
    return [s.id for s in iter_samples(spec, **kw)]


def _hf(path: Path, **kw: Any) -> DatasetSpec:
    return _spec(loader="hf_hub", params={"path": str(path), **kw.pop("params", {})}, **kw)


# -- jsonl -------------------------------------------------------------------------------------------


def test_jsonl_default_preprocessor_maps_prompt_label_and_metadata(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", ROWS)
    samples = list(iter_samples(_spec(loader="jsonl", params={"path": str(path)})))
    s = samples[2]
    assert s.id == "r2" and s.inputs["prompt"] == "What is 2+1?" and s.label == "3"
    assert [(m.role, m.content) for m in s.messages] == [("user", "What is 2+1?")]
    assert s.metadata == {"extra": 2, "chat_template_mode": "completion"}


def test_jsonl_gz_blank_lines_bom_and_max_samples(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\ufeff")
        for r in ROWS:
            fh.write(json.dumps(r) + "\n  \n")
    assert _ids(_spec(params={"path": str(path)})) == IDS
    assert _ids(_spec(params={"path": str(path)}), max_samples=3) == IDS[:3]
    assert _ids(_spec(params={"path": str(path)}), max_samples=0) == []


def test_malformed_line_names_file_line_problem_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"prompt": "ok"}\n\n{"prompt": broken}\n')
    it = iter_samples(_spec(params={"path": str(path)}), config_path="datasets[0]")
    assert next(it).inputs["prompt"] == "ok"  # good lines before the bad one are served
    with pytest.raises(DatasetError) as info:
        next(it)
    err = info.value
    assert err.file == str(path) and err.path == "datasets[0].params.path"
    assert "line 3 is not valid JSON" in err.message and "column" in err.message and "broken" in err.message
    assert "line 3" in err.fix
    assert str(path) in err.render() and "fix:" in err.render()


def test_json_array_file_gets_a_hint_and_non_objects_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "arr.jsonl"
    path.write_text('[\n{"prompt": "a"}\n]\n')
    with pytest.raises(DatasetError) as info:
        list(iter_samples(_spec(params={"path": str(path)})))
    assert "line 1" in info.value.message and "hf_hub" in info.value.fix
    path.write_text('{"prompt": "a"}\n[1, 2]\n')
    with pytest.raises(DatasetError, match="line 2 is a JSON list, not an object"):
        list(iter_samples(_spec(params={"path": str(path)})))


def test_missing_file_error_names_file_and_config_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(DatasetError, match="not found") as info:
        list(iter_samples(_spec(params={"path": str(missing)}), config_path="datasets[3]"))
    assert info.value.path == "datasets[3].params.path" and info.value.file == str(missing)
    assert "config file's directory" in info.value.fix


def test_relative_path_tries_cwd_then_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_dir, cwd = tmp_path / "cfg", tmp_path / "cwd"
    config_dir.mkdir()
    cwd.mkdir()
    write_jsonl(config_dir / "rel.jsonl", ROWS[:2])
    monkeypatch.chdir(cwd)
    assert _ids(_spec(params={"path": "rel.jsonl"}), base_dir=config_dir) == ["r0", "r1"]
    write_jsonl(cwd / "rel.jsonl", ROWS[3:])
    assert _ids(_spec(params={"path": "rel.jsonl"}), base_dir=config_dir) == ["r3", "r4"]


# -- hf_hub loader on local data -----------------------------------------------------------------------


def test_hf_local_parquet_csv_json_jsonl_and_arrow_files(tmp_path: Path) -> None:
    ds = datasets.Dataset.from_list(ROWS)
    ds.to_parquet(str(tmp_path / "d.parquet"))
    ds.to_csv(str(tmp_path / "d.csv"), index=False)
    ds.to_json(str(tmp_path / "d.jsonl"))
    (tmp_path / "d.json").write_text(json.dumps(ROWS))
    datasets.Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "saved"))
    arrow = next((tmp_path / "saved").glob("*.arrow"))
    for path in (tmp_path / "d.parquet", tmp_path / "d.csv", tmp_path / "d.jsonl", tmp_path / "d.json", arrow):
        samples = list(iter_samples(_hf(path)))
        assert [s.id for s in samples] == IDS, path.name
        assert samples[1].inputs["prompt"] == "What is 1+1?" and str(samples[1].label) == "2"


def test_hf_streaming_local_file_is_lazy(tmp_path: Path) -> None:
    datasets.Dataset.from_list(ROWS).to_parquet(str(tmp_path / "d.parquet"))
    it = iter_samples(_hf(tmp_path / "d.parquet", params={"streaming": True, "batch_size": 2}))
    assert next(it).id == "r0"
    assert [s.id for s in it] == IDS[1:]


def test_hf_save_to_disk_dataset_and_dataset_dict(tmp_path: Path) -> None:
    datasets.Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "single"))
    datasets.DatasetDict({"test": datasets.Dataset.from_list(ROWS[:2]),
                          "train": datasets.Dataset.from_list(ROWS)}).save_to_disk(str(tmp_path / "dict"))
    assert _ids(_hf(tmp_path / "single")) == IDS
    assert _ids(_hf(tmp_path / "dict")) == ["r0", "r1"]
    assert _ids(_hf(tmp_path / "dict", hub_params={"split": "train"})) == IDS
    with pytest.raises(DatasetError, match="split 'validation'") as info:
        list(iter_samples(_hf(tmp_path / "dict", hub_params={"split": "validation"}), config_path="datasets[1]"))
    assert info.value.path == "datasets[1].hub_params.split" and "test, train" in info.value.fix


def test_hf_snapshot_folder_with_split_shards_and_subset_folders(tmp_path: Path) -> None:
    data = tmp_path / "snapshot" / "data"
    data.mkdir(parents=True)
    datasets.Dataset.from_list(ROWS[:3]).to_parquet(str(data / "test-00000-of-00001.parquet"))
    datasets.Dataset.from_list(ROWS).to_parquet(str(data / "train-00000-of-00001.parquet"))
    assert _ids(_hf(tmp_path / "snapshot")) == ["r0", "r1", "r2"]
    assert _ids(_hf(tmp_path / "snapshot", hub_params={"split": "train"})) == IDS
    with pytest.raises(DatasetError) as info:
        list(iter_samples(_hf(tmp_path / "snapshot", hub_params={"split": "dev"})))
    assert "split" in info.value.message.lower() and info.value.path == "hub_params.split"

    for subset, rows in (("algebra", ROWS[:1]), ("biology", ROWS[1:3])):  # mmlu-like: one folder per subset
        (tmp_path / "mmlu" / subset).mkdir(parents=True)
        datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "mmlu" / subset / "test-00000-of-00001.parquet"))
    assert _ids(_hf(tmp_path / "mmlu", hub_params={"subset": "biology"})) == ["r1", "r2"]


def test_hf_data_files_passthrough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    datasets.Dataset.from_list(ROWS[:2]).to_parquet(str(tmp_path / "a.parquet"))
    datasets.Dataset.from_list(ROWS[2:]).to_parquet(str(tmp_path / "b.parquet"))
    monkeypatch.chdir(tmp_path)
    spec = _spec(loader="hf_hub", params={"data_files": ["a.parquet", "b.parquet"]})
    assert _ids(spec) == IDS
    spec = _spec(loader="hf_hub", hub_params={"split": "dev"}, params={"data_files": {"dev": "*.parquet"}})
    assert sorted(_ids(spec)) == IDS
    with pytest.raises(DatasetError, match="no split 'test'"):
        list(iter_samples(_spec(loader="hf_hub", params={"data_files": {"dev": "a.parquet"}})))


def test_hub_id_offline_error_suggests_a_local_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(DatasetError) as info:
        list(iter_samples(_spec(loader="hf_hub", hub_params={"hub_id": "someone/not-cached-here"}),
                          config_path="datasets[0]"))
    err = info.value
    assert "cannot be downloaded" in err.message and "offline" in err.message
    assert err.path == "datasets[0].hub_params.hub_id" and err.file == "someone/not-cached-here"
    assert "params.path" in err.fix and "save_to_disk" in err.fix
    assert datasets.config.HF_HUB_OFFLINE is False  # the library flag was restored after the call


def test_hf_without_any_source_is_an_error() -> None:
    with pytest.raises(DatasetError, match="needs hub_params.hub_id, params.path or params.data_files"):
        list(iter_samples(_spec(loader="hf_hub")))


# -- preprocessing -------------------------------------------------------------------------------------


def _mc(tmp_path: Path, records: list[dict[str, Any]], **params: Any) -> list[Sample]:
    path = write_jsonl(tmp_path / "mc.jsonl", records)
    return list(iter_samples(_spec(params={"path": str(path), "preprocess": "multi_choice", **params})))


@pytest.mark.parametrize("answer,expected", [("B", "B"), ("(b)", "B"), ("B.", "B"), (1, "B"), ("1", "B"),
                                             ("blue", "B"), (0, "A"), ("A", "A")])
def test_multi_choice_letter_index_and_text_answers(tmp_path: Path, answer: Any, expected: str) -> None:
    (sample,) = _mc(tmp_path, [{"question": "Sky?", "choices": ["red", "blue"], "answer": answer}])
    assert sample.label == expected
    assert sample.choices == [{"label": "A", "text": "red"}, {"label": "B", "text": "blue"}]
    assert sample.inputs["prompt"] == "Sky?\n\nA. red\nB. blue\n\nAnswer with the letter of the correct option."
    assert [m.role for m in sample.messages] == ["user"] and sample.messages[0].content == sample.inputs["prompt"]
    assert sample.metadata["chat_template_mode"] == "chat"
    assert sample.metadata["answer_text"] == {"A": "red", "B": "blue"}[expected]


def test_multi_choice_letter_columns_arc_dicts_and_kwargs(tmp_path: Path) -> None:
    (s1, s2) = _mc(tmp_path, [
        {"id": 7, "question": "q", "A": "x", "B": "y", "C": "z", "answer": "C", "subject": "s"},
        {"question": "q2", "choices": {"label": ["1", "2", "3"], "text": ["u", "v", "w"]}, "answerKey": "3"},
    ], preprocess_kwargs={"instruction": "Reply with A, B or C.", "system_prompt": "Be brief."})
    assert [c["text"] for c in s1.choices] == ["x", "y", "z"] and s1.label == "C" and s1.id == "7"
    assert s1.metadata["subject"] == "s" and "A" not in s1.metadata
    assert [m.role for m in s1.messages] == ["system", "user"] and s1.inputs["prompt"].endswith("Reply with A, B or C.")
    assert s2.label == "C" and [c["text"] for c in s2.choices] == ["u", "v", "w"]


def test_multi_choice_bad_answers_are_reported(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="record 1: answer 5 is out of range for 2 choices"):
        _mc(tmp_path, [{"question": "q", "choices": ["a", "b"], "answer": 5}])
    with pytest.raises(DatasetError, match="'maybe' is not a letter"):
        _mc(tmp_path, [{"question": "q", "choices": ["a", "b"], "answer": "maybe"}])
    with pytest.raises(DatasetError, match="missing field 'choices'"):
        _mc(tmp_path, [{"question": "q", "answer": "A"}])


def test_missing_required_field_names_record_number_and_field(tmp_path: Path) -> None:
    path = tmp_path / "mc.jsonl"
    path.write_text('{"question": "q", "choices": ["a", "b"], "answer": "A"}\n\n'
                    '{"prompt_text": "no question here", "choices": ["a", "b"]}\n')
    with pytest.raises(DatasetError) as info:
        list(iter_samples(_spec(params={"path": str(path), "preprocess": "multi_choice"})))
    assert info.value.message.startswith("record 2 (line 3): missing field 'question'")
    assert "prompt_text" in info.value.message and info.value.file == str(path)
    path.write_text('{"prompt": "fine"}\n{"answer": "4"}\n')
    with pytest.raises(DatasetError, match=r"record 2: no prompt: .*\(field 'prompt'\)"):
        list(iter_samples(_spec(params={"path": str(path)})))


def test_schema_errors_name_the_field(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [{"messages": [{"role": "user", "content": 5}]}])
    with pytest.raises(DatasetError, match=r"record 1: field 'messages\.0\.content'"):
        list(iter_samples(_spec(params={"path": str(path)})))
    path = write_jsonl(tmp_path / "d.jsonl", [{"messages": [{"role": "narrator", "content": "x"}]}])
    with pytest.raises(DatasetError, match=r"unknown role 'narrator'.*field 'messages\[0\]\.role'"):
        list(iter_samples(_spec(params={"path": str(path)})))


def test_id_derivation(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"prompt": "a"}\n\n{"prompt": "b", "sample_id": 12}\n{"prompt": "c", "idx": 0}\n'
                    '{"prompt": "d", "id": ""}\n{"prompt": "e"}\n')
    assert _ids(_spec(params={"path": str(path)})) == ["ds_0", "12", "0", "ds_3", "ds_4"]


def test_messages_roles_are_cleaned_and_sharegpt_conversations_read(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [
        {"id": "c", "messages": [{"from": "human", "value": "hi"}, {"role": "gpt", "content": ""},
                                 {"role": "BOT", "content": "hello"}, {"role": "user", "content": "again"}]},
        {"id": "s", "conversations": [{"from": "system", "value": "sys"}, {"from": "human", "value": "q"},
                                      {"from": "gpt", "value": "a"}]},
    ])
    s1, s2 = iter_samples(_spec(params={"path": str(path)}))
    assert [(m.role, m.content) for m in s1.messages] == [("user", "hi"), ("assistant", "hello"), ("user", "again")]
    assert s1.inputs["prompt"] == "hi\nagain" and s1.metadata["chat_template_mode"] == "chat"
    assert [m.role for m in s2.messages] == ["system", "user", "assistant"] and "conversations" not in s2.metadata


def test_sample_shaped_records_pass_through(tmp_path: Path) -> None:
    record = {"id": "x", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "http://h/a.png"}}]}],
        "label": "cat", "references": ["cat", "kitty"], "metadata": {"src": "m"}, "source": "extra"}
    (s,) = iter_samples(_spec(params={"path": str(write_jsonl(tmp_path / "d.jsonl", [record]))}))
    assert s.references == ["cat", "kitty"] and s.label == "cat" and s.inputs["prompt"] == "look"
    assert s.metadata["src"] == "m" and s.metadata["source"] == "extra"
    assert s.inputs["multi_modal_data"] == {"image": ["http://h/a.png"]}


# -- hooks ---------------------------------------------------------------------------------------------

HOOK_CALLS: list[dict[str, Any]] = []


def visual_hook(sample: Sample, record: dict[str, Any], root: str, field: str = "image") -> list[str]:
    """A doc_to_visual hook referenced from a config by import path (tests.test_datasets:visual_hook)."""
    HOOK_CALLS.append({"root": root, "field": field})
    return [f"{root}/{record[field]}"]


def test_doc_to_visual_hook_via_import_path_resolved_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    imports: list[str] = []
    real_import = registry_module.import_object
    monkeypatch.setattr(registry_module, "import_object", lambda p: imports.append(p) or real_import(p))
    HOOK_CALLS.clear()
    path = write_jsonl(tmp_path / "d.jsonl", [{"prompt": f"What is in {i}?", "img": f"{i}.png"} for i in range(3)])
    spec = _spec(params={"path": str(path), "doc_to_visual": "tests.test_datasets:visual_hook",
                         "doc_to_visual_kwargs": {"field": "img"},
                         "preprocess_kwargs": {"root": "/data", "unrelated": 1}})
    samples = list(iter_samples(spec))
    assert imports == ["tests.test_datasets:visual_hook"]  # resolved once, not per record
    assert HOOK_CALLS == [{"root": "/data", "field": "img"}] * 3  # same-name preprocess kwarg inherited only
    parts = samples[1].messages[0].content
    assert parts == [{"type": "text", "text": "What is in 1?"},
                     {"type": "image_url", "image_url": {"url": "/data/1.png"}}]
    assert samples[1].inputs["multi_modal_data"] == {"image": ["/data/1.png"]}
    assert samples[1].inputs["prompt"] == "What is in 1?"


def test_builtin_hooks_by_short_name_embed_images_and_format_text(tmp_path: Path) -> None:
    (tmp_path / "cat.png").write_bytes(b"\x89PNG fake")
    path = write_jsonl(tmp_path / "d.jsonl", [{"id": "v", "q": "What is this?", "image": "cat.png"}])
    spec = _spec(params={"path": str(path), "doc_to_visual": "attach_images_from_field",
                         "doc_to_visual_kwargs": {"embed": True, "root": str(tmp_path)},
                         "doc_to_text": "format_prompt", "doc_to_text_kwargs": {"template": "Q: {q}\nA:"}})
    (sample,) = iter_samples(spec)
    url = "data:image/png;base64,iVBORyBmYWtl"
    assert sample.inputs["prompt"] == "Q: What is this?\nA:"
    assert sample.messages[0].content == [{"type": "text", "text": "Q: What is this?\nA:"},
                                          {"type": "image_url", "image_url": {"url": url}}]
    assert sample.inputs["multi_modal_data"] == {"image": [url]} and "image" not in sample.metadata


def test_embed_local_message_images(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"jpg")
    record = {"id": "m", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "see"}, {"type": "image_url", "image_url": {"url": "a.jpg"}}]}]}
    path = write_jsonl(tmp_path / "d.jsonl", [record])
    spec = _spec(params={"path": str(path), "doc_to_visual": "gage_eval.datasets.hooks:embed_local_message_images",
                         "doc_to_visual_kwargs": {"root": str(tmp_path)}})
    (sample,) = iter_samples(spec)
    assert sample.messages[0].content[1]["image_url"]["url"] == "data:image/jpeg;base64,anBn"
    assert sample.inputs["multi_modal_data"] == {"image": ["data:image/jpeg;base64,anBn"]}


def test_hook_errors(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [{"prompt": "p", "image": "missing.png"}])
    spec = _spec(params={"path": str(path), "doc_to_visual": "attach_images_from_field",
                         "doc_to_visual_kwargs": {"embed": True}})
    with pytest.raises(DatasetError, match="record 1: doc_to_visual hook attach_images_from_field failed: media "
                                           "file not found"):
        list(iter_samples(spec))
    with pytest.raises(ConfigError, match="takes no parameter 'colour'"):
        iter_samples(_spec(params={"path": str(path), "doc_to_visual": "attach_images_from_field",
                                   "doc_to_visual_kwargs": {"colour": 1}}), config_path="datasets[0]")
    with pytest.raises(ConfigError, match="cannot import module"):
        iter_samples(_spec(params={"path": str(path), "doc_to_text": "no_such_pkg.mod:fn"}))


# -- plugins and registry names ------------------------------------------------------------------------


class UpperPlugin(DatasetPreprocessor):
    """Plugin style (spec §6.5): only `transform`, which returns the inputs."""

    def transform(self, sample: dict[str, Any], **kwargs: Any) -> Any:
        sample["label"] = sample.pop("gold")
        return {"prompt": sample.pop("text").upper() + kwargs.get("suffix", "")}


class BareTransform:
    def transform(self, sample: dict[str, Any], **kwargs: Any) -> str:
        return f"bare: {sample['text']}"


def test_transform_only_preprocessors_are_wrapped(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": "hi", "gold": "HI"}])
    spec = _spec(params={"path": str(path), "preprocess": "tests.test_datasets:UpperPlugin",
                         "preprocess_kwargs": {"suffix": "!"}})
    (sample,) = iter_samples(spec)
    assert sample.inputs["prompt"] == "HI!" and sample.label == "HI" and sample.id == "ds_0"
    assert sample.messages[0].content == "HI!"
    spec = _spec(params={"path": str(path), "preprocess": "tests.test_datasets:BareTransform"})
    (sample,) = iter_samples(spec)
    assert sample.inputs["prompt"] == "bare: hi"


def test_unknown_loader_and_preprocessor_suggest_close_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'jsonl'") as info:
        iter_samples(_spec(loader="jsnl", params={"path": "x"}), config_path="datasets[0]")
    assert info.value.path == "datasets[0].loader"
    path = write_jsonl(tmp_path / "d.jsonl", ROWS)
    with pytest.raises(ConfigError, match="did you mean 'multi_choice'"):
        iter_samples(_spec(params={"path": str(path), "preprocess": "multi_choise"}))


# -- streaming -----------------------------------------------------------------------------------------


class _CountingOrjson:
    JSONDecodeError = orjson.JSONDecodeError

    def __init__(self) -> None:
        self.calls = 0

    def loads(self, data: bytes) -> Any:
        self.calls += 1
        return orjson.loads(data)


def test_streaming_is_lazy_and_memory_flat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("w") as fh:
        for i in range(200_000):
            fh.write(f'{{"id": "s{i}", "prompt": "what is {i}?", "label": "{i}"}}\n')
    counter = _CountingOrjson()
    monkeypatch.setattr("gage_eval.datasets.loaders.orjson", counter)
    iterator = iter_samples(_spec(params={"path": str(path)}))
    assert counter.calls == 0  # nothing read before the first sample is asked for
    assert next(iterator).id == "s0" and counter.calls == 1  # the first sample comes after one line
    assert sum(1 for _ in itertools.islice(iterator, 999)) == 999 and counter.calls == 1000
    monkeypatch.undo()

    assert sum(1 for _ in iterator) == 200_000 - 1000
    # Holding 50k Samples would take ~50 MB; a streaming pipeline stays at a few hundred kB.
    tracemalloc.start()
    try:
        count = sum(1 for _ in itertools.islice(iter_samples(_spec(params={"path": str(path)})), 50_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 50_000
    assert peak < 5_000_000, f"peak {peak} bytes: samples are being accumulated"


def test_snapshot_split_named_dev_is_read_as_dev_not_folded_into_validation(tmp_path: Path) -> None:
    """cais/mmlu snapshots hold <subject>/dev-*, validation-* and test-* parquet files; `datasets` alone
    would merge dev into validation when it infers the splits."""
    root = tmp_path / "mmlu"
    for split, n in (("dev", 2), ("validation", 3), ("test", 4)):
        (root / "anatomy").mkdir(parents=True, exist_ok=True)
        datasets.Dataset.from_list([{"question": f"{split} {i}", "answer": "A"} for i in range(n)]).to_parquet(
            str(root / "anatomy" / f"{split}-00000-of-00001.parquet"))
    for split, n in (("dev", 2), ("validation", 3), ("test", 4)):
        spec = _spec(loader="hf_hub", hub_params={"subset": "anatomy", "split": split},
                     params={"path": str(root)})
        prompts = [s.inputs["prompt"] for s in iter_samples(spec)]
        assert prompts == [f"{split} {i}" for i in range(n)]
