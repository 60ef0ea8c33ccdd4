"""Built-in loaders: `jsonl` (streaming, .gz) and `hf_hub` (the `datasets` library; hub or local files)."""
from __future__ import annotations

import contextlib
import glob
import gzip
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from gage_eval.datasets.base import DatasetLoader, empty_dataset_error
from gage_eval.errors import DatasetError
from gage_eval.registry import registry

_BOM = b"\xef\xbb\xbf"


@registry.asset("dataset_loaders", "jsonl", desc="JSON lines file (.jsonl or .jsonl.gz), streamed line by line",
                tags=("local", "streaming"))
class JsonlLoader(DatasetLoader):
    number_unit = "line"

    def iter_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        path = self.resolve_path(self.spec.params.get("path"))
        if path.is_dir():
            raise DatasetError("params.path is a folder, the jsonl loader reads one file", file=str(path),
                               path=self.cfg("params.path"),
                               fix="point params.path at a .jsonl file, or use loader: hf_hub for a dataset folder")
        opener: Any = gzip.open if path.name.endswith(".gz") else open
        loads, decode_error = orjson.loads, orjson.JSONDecodeError
        try:
            with opener(path, "rb") as fh:
                for number, line in enumerate(fh, start=1):
                    try:
                        record = loads(line)
                    except decode_error as exc:
                        # Blank lines are rare, so they are detected only on the (slow) failure path.
                        if not line.strip():
                            continue
                        if number == 1 and line.startswith(_BOM):
                            record = self._parse_or_raise(line[len(_BOM):], number, path)
                        else:
                            raise self._bad_line(line, number, path, exc) from None
                    if type(record) is not dict:
                        raise DatasetError(f"line {number} is a JSON {type(record).__name__}, not an object",
                                           file=str(path), path=self.cfg("params.path"),
                                           fix=self._shape_fix(line, number))
                    yield number, record
        except (OSError, EOFError) as exc:  # truncated or corrupt .gz, unreadable file
            raise DatasetError(f"cannot read the file: {exc}", file=str(path), path=self.cfg("params.path"),
                               fix="check the file is complete (re-download or re-compress it)") from None

    def _parse_or_raise(self, line: bytes, number: int, path: Path) -> Any:
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise self._bad_line(line, number, path, exc) from None

    def _bad_line(self, line: bytes, number: int, path: Path, exc: orjson.JSONDecodeError) -> DatasetError:
        snippet = line.decode("utf-8", "replace").strip()
        snippet = snippet if len(snippet) <= 80 else snippet[:77] + "..."
        return DatasetError(f"line {number} is not valid JSON: {exc.msg} at column {exc.colno} in {snippet!r}",
                            file=str(path), path=self.cfg("params.path"), fix=self._shape_fix(line, number))

    @staticmethod
    def _shape_fix(line: bytes, number: int) -> str:
        if number == 1 and line.lstrip(_BOM).strip().startswith(b"["):
            return ("the file looks like one JSON array, not JSON lines: use loader: hf_hub with this path, "
                    "or rewrite it with one object per line")
        return (f"fix or delete line {number}: each line must be one complete JSON object "
                "(pretty-printed records spanning several lines are not JSON lines)")


# File suffix -> `datasets` packaged builder (and its extra config) for single local files.
_BUILDERS: dict[str, tuple[str, dict[str, Any]]] = {
    ".parquet": ("parquet", {}), ".csv": ("csv", {}), ".tsv": ("csv", {"sep": "\t"}),
    ".json": ("json", {}), ".jsonl": ("json", {}), ".ndjson": ("json", {}), ".arrow": ("arrow", {}),
    ".txt": ("text", {}),
}
_COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".zip")
_MEDIA_FEATURES = {"Image", "Audio", "Video", "Pdf"}
_TRUE = {"1", "ON", "YES", "TRUE"}


_SPLIT_PATTERNS = ("{split}-*", "{split}.*", "{split}_*", "{split}/*", "data/{split}-*", "data/{split}.*")


def _split_files(root: Path, subset: str | None, split: str) -> str | None:
    """A glob (relative to `root`) of the files named after `split` in a snapshot folder, or None."""
    base = f"{subset}/" if subset and (root / subset).is_dir() else ""
    for pattern in _SPLIT_PATTERNS:
        rel = base + pattern.format(split=split)
        if any(f.is_file() and f.suffix not in (".md", ".py", ".lock") for f in root.glob(rel)):
            return rel
    return None


