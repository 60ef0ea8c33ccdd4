"""Pre-flight for `gage validate`: local dataset files named in a config must exist.

Relative paths are tried against the current directory first (configs are usually run from the repo
root), then against the config file's directory — the same order the dataset loaders use.
"""
from __future__ import annotations

from pathlib import Path

from gage_eval.config.models import DatasetSpec, PipelineConfig
from gage_eval.errors import ConfigError


def path_candidates(raw: str, base_dir: Path | None = None) -> list[Path]:
    path = Path(raw).expanduser()
    if path.is_absolute():
        return [path]
    out = [Path.cwd() / path]
    if base_dir is not None and (Path(base_dir) / path).resolve() != out[0].resolve():
        out.append(Path(base_dir) / path)
    return out


def resolve_local_path(raw: str, base_dir: Path | None = None) -> Path | None:
    return next((c for c in path_candidates(raw, base_dir) if c.exists()), None)


def _needs_local_path(spec: DatasetSpec) -> bool:
    # jsonl always reads params.path; hf_hub only when a local copy is named (else it uses the hub).
    return spec.loader == "jsonl" or (spec.loader == "hf_hub" and bool(spec.params.get("path")))


def surely_used_datasets(cfg: PipelineConfig) -> set[str]:
    """Datasets a run will read whatever its flags: the tasks', or the only one (else --dataset-id decides)."""
    if cfg.tasks:
        return {t.dataset_id for t in cfg.tasks}
    return {cfg.datasets[0].dataset_id} if len(cfg.datasets) == 1 else set()


def check_dataset_paths(cfg: PipelineConfig, file: str | None = None, base_dir: Path | None = None,
                        only: set[str] | None = None) -> None:
    """ConfigError at ``datasets[i].params.path`` for a local data file that does not exist (all datasets, or
    those in `only`)."""
    for i, spec in enumerate(cfg.datasets):
        if not _needs_local_path(spec) or (only is not None and spec.dataset_id not in only):
            continue
        where = f"datasets[{i}].params.path"
        raw = spec.params.get("path")
        if not raw or not isinstance(raw, str):
            raise ConfigError(f"dataset '{spec.dataset_id}' (loader: {spec.loader}) has no params.path"
                              + (f" (got {raw!r})" if raw else ""), file=file, path=where,
                              fix="set params.path to the data file")
        found = resolve_local_path(raw, base_dir)
        if found is None:
            tried = " and ".join(str(c) for c in path_candidates(raw, base_dir))
            raise ConfigError(f"dataset file '{raw}' not found (tried {tried})", file=file, path=where,
                              fix="check the path; a relative path is tried against the current directory, "
                                  "then against the config file's directory")
        if spec.loader == "jsonl" and found.is_dir():
            raise ConfigError(f"'{raw}' is a folder; the jsonl loader reads one file", file=file, path=where,
                              fix="point params.path at a .jsonl file, or use loader: hf_hub for a dataset folder")
