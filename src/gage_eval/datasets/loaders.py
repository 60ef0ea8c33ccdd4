"""Built-in loaders: `jsonl` (streaming, .gz) and `hf_hub` (the `datasets` library; hub or local files)."""
from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import orjson

from gage_eval.datasets.base import DatasetLoader
from gage_eval.errors import DatasetError
from gage_eval.registry import registry


@registry.asset("dataset_loaders", "jsonl", desc="JSON lines file (.jsonl or .jsonl.gz), streamed", tags=("local",))
class JsonlLoader(DatasetLoader):
    def iter_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        path = self.resolve_path(self.spec.params.get("path"))
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    raise DatasetError(f"line {number} is not valid JSON: {exc}", file=str(path),
                                       path=f"{self.config_path}.params.path",
                                       fix="fix or remove that line (each line must be one JSON object)") from None
                if not isinstance(record, dict):
                    raise DatasetError(f"line {number} is a JSON {type(record).__name__}, not an object",
                                       file=str(path), path=f"{self.config_path}.params.path",
                                       fix="each line must be a JSON object with the record's fields")
                yield number, record


_LOCAL_BUILDERS = {".parquet": "parquet", ".csv": "csv", ".json": "json", ".jsonl": "json", ".arrow": "arrow",
                   ".gz": "json"}


@registry.asset("dataset_loaders", "hf_hub", desc="Hugging Face `datasets`: hub id/subset/split, or a local "
                "folder / parquet / csv / json / arrow file via params.path", tags=("hub", "local"))
class HFHubLoader(DatasetLoader):
    def _load(self) -> Any:
        import datasets

        hp, params = self.spec.hub_params, self.spec.params
        streaming = bool(params.get("streaming", False))
        if params.get("path"):
            path = self.resolve_path(params["path"])
            if path.is_dir() and any((path / f).exists() for f in ("state.json", "dataset_dict.json")):
                loaded = datasets.load_from_disk(str(path))
                if isinstance(loaded, datasets.DatasetDict):
                    if hp.split not in loaded:
                        raise DatasetError(f"split '{hp.split}' not in {sorted(loaded)}", file=str(path),
                                           path=f"{self.config_path}.hub_params.split",
                                           fix=f"use one of: {', '.join(sorted(loaded))}")
                    loaded = loaded[hp.split]
                return loaded
            if path.is_dir():
                return datasets.load_dataset(str(path), hp.subset, split=hp.split, streaming=streaming)
            builder = _LOCAL_BUILDERS.get(path.suffix)
            if builder is None:
                raise DatasetError(f"unsupported file type '{path.suffix}'", file=str(path),
                                   path=f"{self.config_path}.params.path",
                                   fix="use a folder, .parquet, .csv, .json/.jsonl or .arrow file")
            return datasets.load_dataset(builder, data_files={hp.split: str(path)}, split=hp.split,
                                         streaming=streaming)
        if not hp.hub_id:
            raise DatasetError(f"dataset '{self.spec.dataset_id}' needs hub_params.hub_id or params.path",
                               path=f"{self.config_path}.hub_params.hub_id",
                               fix="give the hub id (e.g. cais/mmlu) or a local copy in params.path")
        try:
            return datasets.load_dataset(hp.hub_id, hp.subset, split=hp.split, revision=hp.revision,
                                         streaming=streaming, trust_remote_code=hp.trust_remote_code or None,
                                         data_files=params.get("data_files"))
        except Exception as exc:  # noqa: BLE001 - hub failures come in many types; all mean "not available"
            raise DatasetError(f"cannot load '{hp.hub_id}' from the hub: {str(exc).splitlines()[0][:300]}",
                               path=f"{self.config_path}.hub_params.hub_id",
                               fix="without network, download a snapshot elsewhere and point params.path at the "
                                   "local folder or parquet/jsonl file") from None

    def iter_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for number, record in enumerate(self._load(), start=1):
            yield number, dict(record)

    def describe(self) -> str:
        return str(self.spec.params.get("path") or self.spec.hub_params.hub_id)
