"""BFCL inputs and outputs around the checker: the local-copy layout, clear errors for missing data or package,
the prompts and tools as bfcl-eval builds them, and the leaderboard's formula against bfcl-eval's own CSV."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from gage_eval.benchmarks.bfcl import data as bfcl_data
from gage_eval.benchmarks.bfcl.data import FUNC_DOC_FILES, category_file, package_data_dir, read_lines
from gage_eval.benchmarks.bfcl.functions import openai_tools, prompt_messages, system_prompt, with_python_hint
from gage_eval.benchmarks.bfcl.summary import leaderboard
from gage_eval.config.models import DatasetSpec
from gage_eval.config.templates import find_template, load_template
from gage_eval.datasets import iter_samples
from gage_eval.errors import DatasetError

from .bfcl_reference import reference

BENCH = Path(__file__).resolve().parents[1] / "src" / "gage_eval" / "benchmarks"


def _root() -> Path:
    root = package_data_dir()
    if root is None:
        pytest.skip("bfcl-eval is not installed")
    return root


def _spec(name: str, **params: Any) -> DatasetSpec:
    ds = load_template(find_template(name)).definition["datasets"][0]
    return DatasetSpec(**{**ds, "params": {**ds["params"], **params}})


def _copy(root: Path, target: Path, category: str, n: int, answers: bool = True) -> None:
    (target / "possible_answer").mkdir(parents=True, exist_ok=True)
    lines = category_file(root, category).read_text().splitlines()[:n]
    category_file(target, category).write_text("\n".join(lines) + "\n")
    if answers:
        truths = category_file(root / "possible_answer", category).read_text().splitlines()[:n]
        category_file(target / "possible_answer", category).write_text("\n".join(truths) + "\n")


@pytest.mark.parametrize("name", sorted(p.name for p in BENCH.iterdir() if p.name.startswith("bfcl_")))
def test_readme_local_copy_layout_loads(name: str, tmp_path: Path) -> None:
    root = _root()
    category = _spec(name).params["category"]
    readme = (BENCH / name / "README.md").read_text()
    assert "**Local copy**" in readme and f"`DIR/BFCL_v4_{category}.json`" in readme
    relevance = "relevance" in category
    assert (f"`DIR/possible_answer/BFCL_v4_{category}.json`" in readme) is not relevance
    _copy(root, tmp_path / "DIR", category, 3, answers=not relevance)
    if category.startswith("multi_turn"):
        assert "`DIR/multi_turn_func_doc/<class>.json`" in readme
        (tmp_path / "DIR" / "multi_turn_func_doc").mkdir()
        for file in FUNC_DOC_FILES.values():
            (tmp_path / "DIR" / "multi_turn_func_doc" / file).write_text(
                (root / "multi_turn_func_doc" / file).read_text())
    samples = list(iter_samples(_spec(name, path=str(tmp_path / "DIR"))))
    assert [s.id for s in samples] == [e["id"] for e in read_lines(category_file(root, category))[:3]]
    assert all(s.metadata["bfcl"]["category"] == category for s in samples)


def test_missing_files_and_package_are_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _root()
    _copy(root, tmp_path / "DIR", "parallel", 2)
    (tmp_path / "DIR" / "possible_answer" / "BFCL_v4_parallel.json").unlink()
    with pytest.raises(DatasetError) as err:
        list(iter_samples(_spec("bfcl_parallel", path=str(tmp_path / "DIR"))))
    assert "possible_answer/BFCL_v4_parallel.json" in str(err.value) and "copy possible_answer" in err.value.fix
    with pytest.raises(DatasetError) as err:
        list(iter_samples(_spec("bfcl_parallel", category="parallel_typo")))
    assert "unknown BFCL category 'parallel_typo'" in str(err.value) and "live_simple" in err.value.fix
    monkeypatch.setattr(bfcl_data, "package_data_dir", lambda: None)
    with pytest.raises(DatasetError) as err:
        list(iter_samples(_spec("bfcl_simple")))
    assert "bfcl-eval package, which is not installed" in str(err.value)
    assert "pip install --no-deps bfcl-eval==2026.3.23" in err.value.fix and "params.path" in err.value.fix


def test_prompts_and_tools_equal_bfcl_eval_s() -> None:
    ref = reference()
    from bfcl_eval.constants.enums import ModelStyle
    from bfcl_eval.constants.type_mappings import GORILLA_TO_OPENAPI
    from bfcl_eval.utils import load_dataset_entry

    for category in ("simple_python", "live_multiple", "live_irrelevance", "multi_turn_base"):
        for entry in load_dataset_entry(category)[:20]:  # with bfcl-eval's language hint, as it prompts
            first = json.loads(json.dumps(entry["question"][0]))
            theirs = ref.utils.system_prompt_pre_processing_chat_model(first, entry["function"], entry["id"])
            raw = next(e for e in load_dataset_entry(category, include_language_specific_hint=False)
                       if e["id"] == entry["id"])["function"]
            assert prompt_messages(entry["question"][0], system_prompt(with_python_hint(raw))) == theirs
            assert openai_tools(with_python_hint(raw)) == ref.utils.convert_to_tool(
                entry["function"], GORILLA_TO_OPENAPI, ModelStyle.OPENAI_COMPLETIONS)


def test_leaderboard_equals_bfcl_eval_s_csv(tmp_path: Path) -> None:
    reference()
    from bfcl_eval.eval_checker.eval_runner_helper import generate_leaderboard_csv

    scores = {"simple_python": (300, 400), "multiple": (150, 200), "parallel": (170, 200),
              "irrelevance": (200, 240), "live_simple": (200, 258), "live_multiple": (700, 1053),
              "live_irrelevance": (600, 884), "multi_turn_base": (80, 200)}
    model = "gpt-4o-2024-11-20"
    table = {model: {c: {"accuracy": k / n, "total_count": n} for c, (k, n) in scores.items()}}
    generate_leaderboard_csv(table, tmp_path)
    with (tmp_path / "data_overall.csv").open() as fh:
        row = next(csv.DictReader(fh))
    ours = leaderboard(scores)

    def pct(x: float) -> str:
        return f"{x * 100:.2f}%"

    assert pct(ours["overall"]["accuracy"]) == row["Overall Acc"]
    assert pct(ours["groups"]["live_ast"]["accuracy"]) == row["Live Acc"]
    assert pct(ours["groups"]["multi_turn"]["accuracy"]) == row["Multi Turn Acc"]
    assert pct(ours["groups"]["irrelevance"]["accuracy"]) == row["Irrelevance Detection"]
    assert ours["overall"]["complete"] is False and "simple_java" in ours["overall"]["missing"]
