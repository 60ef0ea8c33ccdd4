"""Datasets: loaders (jsonl, hf_hub), the preprocess pipeline and doc_to_* hooks.

`iter_samples(spec)` streams standardized Samples: a loader (registry kind `dataset_loaders`) yields raw
records lazily and a preprocessor (kind `dataset_preprocessors`, from ``params.preprocess``) turns each
into a validated Sample. Everything that can be resolved once (classes, hooks, kwargs) is resolved
before the first record, so the per-record cost is the JSON parse plus one pydantic validation.
"""
from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gage_eval.config.models import DatasetSpec
from gage_eval.datasets.base import DatasetLoader, empty_dataset_error
from gage_eval.datasets.preprocess import (
    HOOK_NAMES,
    BasePreprocessor,
    DatasetPreprocessor,
    PluginPreprocessor,
    RecordError,
    make_preprocessor,
)
from gage_eval.errors import ConfigError, DatasetError
from gage_eval.registry import registry
from gage_eval.sample import Sample

__all__ = ["BasePreprocessor", "DatasetLoader", "DatasetPreprocessor", "PluginPreprocessor", "RecordError",
           "build_loader", "build_preprocessor", "iter_samples"]


def build_loader(spec: DatasetSpec, base_dir: Path | None = None, config_path: str | None = None) -> DatasetLoader:
    cls = registry.get("dataset_loaders", spec.loader, config_path=_at(config_path, "loader"))
    loader = cls(spec, base_dir)
    loader.config_path = config_path
    return loader


def build_preprocessor(spec: DatasetSpec, source: str = "", config_path: str | None = None,
                       number_unit: str = "record") -> BasePreprocessor:
    params = spec.params
    name = params.get("preprocess") or "default"
    obj = registry.get("dataset_preprocessors", str(name), config_path=_at(config_path, "params.preprocess"))
    raw_kwargs = params.get("preprocess_kwargs") or {}
    if not isinstance(raw_kwargs, dict):
        raise ConfigError("params.preprocess_kwargs must be a mapping",
                          path=_at(config_path, "params.preprocess_kwargs"), fix="write it as key: value pairs")
    kwargs: dict[str, Any] = dict(raw_kwargs)
    # doc_to_* hooks may sit in params (preferred) or, GAGE-style, inside preprocess_kwargs.
    hooks = {k: kwargs.pop(k) for k in list(kwargs) if k.startswith(HOOK_NAMES)}
    hooks.update({k: v for k, v in params.items() if k.startswith(HOOK_NAMES)})
    return make_preprocessor(obj, where=_at(config_path, "params.preprocess"), dataset_id=spec.dataset_id,
                             source=source, hooks=hooks, config_path=config_path, number_unit=number_unit,
                             **kwargs)


def iter_samples(spec: DatasetSpec, base_dir: Path | None = None, config_path: str | None = None,
                 max_samples: int | None = None) -> Iterator[Sample]:
    """Stream standardized Samples; memory stays flat whatever the dataset size.

    Loader and preprocessor are built now (so config mistakes surface at the call); records are read
    only as the iterator is consumed.
    """
    loader = build_loader(spec, base_dir, config_path)
    preprocessor = build_preprocessor(spec, loader.describe(), config_path, loader.number_unit)
    if hasattr(preprocessor, "fewshot_pool"):
        loader.check()  # a missing data file is "not found", said before anything about its few-shot split
        preprocessor.fewshot_pool = load_fewshot_pool(spec, base_dir, config_path)
        preprocessor.pool_is_evaluated_split = pool_is_evaluated_split(spec, base_dir)
    per = spec.params.get("limit_per")
    if per is not None and (not isinstance(per, str) or not per):
        raise ConfigError(f"params.limit_per must name a record field, not {per!r}",
                          path=_at(config_path, "params.limit_per"),
                          fix="e.g. limit_per: subject, or remove it to limit the whole dataset")
    return _generate(loader, preprocessor, max_samples, per)


_FEWSHOT_POOL_CAP = 100_000


