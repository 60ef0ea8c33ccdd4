"""Datasets: loaders (jsonl, hf_hub), the preprocess pipeline and doc_to_* hooks."""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

from gage_eval.config.models import DatasetSpec
from gage_eval.datasets.base import DatasetLoader
from gage_eval.datasets.preprocess import (
    BasePreprocessor,
    DatasetPreprocessor,
    PluginPreprocessor,
)
from gage_eval.errors import ConfigError
from gage_eval.registry import registry
from gage_eval.sample import Sample

__all__ = ["BasePreprocessor", "DatasetLoader", "DatasetPreprocessor", "build_loader", "build_preprocessor",
           "iter_samples"]


def build_loader(spec: DatasetSpec, base_dir: Path | None = None, config_path: str | None = None) -> DatasetLoader:
    path = config_path or "datasets[?]"
    cls = registry.get("dataset_loaders", spec.loader, config_path=f"{path}.loader")
    return cls(spec, base_dir=base_dir, config_path=path)


def build_preprocessor(spec: DatasetSpec, source: str, config_path: str | None = None) -> BasePreprocessor:
    path = config_path or "datasets[?]"
    params = spec.params
    cls = registry.get("dataset_preprocessors", params.get("preprocess", "default"),
                       config_path=f"{path}.params.preprocess")
    hooks = {k: v for k, v in params.items() if k.startswith("doc_to_")}
    common = {"dataset_id": spec.dataset_id, "source": source, "hooks": hooks, **params.get("preprocess_kwargs", {})}
    if isinstance(cls, type) and issubclass(cls, BasePreprocessor):
        return cls(**common)
    if isinstance(cls, type) and issubclass(cls, DatasetPreprocessor):
        return PluginPreprocessor(cls(), **common)
    raise ConfigError(f"'{params.get('preprocess')}' is not a preprocessor", path=f"{path}.params.preprocess",
                      fix="register a BasePreprocessor or DatasetPreprocessor subclass")


def iter_samples(spec: DatasetSpec, base_dir: Path | None = None, config_path: str | None = None,
                 max_samples: int | None = None) -> Iterator[Sample]:
    """Stream standardized Samples; memory stays flat whatever the file size."""
    loader = build_loader(spec, base_dir, config_path)
    preprocessor = build_preprocessor(spec, loader.describe(), config_path)
    records = loader.iter_records()
    if max_samples is not None:
        records = itertools.islice(records, max_samples)
    transform = preprocessor.transform
    for number, record in records:
        yield transform(record, number)
