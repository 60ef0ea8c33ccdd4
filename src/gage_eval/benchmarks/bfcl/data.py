"""BFCL v4's data files: where they are, and one record per test entry with its possible answer joined.

The data ship inside the `bfcl-eval` package (``bfcl_eval/data``): ``BFCL_v4_<category>.json`` (one JSON object
per line: id, question, function; multi-turn: initial_config, involved_classes, ...), ``possible_answer/`` (the
ground truth, same order) and ``multi_turn_func_doc/`` (the function docs of the multi-turn API classes). A local
copy is a folder in the same layout (``params.path``). The package is found without importing it: its
``__init__`` is empty, but its checker modules import a dozen model SDKs.
"""
from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gage_eval.datasets.base import DatasetLoader
from gage_eval.errors import DatasetError
from gage_eval.registry import registry

VERSION_PREFIX = "BFCL_v4"
BFCL_EVAL_VERSION = "2026.3.23"
INSTALL_HINT = f"pip install --no-deps bfcl-eval=={BFCL_EVAL_VERSION} (see src/gage_eval/benchmarks/bfcl/README.md)"

AST_CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "live_simple", "live_multiple",
                  "live_parallel", "live_parallel_multiple")
RELEVANCE_CATEGORIES = ("irrelevance", "live_irrelevance", "live_relevance")
MULTI_TURN_CATEGORIES = ("multi_turn_base",)
CATEGORIES = AST_CATEGORIES + RELEVANCE_CATEGORIES + MULTI_TURN_CATEGORIES

# bfcl_eval.constants.executable_backend_config.MULTI_TURN_FUNC_DOC_FILE_MAPPING (the multi-turn classes)
FUNC_DOC_FILES = {
    "GorillaFileSystem": "gorilla_file_system.json", "MathAPI": "math_api.json", "MessageAPI": "message_api.json",
    "TwitterAPI": "posting_api.json", "TicketAPI": "ticket_api.json", "TradingBot": "trading_bot.json",
    "TravelAPI": "travel_booking.json", "VehicleControlAPI": "vehicle_control.json",
}


def package_data_dir() -> Path | None:
    """bfcl_eval/data of the installed package, or None when it is not installed."""
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def category_file(root: Path, category: str) -> Path:
    return root / f"{VERSION_PREFIX}_{category}.json"


def read_lines(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DatasetError(f"line {number} is not valid JSON: {exc.msg}", file=str(path),
                                   fix="restore the file from the bfcl-eval package (it is one JSON object a line)"
                                   ) from None
    return rows


def add_function_docs(entry: dict[str, Any], root: Path) -> None:
    """Multi-turn entries name their API classes; their function docs come from multi_turn_func_doc/ (as
    bfcl_eval.utils.populate_test_cases_with_predefined_functions does)."""
    functions: list[dict[str, Any]] = []
    for name in entry.get("involved_classes") or []:
        if name not in FUNC_DOC_FILES:
            raise DatasetError(f"entry {entry.get('id')} uses API class {name!r}, which gage does not run",
                               file=str(root), fix=f"known classes: {', '.join(FUNC_DOC_FILES)}")
        functions.extend(read_lines(root / "multi_turn_func_doc" / FUNC_DOC_FILES[name]))
    entry["function"] = functions


@registry.asset("dataset_loaders", "bfcl", desc="BFCL v4 test entries of one category (params.category) with their "
                "possible answers, from the bfcl-eval package's data or a local copy (params.path)",
                tags=("local", "bfcl", "agents"))
class BfclLoader(DatasetLoader):
    def category(self) -> str:
        category = self.spec.params.get("category")
        if category not in CATEGORIES:
            raise DatasetError(f"unknown BFCL category {category!r}", path=self.cfg("params.category"),
                               fix=f"use one of: {', '.join(CATEGORIES)}")
        return str(category)

    def root(self) -> Path:
        if self.spec.params.get("path"):
            root = self.resolve_path(self.spec.params["path"])
            if not root.is_dir():
                raise DatasetError("params.path must be a folder laid out like bfcl_eval/data", file=str(root),
                                   path=self.cfg("params.path"),
                                   fix=f"point it at the folder holding {VERSION_PREFIX}_<category>.json and "
                                       "possible_answer/")
            return root
        root = package_data_dir()
        if root is None:
            raise DatasetError("the BFCL data come from the bfcl-eval package, which is not installed",
                               path=self.cfg("params.path"),
                               fix=f"{INSTALL_HINT}, or set params.path to a local copy of its data folder")
        return root

    def describe(self) -> str:
        try:
            return str(category_file(self.root(), self.category()))
        except DatasetError:
            return str(self.spec.params.get("path") or "bfcl_eval/data")

    def check(self) -> None:
        self._files()

    def _files(self) -> tuple[Path, Path | None, Path]:
        root, category = self.root(), self.category()
        prompts = category_file(root, category)
        if not prompts.is_file():
            raise DatasetError(f"no {prompts.name} in {root}", file=str(prompts), path=self.cfg("params.path"),
                               fix="copy the file from bfcl_eval/data (a local copy keeps the package's layout)")
        answers: Path | None = category_file(root / "possible_answer", category)
        if category in RELEVANCE_CATEGORIES:
            answers = None  # scored by whether a call was made: there is no possible answer
        elif not answers.is_file():
            raise DatasetError(f"no possible_answer/{answers.name} in {root}", file=str(answers),
                               path=self.cfg("params.path"), fix="copy possible_answer/ from bfcl_eval/data too")
        return prompts, answers, root

    def iter_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        prompts, answers, root = self._files()
        category = self.category()
        entries = read_lines(prompts)
        truths = read_lines(answers) if answers is not None else [None] * len(entries)
        if len(truths) != len(entries):
            raise DatasetError(f"{len(entries)} test entries but {len(truths)} possible answers", file=str(answers),
                               fix="the two files must come from the same bfcl-eval release")
        for number, (entry, truth) in enumerate(zip(entries, truths), start=1):
            # Aligned by position, as bfcl_eval's runner does (some ground-truth ids are spelled differently).
            record = {**entry, "category": category}
            if truth is not None:
                record["ground_truth"] = truth["ground_truth"]
            if category in MULTI_TURN_CATEGORIES:
                add_function_docs(record, root)
            yield number, record