def load_fewshot_pool(spec: DatasetSpec, base_dir: Path | None = None,
                      config_path: str | None = None) -> list[dict[str, Any]]:
    """Raw records of the split few-shot examples are drawn from (preprocess_kwargs fewshot_split or
    fewshot_path), read with the dataset's own loader; empty when num_fewshot is 0."""
    kwargs = spec.params.get("preprocess_kwargs") or {}
    if not int(kwargs.get("num_fewshot") or 0):
        return []
    split, path = kwargs.get("fewshot_split"), kwargs.get("fewshot_path")
    if not split and not path:
        raise ConfigError(f"dataset '{spec.dataset_id}' asks for {kwargs['num_fewshot']} few-shot examples but "
                          "names no split to draw them from", path=_at(config_path, "params.preprocess_kwargs"),
                          fix="set fewshot_split (e.g. dev, train, validation) or fewshot_path (a local file)")
    params = dict(spec.params)
    hub_params = spec.hub_params
    local = params.get("path")
    if split and not path and local and Path(str(local)).suffix:
        # One local file holds one split: drawing "the train split" from it would draw the evaluated questions.
        raise ConfigError(f"dataset '{spec.dataset_id}' wants few-shot examples from its '{split}' split, but its "
                          f"local copy {local} is a single file", path=_at(config_path, "params.path"),
                          fix="set preprocess_kwargs.fewshot_path to a file of that split (or point params.path at "
                              "a snapshot folder holding both splits), or use num_fewshot: 0")
    if path:
        params["path"] = path
    if split:
        hub_params = hub_params.model_copy(update={"split": split})
    if spec.loader == "jsonl" and not path:
        raise ConfigError(f"dataset '{spec.dataset_id}': the jsonl loader reads one file, so few-shot examples "
                          "need their own file", path=_at(config_path, "params.preprocess_kwargs.fewshot_split"),
                          fix="set fewshot_path to the file of the few-shot split")
    pool_spec = spec.model_copy(update={"params": params, "hub_params": hub_params})
    loader = build_loader(pool_spec, base_dir, config_path)
    return [record for _, record in itertools.islice(loader.iter_records(), _FEWSHOT_POOL_CAP)]


def pool_is_evaluated_split(spec: DatasetSpec, base_dir: Path | None = None) -> bool | None:
    """lm-eval's "few-shot split == test split" for this spec: a fewshot_path naming the evaluated file itself is
    the evaluated split; otherwise a named fewshot_split is when it names the evaluated split; a pool file of
    unnamed split is unknown (None)."""
    kwargs = spec.params.get("preprocess_kwargs") or {}
    split, path, local = kwargs.get("fewshot_split"), kwargs.get("fewshot_path"), spec.params.get("path")
    if path and local:
        resolve = build_loader(spec, base_dir).resolve_path
        try:
            if resolve(str(path)).resolve() == resolve(str(local)).resolve():
                return True
        except DatasetError:  # a missing file is reported by the loader that reads it
            pass
    if split:
        return split == spec.hub_params.split
    return None


def _generate(loader: DatasetLoader, preprocessor: BasePreprocessor, max_samples: int | float | None,
              per: str | None = None) -> Iterator[Sample]:
    records: Iterator[tuple[int, tuple[int, dict[str, Any]]]] = enumerate(loader.iter_records())
    keep = getattr(preprocessor, "keep", None)
    if keep is not None:  # a selection of the dataset (e.g. SWE-bench instance ids), made before any limit
        records = (item for item in records if keep(item[1][1]))
    if max_samples is not None:
        records = limit_records(records, max_samples, per)
    transform = preprocessor.transform
    # `index` stays the record's position in the whole dataset, so a limited run's derived ids are a full run's.
    index = -1
    for index, (number, record) in records:
        yield transform(record, index, number)
    if index < 0 and max_samples != 0:
        raise empty_dataset_error(loader.describe(), loader.cfg("params.path"))


def _group_key(record: dict[str, Any], per: str) -> Any:
    key = record.get(per)
    return key if isinstance(key, (str, int, float, bool, type(None))) else repr(key)


def limit_records(records: Iterator[tuple[int, Any]], limit: int | float, per: str | None
                  ) -> Iterator[tuple[int, Any]]:
    """The first `limit` records — or, with ``params.limit_per: FIELD``, the first `limit` of each value of that
    record field (lm-eval's --limit, which counts per sub-task: MMLU's, CMMLU's and C-Eval's subjects).

    A fraction (0 < limit < 1) keeps ceil(limit × size) records of the dataset, or of each group, as lm-eval
    computes it (`int(math.ceil(len(docs) * limit))` per task); the records are read once to count them."""
    if isinstance(limit, float):
        items = list(records)
        sizes = Counter(_group_key(item[1][1], per) if per else None for item in items)
        quota = {key: math.ceil(size * limit) for key, size in sizes.items()}
        seen_fraction: Counter[Any] = Counter()
        for item in items:
            key = _group_key(item[1][1], per) if per else None
            if seen_fraction[key] < quota[key]:
                seen_fraction[key] += 1
                yield item
        return
    if per is None:
        yield from itertools.islice(records, limit)
        return
    seen: dict[Any, int] = {}
    for item in records:
        key = _group_key(item[1][1], per)
        if seen.get(key, 0) < limit:
            seen[key] = seen.get(key, 0) + 1
            yield item


def _at(config_path: str | None, key: str) -> str:
    return f"{config_path}.{key}" if config_path else key
