"""Which dataset `gage support inspect` reads, and reading a sample of its raw records.

The records come through the same loaders a run uses (`jsonl`, `hf_hub`), so what is inspected is what the
generated benchmark will read; hub errors (offline, unknown id, wrong split) are theirs, with their fixes.
"""
from __future__ import annotations

import base64
import datetime as _dt
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gage_eval.config.models import DatasetSpec
from gage_eval.errors import ConfigError, DatasetError

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_JSONL = (".jsonl", ".jsonl.gz", ".ndjson")
_LOCAL_TYPES = (".jsonl", ".json", ".ndjson", ".parquet", ".csv", ".tsv", ".arrow", ".gz")


@dataclass
class DatasetSource:
    """A local file or folder, or a hub dataset (id, subset, split)."""

    kind: str  # "local" | "hub"
    loader: str  # "jsonl" | "hf_hub"
    path: str | None = None
    hub_id: str | None = None
    subset: str | None = None
    split: str = "test"
    trust_remote_code: bool = False
    notes: list[str] = field(default_factory=list)

    def spec(self, dataset_id: str) -> DatasetSpec:
        hub = {"hub_id": self.hub_id, "subset": self.subset, "split": self.split,
               "trust_remote_code": self.trust_remote_code}
        params = {"path": self.path} if self.path else {}
        return DatasetSpec.model_validate({"dataset_id": dataset_id, "loader": self.loader, "params": params,
                                           "hub_params": {k: v for k, v in hub.items() if v is not None}})

    def describe(self) -> str:
        if self.kind == "hub":
            return f"{self.hub_id}" + (f" ({self.subset})" if self.subset else "") + f" [{self.split}]"
        return str(self.path)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "loader": self.loader, "path": self.path, "hub_id": self.hub_id,
                "subset": self.subset, "split": self.split, "trust_remote_code": self.trust_remote_code}


def resolve_source(text: str, *, subset: str | None = None, split: str | None = None,
                   trust_remote_code: bool = False) -> DatasetSource:
    """A local path when one exists, else a hub id ``org/name``; anything else is a clear error."""
    path = Path(text).expanduser()
    if path.exists():
        resolved = str(path.resolve())
        if path.is_file():
            name = path.name.lower()
            if not name.endswith(_LOCAL_TYPES):
                raise ConfigError(f"cannot read '{path.name}': unsupported file type", path="DATASET",
                                  fix="give a .jsonl, .json, .parquet, .csv or .tsv file, a dataset folder or a "
                                      "hub id (org/name)")
            loader = "jsonl" if name.endswith(_JSONL) else "hf_hub"
            return DatasetSource("local", loader, path=resolved, split=split or "test", subset=subset)
        scripts = sorted(p.name for p in path.glob("*.py"))
        if scripts:  # `datasets` would refuse (or run) the script: read the split's data file itself
            data = _split_file(path, split or "test")
            note = (f"the folder holds a loading script ({', '.join(scripts)}); it is not run (remote code is never "
                    f"trusted): {data.relative_to(path) if data else 'no data file of the split was found'}")
            if data is None:
                raise ConfigError(f"{path} holds a loading script and no data file for split '{split or 'test'}'",
                                  path="DATASET", fix="point at the data file itself (.jsonl, .parquet, .csv), or "
                                                      "--split NAME when the files are named after another split")
            source = resolve_source(str(data), subset=subset, split=split)
            source.notes.append(note)
            return source
        return DatasetSource("local", "hf_hub", path=resolved, subset=subset, split=split or "test")
    if _HUB_ID.match(text) and not text.startswith((".", "/")):
        return DatasetSource("hub", "hf_hub", hub_id=text, subset=subset, split=split or "test",
                             trust_remote_code=trust_remote_code)
    raise ConfigError(f"'{text}' is neither an existing file or folder nor a hub id", path="DATASET",
                      fix="give a local .jsonl/.parquet/.csv file or a dataset folder, or a hub id such as "
                          "openai/gsm8k (with --subset / --split)")


def _split_file(folder: Path, split: str) -> Path | None:
    """The one data file of `split` in a folder (``test.jsonl``, ``data/test-00000-of-00001.parquet``...)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name.lower().endswith(_LOCAL_TYPES)
                   and not p.name.startswith("."))
    named = [p for p in files if p.name.lower().startswith(split.lower())]
    pool = named or (files if len(files) == 1 else [])
    return pool[0] if pool else None


def read_records(source: DatasetSource, limit: int, dataset_id: str = "inspect") -> tuple[list[dict[str, Any]], bool]:
    """The first `limit` raw records (JSON-safe) and whether the dataset has more."""
    from gage_eval.datasets import build_loader

    loader = build_loader(source.spec(dataset_id))
    try:
        rows = list(itertools.islice(loader.iter_records(), limit + 1))
    except DatasetError as exc:
        exc.fix = (exc.fix or "") + ("; `gage support inspect` reads the hub only when it can be reached — "
                                     "otherwise point it at a local copy" if source.kind == "hub" else "")
        raise
    if not rows:
        raise DatasetError("dataset is empty: no records were read", file=source.describe(),
                           fix="check the file (or split / subset) holds records")
    return [json_safe(r) for _, r in rows[:limit]], len(rows) > limit


def json_safe(value: Any) -> Any:
    """Records as JSON: media (bytes, decoded images, audio arrays) become short descriptions a person can read."""
    if isinstance(value, dict):
        if set(value) >= {"bytes", "path"} or set(value) >= {"array", "sampling_rate"}:
            return _media_stub(value)
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return {"_media": "bytes", "size": len(value), "head_b64": base64.b64encode(bytes(value[:12])).decode()}
    if isinstance(value, (_dt.date, _dt.datetime, _dt.time)):
        return value.isoformat()
    if hasattr(value, "save") and hasattr(value, "size") and hasattr(value, "mode"):  # a PIL image
        return {"_media": "image", "size": list(value.size), "mode": value.mode}
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return json_safe(value.tolist())
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _media_stub(value: dict[str, Any]) -> dict[str, Any]:
    if "sampling_rate" in value:
        return {"_media": "audio", "sampling_rate": value.get("sampling_rate"), "path": value.get("path")}
    data = value.get("bytes")
    return {"_media": "file", "path": value.get("path"), "size": len(data) if isinstance(data, (bytes, bytearray))
            else None}
