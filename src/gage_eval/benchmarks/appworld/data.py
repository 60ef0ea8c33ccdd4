"""AppWorld's data (what `appworld download data` writes under ``<root>/data``): the `appworld` loader and the
API docs as OpenAI tools.

- ``data/datasets/<name>.txt``: task ids of a split (train, dev, test_normal, test_challenge; ``id:tag`` lines);
- ``data/tasks/<task_id>/specs.json``: instruction, supervisor (the user the agent acts for), datetime;
- ``data/api_docs/standard/<app>.json``: ``{api_name: {description, parameters: [{name, type, required,
  description, default}], ...}}`` for each app.

params: ``path`` (the AppWorld root, the folder holding ``data/``; default the current folder, as AppWorld's
APPWORLD_ROOT), ``dataset`` (default dev). The data are AppWorld's, fetched by its own command, which gage cannot run.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gage_eval.datasets.base import DatasetLoader
from gage_eval.errors import DatasetError
from gage_eval.registry import registry

DOWNLOAD_FIX = ("AppWorld's data come from its own command: in AppWorld's environment (pip install appworld && "
                "appworld install) run `appworld download data` in the folder to use as its root, then point "
                "params.path (--dataset-args '{\"appworld\": {\"local_path\": ROOT}}') at that folder")
_TYPES = {"string": "string", "str": "string", "integer": "integer", "int": "integer", "number": "number",
          "float": "number", "boolean": "boolean", "bool": "boolean", "list": "array", "array": "array",
          "dict": "object", "object": "object"}


def data_dir(root: Path, where: str = "params.path") -> Path:
    data = root / "data"
    if not (data / "tasks").is_dir():
        raise DatasetError(f"AppWorld's data are not downloaded: no {data / 'tasks'}", file=str(root),
                           path=where, fix=DOWNLOAD_FIX)
    return data


def api_tools(data: Path, apps: list[str] | None = None) -> list[dict[str, Any]]:
    """The standard API docs as OpenAI function tools named ``<app>__<api>`` (AppWorld's function-calling names)."""
    folder = data / "api_docs" / "standard"
    if not folder.is_dir():
        raise DatasetError(f"no API docs in {folder}", file=str(folder), fix=DOWNLOAD_FIX)
    tools = []
    for file in sorted(folder.glob("*.json")):
        if apps is not None and file.stem not in apps:
            continue
        for api_name, doc in json.loads(file.read_text(encoding="utf-8")).items():
            properties, required = {}, []
            for param in doc.get("parameters") or []:
                schema: dict[str, Any] = {"type": _TYPES.get(str(param.get("type")), "string"),
                                          "description": param.get("description", "")}
                if param.get("default") is not None:
                    schema["default"] = param["default"]
                properties[param["name"]] = schema
                if param.get("required"):
                    required.append(param["name"])
            tools.append({"type": "function", "function": {
                "name": f"{file.stem}__{api_name}", "description": doc.get("description", ""),
                "parameters": {"type": "object", "properties": properties, "required": required}}})
    return tools


@registry.asset("dataset_loaders", "appworld", desc="AppWorld tasks of a split (params.dataset) from the data "
                "`appworld download data` wrote under params.path/data", tags=("local", "appworld", "agents"))
class AppWorldLoader(DatasetLoader):
    def root(self) -> Path:
        raw = self.spec.params.get("path")
        return self.resolve_path(raw) if raw else Path.cwd()

    def describe(self) -> str:
        return str(self.root() / "data")

    def check(self) -> None:
        self._ids()

    def _ids(self) -> tuple[Path, list[str]]:
        data = data_dir(self.root(), self.cfg("params.path"))
        name = str(self.spec.params.get("dataset", "dev"))
        listing = data / "datasets" / f"{name}.txt"
        if not listing.is_file():
            known = sorted(p.stem for p in (data / "datasets").glob("*.txt"))
            raise DatasetError(f"AppWorld has no dataset {name!r} in {data / 'datasets'}", file=str(listing),
                               path=self.cfg("params.dataset"), fix=f"use one of: {', '.join(known) or DOWNLOAD_FIX}")
        ids = [line.split(":")[0].strip() for line in listing.read_text(encoding="utf-8").splitlines() if line.strip()]
        return data, ids

    def iter_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        data, ids = self._ids()
        for number, task_id in enumerate(ids, start=1):
            specs = data / "tasks" / task_id / "specs.json"
            if not specs.is_file():
                raise DatasetError(f"task {task_id} has no specs.json", file=str(specs), fix=DOWNLOAD_FIX)
            record = json.loads(specs.read_text(encoding="utf-8"))
            yield number, {"task_id": task_id, "instruction": record["instruction"], "root": str(self.root()),
                           "supervisor": record.get("supervisor") or record.get("main_user") or {},
                           "datetime": record.get("datetime")}
