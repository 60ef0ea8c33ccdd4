"""The `gaia` loader: GAIA's hub layout, ``<root>/<year>/<split>/metadata.jsonl`` beside the attached files.

params: ``path`` (a local copy: the snapshot root, the ``<year>/<split>`` folder itself, or its metadata.jsonl),
``year`` (default 2023), ``split`` (hub_params.split; default validation — the test split's answers are hidden).
Without a path the snapshot comes from the hub (``hub_params.hub_id``, gated: accept its terms and log in).
Each record gets ``file_path``: the attachment's absolute path, or "" when the task has none.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gage_eval.datasets.base import DatasetLoader
from gage_eval.errors import DatasetError
from gage_eval.registry import registry


@registry.asset("dataset_loaders", "gaia", desc="GAIA's hub layout (<year>/<split>/metadata.jsonl + attached files), "
                "from a local copy (params.path) or the hub", tags=("local", "hub", "gaia", "agents"))
class GaiaLoader(DatasetLoader):
    def _split(self) -> tuple[str, str]:
        return str(self.spec.params.get("year", "2023")), str(self.spec.hub_params.split or "validation")

    def metadata_file(self) -> Path:
        year, split = self._split()
        if self.spec.params.get("path"):
            root = self.resolve_path(self.spec.params["path"])
        else:
            root = self._download(year, split)
        for candidate in (root, root / "metadata.jsonl", root / year / split / "metadata.jsonl"):
            if candidate.is_file() and candidate.name == "metadata.jsonl":
                return candidate
        raise DatasetError(f"no metadata.jsonl for {year}/{split} in {root}", file=str(root),
                           path=self.cfg("params.path"),
                           fix=f"point params.path at the GAIA snapshot (holding {year}/{split}/metadata.jsonl) or at "
                               "that folder")

    def _download(self, year: str, split: str) -> Path:
        hub_id = self.spec.hub_params.hub_id
        if not hub_id:
            raise DatasetError("GAIA needs params.path (a local copy) or hub_params.hub_id", path=self.cfg("params.path"),
                               fix="set params.path to the snapshot folder of gaia-benchmark/GAIA")
        from huggingface_hub import snapshot_download

        try:
            return Path(snapshot_download(hub_id, repo_type="dataset", allow_patterns=[f"{year}/{split}/*"]))
        except Exception as exc:  # noqa: BLE001 - gated repo, no network, no login: all end here
            raise DatasetError(f"could not download {hub_id}: {str(exc).splitlines()[0][:200]}",
                               path=self.cfg("hub_params.hub_id"),
                               fix="GAIA is gated: accept its terms on the hub and log in (huggingface-cli login), "
                                   "or download it once and set params.path") from None

    def describe(self) -> str:
        return str(self.spec.params.get("path") or self.spec.hub_params.hub_id or "GAIA")

    def check(self) -> None:
        if self.spec.params.get("path"):
            self.metadata_file()

    def iter_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        meta = self.metadata_file()
        with meta.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"line {number} is not valid JSON: {exc.msg}", file=str(meta),
                                       fix="restore metadata.jsonl from the hub snapshot") from None
                name = record.get("file_name") or ""
                record["file_path"] = str((meta.parent / name).resolve()) if name else ""
                if name and not (meta.parent / name).is_file():
                    raise DatasetError(f"task {record.get('task_id')} attaches {name}, which is not in {meta.parent}",
                                       file=str(meta), path=self.cfg("params.path"),
                                       fix="copy the attached files beside metadata.jsonl (the snapshot keeps them "
                                           "there)")
                yield number, record
