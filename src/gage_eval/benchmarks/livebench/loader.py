"""`livebench` loader: LiveBench's question sets, one per category, read in order, filtered by release.

On the hub every category is its own dataset, ``livebench/<category>`` (split ``test``). ``params.subsets``
names the categories to read (the template lists all six; quick mode's ``subset_list`` narrows it). A local
copy (``params.path``) is a folder with one sub-folder per category, each holding either

- the hub snapshot of ``livebench/<category>``: ``data/test-*.parquet`` (or ``test*.parquet``, ``data/test*.jsonl``,
  ``test*.jsonl``), or
- LiveBench's repository layout ``<task>/question.jsonl`` (``data/live_bench/<category>/`` of the LiveBench repo,
  with the ``test_cases_*.jsonl`` files beside a question file merged in by question_id, as LiveBench does),

or one .jsonl / .parquet file of questions of any categories (each record's ``category`` decides), or a
folder without category folders holding such files as ``test*.jsonl`` / ``data/test-*.parquet``.

Release filtering (``params.preprocess_kwargs.release``) is LiveBench's ``--livebench-release-option``: a
question is kept when ``livebench_release_date <= release`` and it has no ``livebench_removal_date`` or one
after the release. ``latest`` (the default) keeps every question never removed; ``all`` keeps everything.
Dates (strings or the hub's timestamps) are normalized to ``YYYY-MM-DD``.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson

from gage_eval.benchmarks.mmlu.subsets_loader import HFHubSubsetsLoader
from gage_eval.datasets.loaders import HFHubLoader
from gage_eval.errors import ConfigError, DatasetError, close_match_hint
from gage_eval.registry import registry

CATEGORIES = ("reasoning", "coding", "math", "data_analysis", "language", "instruction_following")
HUB_ORG = "livebench"
_DATE_FIELDS = ("livebench_release_date", "livebench_removal_date", "release_date")
_RELEASE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HUB_LAYOUTS = ("data/{split}*.parquet", "{split}*.parquet", "data/{split}*.jsonl", "{split}*.jsonl")
_REPO_LAYOUT = "*/question.jsonl"


def check_release(value: Any) -> str:
    """'latest', 'all' or a YYYY-MM-DD date; anything else is a ValueError saying what is accepted."""
    if value is None:
        return "latest"
    text = value.isoformat() if isinstance(value, date) else str(value).strip()
    if text in ("latest", "all") or _RELEASE.match(text):
        return text
    raise ValueError(f"release {value!r} is not a date (YYYY-MM-DD, e.g. 2024-11-25), 'latest' or 'all'")


def release_keeps(record: dict[str, Any], release: str) -> bool:
    removal = record.get("livebench_removal_date") or ""
    if release == "all":
        return True
    if release == "latest":
        return not removal
    return record["livebench_release_date"] <= release and (not removal or removal > release)


def normalize_dates(record: dict[str, Any]) -> dict[str, Any]:
    for key in _DATE_FIELDS:
        value = record.get(key)
        if isinstance(value, (datetime, date)):
            record[key] = value.strftime("%Y-%m-%d")
        elif value is None and key == "livebench_removal_date":
            record[key] = ""
        elif isinstance(value, str) and len(value) > 10 and _RELEASE.match(value[:10]):
            record[key] = value[:10]  # "2024-11-25T00:00:00" / "2024-11-25 00:00:00"
    return record


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise DatasetError(f"line {number} is not valid JSON: {exc}", file=str(path),
                                   fix="fix or re-download the question file") from None
            if not isinstance(record, dict):
                raise DatasetError(f"line {number} is a JSON {type(record).__name__}, not a question object",
                                   file=str(path), fix="one question object per line")
            yield record


def _read_parquet(path: Path) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=256):
            yield from batch.to_pylist()
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read parquet: {exc}", file=str(path),
                           fix="check the file is complete (re-download the hub snapshot)") from None


def _read_file(path: Path) -> Iterator[dict[str, Any]]:
    if path.suffix == ".parquet":
        return _read_parquet(path)
    if path.suffix in (".jsonl", ".json"):
        return _read_jsonl(path)
    raise DatasetError(f"unsupported file type '{path.suffix}'", file=str(path),
                       fix="use LiveBench's question.jsonl files or the hub's parquet files")


def _with_test_cases(question_file: Path) -> Iterator[dict[str, Any]]:
    """LiveBench's ``load_test_cases_jsonl``: test_cases_*.jsonl beside a question file add fields by question_id
    (fields the question already has are kept)."""
    extra: dict[Any, dict[str, Any]] = {}
    for file in sorted(question_file.parent.glob("test_cases_*.jsonl")):
        for case in _read_jsonl(file):
            extra[case.get("question_id")] = case
    for record in _read_jsonl(question_file):
        for key, value in extra.get(record.get("question_id"), {}).items():
            record.setdefault(key, value)
        yield record


@registry.asset("dataset_loaders", "livebench", desc="LiveBench's question sets: one hub dataset per category "
                "(livebench/<category>), or a local folder of hub snapshots or LiveBench repo question.jsonl files; "
                "release filtering (preprocess_kwargs.release)", tags=("hub", "local", "livebench"))
class LiveBenchLoader(HFHubSubsetsLoader):
    def subsets(self) -> list[str]:  # type: ignore[override]
        chosen = [s for s in super().subsets() if s is not None] or list(CATEGORIES)
        where = "hub_params.subset" if self.spec.hub_params.subset else "params.subsets"
        for name in chosen:
            if name not in CATEGORIES:
                raise ConfigError(f"unknown LiveBench category '{name}'", path=self.cfg(where),
                                  fix=close_match_hint(name, CATEGORIES, label="categories"))
        return chosen

    def release(self) -> str:
        kwargs = self.spec.params.get("preprocess_kwargs") or {}
        try:
            return check_release(kwargs.get("release"))
        except ValueError as exc:
            raise ConfigError(str(exc), path=self.cfg("params.preprocess_kwargs.release"),
                              fix="give a LiveBench release date such as 2024-11-25 (`gage eval "
                                  "--livebench-release 2024-11-25`), latest or all") from None

    def describe(self) -> str:
        if self.spec.params.get("path"):
            return str(self.spec.params["path"])
        return f"{HUB_ORG}/{{{','.join(self.subsets())}}}"

    def check(self) -> None:
        self.release()
        if self.spec.params.get("path"):
            root = self.resolve_path(self.spec.params["path"])
            if root.is_dir() and not self._mixed_files(root):
                for category in self.subsets():
                    self._category_files(root, category)

    def iter_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        release, categories = self.release(), self.subsets()
        root = self.resolve_path(self.spec.params["path"]) if self.spec.params.get("path") else None
        number = 0
        for category, source, record in self._records(root, categories):
            number += 1
            normalize_dates(record)
            if category is None and not record.get("category"):
                raise DatasetError(f"question {record.get('question_id', number)!r} has no category", file=source,
                                   path=self.cfg("params.path"), fix="give every question its LiveBench category "
                                   f"({', '.join(CATEGORIES)}), or use the per-category folder layout")
            if category is not None and record.setdefault("category", category) != category:
                raise DatasetError(f"question {record.get('question_id', number)!r} is in the {category} folder but "
                                   f"says category {record['category']!r}", file=source, path=self.cfg("params.path"),
                                   fix=f"move its file to the {record['category']} folder")
            if record["category"] not in categories:
                continue
            if release not in ("latest", "all") and not record.get("livebench_release_date"):
                raise DatasetError(f"question {record.get('question_id', number)!r} has no livebench_release_date, "
                                   f"so release {release} cannot be applied", file=source,
                                   path=self.cfg("params.preprocess_kwargs.release"),
                                   fix="use release: all (or latest), or add the question's release date")
            if release_keeps(record, release):
                yield number, record

    def _records(self, root: Path | None, categories: list[str]) -> Iterator[tuple[str | None, str, dict[str, Any]]]:
        mixed = [root] if root is not None and root.is_file() else self._mixed_files(root)
        if mixed:
            for file in mixed:
                yield from ((None, str(file), r) for r in _read_file(file))
            return
        for category in categories:
            if root is None:
                yield from ((category, f"{HUB_ORG}/{category}", r) for r in self._hub(category))
                continue
            for file in self._category_files(root, category):
                records = _with_test_cases(file) if file.name == "question.jsonl" else _read_file(file)
                yield from ((category, str(file), r) for r in records)

    def _hub(self, category: str) -> Iterator[dict[str, Any]]:
        hub_params = self.spec.hub_params.model_copy(update={"hub_id": f"{HUB_ORG}/{category}", "subset": None})
        params = {k: v for k, v in self.spec.params.items() if k not in ("path", "subsets")}
        spec = self.spec.model_copy(update={"hub_params": hub_params, "params": params})
        try:
            for _, record in HFHubLoader(spec, self.base_dir, config_path=self.config_path).iter_records():
                yield record
        except DatasetError as exc:
            if exc.path == self.cfg("hub_params.hub_id"):  # the copy LiveBench needs is one folder per category
                exc.fix = (f"download each category where there is network (huggingface-cli download "
                           f"{HUB_ORG}/{category} --repo-type dataset --local-dir DIR/{category}), copy DIR here and "
                           "set params.path: DIR")
            raise

    def _mixed_files(self, root: Path | None) -> list[Path]:
        """A folder without category folders but with questions of every category in split files at the top
        (``test.jsonl``, ``data/test-*.parquet``): read as one source, each record's category deciding."""
        if root is None or not root.is_dir() or any((root / c).is_dir() for c in CATEGORIES):
            return []
        for layout in _HUB_LAYOUTS:
            found = sorted(p for p in root.glob(layout.format(split=self.spec.hub_params.split)) if p.is_file())
            if found:
                return found
        return []

    def _category_files(self, root: Path, category: str) -> list[Path]:
        folder = root / category
        split = self.spec.hub_params.split
        if not folder.is_dir():
            present = sorted(p.name for p in root.iterdir() if p.is_dir())
            example = json.dumps({"livebench": {"subset_list": [p for p in present if p in CATEGORIES][:2]
                                                or ["math"]}})
            raise DatasetError(f"no folder for LiveBench category '{category}' in this copy (it has: "
                               f"{', '.join(present) or 'no sub-folders'})", file=str(root),
                               path=self.cfg("params.path"),
                               fix=f"put the category at {folder}/ (the hub snapshot of {HUB_ORG}/{category}, or "
                                   f"LiveBench's data/live_bench/{category}/<task>/question.jsonl), or leave it out "
                                   f"with subset_list: --dataset-args '{example}'")
        for layout in (*_HUB_LAYOUTS, _REPO_LAYOUT):
            found = sorted(p for p in folder.glob(layout.format(split=split)) if p.is_file())
            if found:
                return found
        looked = ", ".join(layout.format(split=split) for layout in (*_HUB_LAYOUTS, _REPO_LAYOUT))
        raise DatasetError(f"no question files for category '{category}' (looked for {looked})", file=str(folder),
                           path=self.cfg("params.path"),
                           fix=f"copy the hub snapshot of {HUB_ORG}/{category} (huggingface-cli download "
                               f"{HUB_ORG}/{category} --repo-type dataset --local-dir {folder}) or LiveBench's "
                               f"data/live_bench/{category} folder there")
