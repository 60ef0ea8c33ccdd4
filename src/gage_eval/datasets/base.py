"""Dataset loader base: yields raw records lazily, with their record numbers for error messages."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gage_eval.config.models import DatasetSpec
from gage_eval.errors import DatasetError


class DatasetLoader:
    def __init__(self, spec: DatasetSpec, base_dir: Path | None = None, config_path: str | None = None) -> None:
        self.spec = spec
        self.base_dir = base_dir
        self.config_path = config_path or "datasets[?]"

    def iter_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        raise NotImplementedError

    def check(self) -> None:
        """Cheap pre-flight for `gage validate`: local files named in params.path must exist."""
        if self.spec.params.get("path"):
            self.resolve_path(self.spec.params["path"])

    def describe(self) -> str:
        return str(self.spec.params.get("path") or self.spec.hub_params.hub_id or self.spec.dataset_id)

    def resolve_path(self, raw: str | None, key: str = "path") -> Path:
        """Relative paths: the cwd first (spec: repo-root relative), then the config file's directory."""
        if not raw:
            raise DatasetError(f"dataset '{self.spec.dataset_id}' has no params.{key}",
                               path=f"{self.config_path}.params.{key}", fix="set the path of the data file")
        path = Path(raw).expanduser()
        candidates = [path] if path.is_absolute() else [Path.cwd() / path] + (
            [self.base_dir / path] if self.base_dir else [])
        for candidate in candidates:
            if candidate.exists():
                return candidate
        raise DatasetError(f"dataset file not found: {raw}", file=str(raw), path=f"{self.config_path}.params.{key}",
                           fix="check the path; relative paths are tried against the current directory, then "
                               "the config file's directory")
