"""Dataset loader base: yields raw records lazily, with their record numbers for error messages."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gage_eval.config.models import DatasetSpec
from gage_eval.errors import DatasetError


class DatasetLoader:
    """Subclasses implement `iter_records`; it must stream (never materialize the whole dataset).

    `config_path` (e.g. ``datasets[2]``) is set by the runtime so errors can point into the config.
    """

    #: What the numbers from `iter_records` count. Text loaders yield line numbers (blank lines are
    #: skipped, so they can run ahead of the record count) and error messages say "line N".
    number_unit: str = "record"

    def __init__(self, spec: DatasetSpec, base_dir: Path | None = None, *, config_path: str | None = None) -> None:
        self.spec = spec
        self.base_dir = base_dir
        self.config_path = config_path

    def iter_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(record_number, record)`` with record numbers starting at 1."""
        raise NotImplementedError

    def describe(self) -> str:
        """What to name in error messages: the data file or the hub id."""
        return str(self.spec.params.get("path") or self.spec.hub_params.hub_id or self.spec.dataset_id)

    def check(self) -> None:
        """Cheap pre-flight for `gage validate`: local files named in params.path must exist."""
        if self.spec.params.get("path"):
            self.resolve_path(self.spec.params["path"])

    def cfg(self, key: str) -> str:
        """The config path of one of this dataset's keys, e.g. ``datasets[0].params.path``."""
        return f"{self.config_path}.{key}" if self.config_path else key

    def resolve_path(self, raw: Any, key: str = "params.path") -> Path:
        """Relative paths: the cwd first (configs are usually run from the repo root), then the config's folder."""
        if not raw:
            raise DatasetError(f"dataset '{self.spec.dataset_id}' has no {key}", path=self.cfg(key),
                               fix="set the path of the data file or folder")
        path = Path(str(raw)).expanduser()
        candidates = [path] if path.is_absolute() else [Path.cwd() / path]
        if not path.is_absolute() and self.base_dir is not None:
            candidates.append(Path(self.base_dir) / path)
        for candidate in candidates:
            if candidate.exists():
                return candidate
        tried = " or ".join(dict.fromkeys(str(c.resolve()) for c in candidates))  # cwd may be the config dir
        raise DatasetError(f"dataset file not found (tried {tried})", file=str(raw), path=self.cfg(key),
                           fix="check the path; relative paths are tried against the current directory, then "
                               "the config file's directory")


def empty_dataset_error(source: str, config_path: str) -> DatasetError:
    """A run over nothing would report "completed, 0 samples" and look like a success: refuse it by name."""
    return DatasetError("dataset is empty: no records were read", file=source, path=config_path,
                        fix="check that the file (or split / subset) holds records; an empty file is usually an "
                            "unfinished download or export")