def _builder_for(name: str) -> tuple[str, dict[str, Any]] | None:
    stem = name.lower()
    for ext in _COMPRESSED:
        stem = stem.removesuffix(ext)
    return _BUILDERS.get(Path(stem).suffix)


def _offline_requested() -> bool:
    return any(os.environ.get(k, "").upper() in _TRUE for k in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


@contextlib.contextmanager
def _offline_env_honoured() -> Iterator[bool]:
    """`datasets` and `huggingface_hub` read HF_HUB_OFFLINE once, at import; honour it when set later too.

    Without this, a process that sets the variable after importing `datasets` still waits through the
    hub client's retries (about 25 s) before failing.
    """
    if not _offline_requested():
        yield False
        return
    import datasets.config as ds_config
    import huggingface_hub.constants as hub_constants

    saved = (ds_config.HF_HUB_OFFLINE, getattr(ds_config, "HF_DATASETS_OFFLINE", None), hub_constants.HF_HUB_OFFLINE)
    ds_config.HF_HUB_OFFLINE = hub_constants.HF_HUB_OFFLINE = True
    if saved[1] is not None:
        ds_config.HF_DATASETS_OFFLINE = True
    try:
        yield True
    finally:
        ds_config.HF_HUB_OFFLINE, hub_constants.HF_HUB_OFFLINE = saved[0], saved[2]
        if saved[1] is not None:
            ds_config.HF_DATASETS_OFFLINE = saved[1]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def undecoded_media(dataset: Any) -> Any:
    """Image / Audio columns as their stored bytes ({"bytes", "path"}) rather than decoded PIL images or arrays:
    nothing is decoded and re-encoded on the way to the model (the modal_processor reads the bytes, and decodes
    only what it has to resize). ``params.decode_media: true`` keeps `datasets`' decoding for hooks that want
    PIL images."""
    features = getattr(dataset, "features", None) or {}
    for name, feature in features.items():
        inner = getattr(feature, "feature", None)  # List(Image()) / Sequence(Image())
        target = inner if type(inner).__name__ in ("Image", "Audio") else feature
        if type(target).__name__ in ("Image", "Audio") and getattr(target, "decode", False):
            plain = type(target)(decode=False)
            if target is feature:
                dataset = dataset.cast_column(name, plain)
            else:
                import copy

                outer = copy.copy(feature)
                outer.feature = plain
                dataset = dataset.cast_column(name, outer)
    return dataset


def _blank(path: Path) -> bool:
    """An empty (or whitespace-only) file; only the first bytes are read, so big files cost nothing."""
    with path.open("rb") as fh:
        return not fh.read(4096).strip() and path.stat().st_size <= 4096


@registry.asset("dataset_loaders", "hf_hub", desc="Hugging Face `datasets`: hub_params.hub_id/subset/split, or "
                "local data in params.path (save_to_disk folder, snapshot folder, parquet/csv/json/arrow file) "
                "or params.data_files", tags=("hub", "local", "streaming"))
class HFHubLoader(DatasetLoader):
    def describe(self) -> str:
        params = self.spec.params
        if params.get("path"):
            return str(params["path"])
        if params.get("data_files") and not self.spec.hub_params.hub_id:
            return str(params["data_files"])
        return str(self.spec.hub_params.hub_id or self.spec.dataset_id)

    def check(self) -> None:
        if self.spec.params.get("path"):
            self.resolve_path(self.spec.params["path"])
        elif not self.spec.hub_params.hub_id and not self.spec.params.get("data_files"):
            self._no_source()

    def iter_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        dataset = self._open()
        if not self.spec.params.get("decode_media", False):
            dataset = undecoded_media(dataset)
        batch_size = int(self.spec.params.get("batch_size") or self._auto_batch_size(dataset))
        # Batched column reads are ~20x faster than `for row in dataset` (which formats row by row).
        batches = iter(dataset.iter(batch_size=batch_size))
        number = 0
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except Exception as exc:  # noqa: BLE001 - streaming reads fail late and in many types
                raise DatasetError(f"reading record {number + 1} failed: {_first_line(exc)}", file=self.describe(),
                                   path=self.cfg("params.path" if self.spec.params.get("path") else
                                                 "hub_params.hub_id"),
                                   fix="check the data files are complete and readable") from None
            keys = list(batch)
            for values in zip(*batch.values()):
                number += 1
                yield number, dict(zip(keys, values))

    @staticmethod
    def _auto_batch_size(dataset: Any) -> int:
        # Decoded images/audio are large: keep few of them in memory at once.
        features = getattr(dataset, "features", None) or {}
        if any(type(f).__name__ in _MEDIA_FEATURES for f in features.values()):
            return 16
        return 1000

    def _no_source(self) -> None:
        raise DatasetError(f"dataset '{self.spec.dataset_id}' needs hub_params.hub_id, params.path or "
                           "params.data_files", path=self.cfg("hub_params.hub_id"),
                           fix="give the hub id (e.g. cais/mmlu) or point params.path at a local copy")

    def _open(self) -> Any:
        import datasets

        hp, params = self.spec.hub_params, self.spec.params
        streaming = bool(params.get("streaming", False))
        with _offline_env_honoured():
            if params.get("path"):
                return self._open_local(datasets, self.resolve_path(params["path"]), streaming)
            if hp.hub_id:
                return self._open_hub(datasets, streaming)
            if params.get("data_files"):
                return self._open_data_files(datasets, streaming)
            self._no_source()

    def _open_local(self, datasets: Any, path: Path, streaming: bool) -> Any:
        hp = self.spec.hub_params
        kwargs: dict[str, Any] = {"split": hp.split, "streaming": streaming}
        try:
            if path.is_dir() and any((path / f).exists() for f in ("state.json", "dataset_dict.json")):
                # save_to_disk output is already Arrow and memory-mapped: streaming adds nothing.
                loaded = datasets.load_from_disk(str(path))
                if isinstance(loaded, datasets.DatasetDict):
                    if hp.split not in loaded:
                        raise DatasetError(f"split '{hp.split}' is not in this saved dataset (it has: "
                                           f"{', '.join(sorted(loaded))})", file=str(path),
                                           path=self.cfg("hub_params.split"),
                                           fix=f"set hub_params.split to one of: {', '.join(sorted(loaded))}")
                    loaded = loaded[hp.split]
                return loaded
            if path.is_dir():
                # A hub snapshot: subsets are usually sub-folders, unless a README declares named configs.
                if hp.subset and (path / hp.subset).is_dir():
                    kwargs["data_dir"] = hp.subset
                elif hp.subset:
                    kwargs["name"] = hp.subset
                if self.spec.params.get("data_files"):
                    kwargs["data_files"] = self.spec.params["data_files"]
                elif (files := _split_files(path, hp.subset, hp.split)) is not None:
                    # Name the split's files: `datasets` folds e.g. "dev" files into "validation" when it infers.
                    kwargs.pop("data_dir", None)
                    kwargs.pop("name", None)  # named files need no config (a copy may lack the subset folder)
                    kwargs["data_files"] = {hp.split: files}
                return datasets.load_dataset(str(path), **kwargs)
            if path.is_file() and _blank(path):  # `datasets` would only say "StopIteration"
                raise empty_dataset_error(str(path), self.cfg("params.path"))
            builder = _builder_for(path.name)
            if builder is None:
                raise DatasetError(f"unsupported file type '{''.join(path.suffixes)}'", file=str(path),
                                   path=self.cfg("params.path"),
                                   fix="use a dataset folder or a .parquet, .csv, .tsv, .json, .jsonl or .arrow file")
            name, config = builder
            return datasets.load_dataset(name, data_files={hp.split: str(path)}, **kwargs, **config)
        except DatasetError:
            raise
        except Exception as exc:  # noqa: BLE001 - `datasets` raises many types for unreadable local data
            if "BuilderConfig" in str(exc) and hp.subset:
                raise DatasetError(f"no '{hp.split}' data of subset '{hp.subset}' in this folder", file=str(path),
                                   path=self.cfg("params.path"),
                                   fix=f"a hub snapshot keeps it as {hp.subset}/{hp.split}-*.parquet (or "
                                       f"{hp.split}.jsonl / {hp.split}-*.parquet at the top of the folder)") from None
            split_problem = "split" in str(exc).lower()
            raise DatasetError(f"cannot load local dataset: {_first_line(exc)}", file=str(path),
                               path=self.cfg("hub_params.split" if split_problem else "params.path"),
                               fix=("set hub_params.split to a split the data has: file names such as "
                                    "data/test-00000-of-00001.parquet name the split; files named otherwise "
                                    "form the 'train' split") if split_problem else
                               "check the path points at a saved dataset, a snapshot folder or a data file") from None

    def _open_data_files(self, datasets: Any, streaming: bool) -> Any:
        hp, raw = self.spec.hub_params, self.spec.params["data_files"]
        by_split = raw if isinstance(raw, dict) else {hp.split: raw}
        if hp.split not in by_split:
            raise DatasetError(f"params.data_files has no split '{hp.split}' (it has: {', '.join(by_split)})",
                               path=self.cfg("hub_params.split"), fix=f"set hub_params.split to one of: "
                                                                      f"{', '.join(by_split)}")
        files = by_split[hp.split]
        files = [self._resolve_pattern(f) for f in ([files] if isinstance(files, str) else files)]
        builder = _builder_for(files[0]) if files else None
        if builder is None:
            raise DatasetError(f"cannot tell the format of params.data_files {files}",
                               path=self.cfg("params.data_files"),
                               fix="name .parquet, .csv, .json/.jsonl or .arrow files")
        name, config = builder
        try:
            return datasets.load_dataset(name, data_files={hp.split: files}, split=hp.split, streaming=streaming,
                                         **config)
        except Exception as exc:  # noqa: BLE001
            raise DatasetError(f"cannot load params.data_files: {_first_line(exc)}", file=str(files),
                               path=self.cfg("params.data_files"),
                               fix="check the files exist and are readable") from None

    def _resolve_pattern(self, raw: str) -> str:
        """Like resolve_path, for entries that may be glob patterns."""
        if not glob.has_magic(raw):
            return str(self.resolve_path(raw, "params.data_files"))
        if Path(raw).is_absolute():
            return raw
        bases = [Path.cwd()] + ([Path(self.base_dir)] if self.base_dir is not None else [])
        for base in bases:
            if glob.glob(str(base / raw), recursive=True):
                return str(base / raw)
        raise DatasetError(f"no file matches '{raw}'", file=raw, path=self.cfg("params.data_files"),
                           fix="relative patterns are tried against the current directory, then the config's folder")

    def _open_hub(self, datasets: Any, streaming: bool) -> Any:
        hp, params = self.spec.hub_params, self.spec.params
        kwargs: dict[str, Any] = {"split": hp.split, "revision": hp.revision, "streaming": streaming}
        if params.get("data_files"):
            kwargs["data_files"] = params["data_files"]
        if hp.trust_remote_code:  # removed in datasets 4; only passed when asked for, so the error is explicit
            kwargs["trust_remote_code"] = True
        try:
            return datasets.load_dataset(hp.hub_id, hp.subset, **kwargs)
        except Exception as exc:  # noqa: BLE001 - hub failures come in many types; all end the same way
            raise self._hub_error(exc) from None

    def _hub_error(self, exc: Exception) -> DatasetError:
        hub_id = self.spec.hub_params.hub_id
        local_fix = (f"download it where there is network (e.g. `huggingface-cli download {hub_id} --repo-type "
                     f"dataset --local-dir DIR`, or load_dataset(...).save_to_disk(DIR)), copy DIR here and set "
                     "params.path: DIR (keep loader: hf_hub)")
        name = type(exc).__name__
        if isinstance(exc, ConnectionError) or "Offline" in name or "offline" in str(exc).lower():
            why = ("offline mode is on (HF_HUB_OFFLINE/HF_DATASETS_OFFLINE) and it is not in the local cache"
                   if _offline_requested() else "the Hugging Face Hub cannot be reached from here")
            return DatasetError(f"dataset '{hub_id}' cannot be downloaded: {why}", file=hub_id,
                                path=self.cfg("hub_params.hub_id"), fix=local_fix)
        message = _first_line(exc)
        if name == "DatasetNotFoundError":
            return DatasetError(f"dataset '{hub_id}' was not found: {message}", file=hub_id,
                                path=self.cfg("hub_params.hub_id"),
                                fix="check the hub id; for gated datasets set HF_TOKEN; offline, " + local_fix)
        lowered = message.lower()
        key = ("hub_params.split" if "split" in lowered else
               "hub_params.subset" if "config" in lowered or "subset" in lowered else "hub_params.hub_id")
        return DatasetError(f"cannot load '{hub_id}': {message}", file=hub_id, path=self.cfg(key),
                            fix=f"check {key}; or use a local copy: {local_fix}")
