"""`hf_hub_subsets`: the `hf_hub` loader over several subsets (hub configs) of one dataset, one after another.

CMMLU (67 subjects) and C-Eval (52) publish one hub config per subject, and their records do not name the
subject; lm-eval runs one task per subject. This loader reads the subsets listed in ``params.subsets`` in
order (``hub_params.subset``, when set, narrows the run to that one) and writes the subset name into each
record's ``params.subset_field`` (when the record lacks it), so the preprocessor can pick the subject's
description and few-shot examples, and reports can break scores down by subject.

Local copies (``params.path`` = a folder): per subset the data files are looked up in the layouts copies come
in, before falling back to `datasets` (README-declared configs):

- ``<subset>/<split>-*.parquet``   hub snapshot (``huggingface-cli download``)
- ``<subset>/<split>/*.parquet``   the hub's ``refs/convert/parquet`` export
- ``<split>/<subset>.csv``         CMMLU's GitHub release (``data/test/agronomy.csv``)
- ``<split>/<subset>_<split>.csv`` C-Eval's release zip (``val/accountant_val.csv``)

With a single subset, ``data/<split>-*`` and ``<split>-*`` / ``<split>.*`` at the top are tried too. Reading the
files directly also keeps a ``dev`` split apart: `datasets` folds ``dev`` into ``validation`` when it infers the
splits of a sub-folder (``data_dir``). A single file or a save_to_disk folder is read once, as `hf_hub` reads it.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from gage_eval.datasets.loaders import HFHubLoader, _builder_for
from gage_eval.errors import ConfigError, DatasetError
from gage_eval.registry import registry

_SUBSET_LAYOUTS = ("{subset}/{split}-*", "{subset}/{split}/*", "{split}/{subset}.*", "{split}/{subset}_{split}.*")
_SINGLE_LAYOUTS = ("data/{split}-*", "{split}-*", "{split}.*")


@registry.asset("dataset_loaders", "hf_hub_subsets", desc="hf_hub over the subsets (hub configs) listed in "
                "params.subsets, read in order; the subset name is written to params.subset_field of each record "
                "(e.g. CMMLU / C-Eval subjects); local snapshot folders, parquet exports and CSV releases",
                tags=("hub", "local", "streaming"))
class HFHubSubsetsLoader(HFHubLoader):
    #: quick mode's subset_list narrows params.subsets (config/quick.py)
    reads_subsets: ClassVar[bool] = True

    def subsets(self) -> list[str | None]:
        if self.spec.hub_params.subset:
            return [self.spec.hub_params.subset]
        raw = self.spec.params.get("subsets")
        if raw is None:
            return [None]
        if not isinstance(raw, list) or not raw or not all(isinstance(s, str) and s for s in raw):
            raise ConfigError("params.subsets must be a non-empty list of subset names", path=self.cfg("params.subsets"),
                              fix="list the hub configs to read, e.g. [agronomy, anatomy]")
        return list(raw)

    def iter_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        subsets, field = self.subsets(), self.spec.params.get("subset_field")
        path = self.resolve_path(self.spec.params["path"]) if self.spec.params.get("path") else None
        if path is not None and (path.is_file() or _saved_dataset(path)):
            subsets = [self.spec.hub_params.subset]  # one file holds what it holds: read it once
        number = 0
        for subset in subsets:
            for _, record in self._subset_loader(subset, path, len(subsets) == 1).iter_records():
                number += 1
                if field and subset and record.get(field) in (None, ""):
                    record[field] = subset
                yield number, record

    def _subset_loader(self, subset: str | None, path: Path | None, single: bool) -> HFHubLoader:
        hub_params = self.spec.hub_params.model_copy(update={"subset": subset})
        params = dict(self.spec.params)
        if path is not None and path.is_dir() and not _saved_dataset(path):
            files = self._local_files(path, subset, single)
            if files:
                # Read the files as a plain data_files dataset: no README configs, no split inference.
                params.pop("path")
                params["data_files"] = {hub_params.split: files}
                hub_params = hub_params.model_copy(update={"hub_id": None})
            elif subset is not None and not (path / "README.md").is_file():
                raise self._not_found(path, subset)
        spec = self.spec.model_copy(update={"params": params, "hub_params": hub_params})
        return HFHubLoader(spec, self.base_dir, config_path=self.config_path)

    def _local_files(self, path: Path, subset: str | None, single: bool) -> list[str]:
        split = self.spec.hub_params.split
        layouts = [*(_SUBSET_LAYOUTS if subset else ()),
                   *(_SINGLE_LAYOUTS if single and (subset is None or not (path / subset).is_dir()) else ())]
        for layout in layouts:
            found = sorted(str(p) for p in path.glob(layout.format(subset=subset, split=split))
                           if p.is_file() and _builder_for(p.name) is not None)
            if found:
                return found
        return []

    def _not_found(self, path: Path, subset: str) -> DatasetError:
        split = self.spec.hub_params.split
        tried = ", ".join(layout.format(subset=subset, split=split) for layout in _SUBSET_LAYOUTS)
        return DatasetError(f"no data files for subset '{subset}', split '{split}' in this folder (looked for {tried})",
                            file=str(path), path=self.cfg("params.path"),
                            fix="point params.path at a complete copy of the dataset (e.g. `huggingface-cli download "
                                f"{self.spec.hub_params.hub_id or '<hub id>'} --repo-type dataset --local-dir DIR`), "
                                "or narrow the run to the subsets you have with hub_params.subset / params.subsets")


def _saved_dataset(path: Path) -> bool:
    return path.is_dir() and any((path / f).exists() for f in ("state.json", "dataset_dict.json"))
