"""Every benchmark README's "Local copy" layout is true: the files it names, written in that layout, load
through the benchmark's own template (its loader, splits and few-shot split) from `local_path`.

Each layout below is the one the README documents (the test checks the README names every file); the
records are the small real-schema fixtures of test_bench_e2e. `<subject>` stands for any subject the template
lists (here its first).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import datasets
import pytest

from gage_eval.config.templates import find_template, load_template
from gage_eval.datasets import iter_samples

from .conftest import write_jsonl
from .mm_fixtures import LAYOUT_FILES, MULTIMODAL, write_snapshot
from .test_bench_e2e import FIXTURES, _benchmarks
from .test_bench_fewshot_parity import template_spec

BENCH_DIR = Path(__file__).resolve().parents[1] / "src" / "gage_eval" / "benchmarks"
_ALPACA = [{"instruction": "Say hi.", "output": "Hi!", "generator": "gpt4_turbo", "dataset": "x"}]
_MATH_SUBJECTS = ("algebra", "counting_and_probability", "geometry", "intermediate_algebra", "number_theory",
                  "prealgebra", "precalculus")
_GPQA_README = "---\nconfigs:\n- config_name: gpqa_diamond\n  data_files: gpqa_diamond.csv\n---\n"

# name: (files under DIR as the README writes them, local_path under DIR ("" = DIR itself), few-shot examples)
LAYOUTS: dict[str, tuple[list[str], str, int]] = {
    "arc_easy": (["DIR/ARC-Easy/test-00000-of-00001.parquet", "DIR/ARC-Easy/train-00000-of-00001.parquet"], "", 1),
    "arc_challenge": (["DIR/ARC-Challenge/test-00000-of-00001.parquet",
                       "DIR/ARC-Challenge/train-00000-of-00001.parquet"], "", 1),
    "hellaswag": (["DIR/data/validation-00000-of-00001.parquet", "DIR/data/train-00000-of-00001.parquet"], "", 1),
    "piqa": (["DIR/data/validation-00000-of-00001.parquet", "DIR/data/train-00000-of-00001.parquet"], "", 1),
    "truthfulqa_mc1": (["DIR/multiple_choice/validation-00000-of-00001.parquet"], "", 0),
    "truthfulqa_mc2": (["DIR/multiple_choice/validation-00000-of-00001.parquet"], "", 0),
    "truthfulqa_gen": (["DIR/generation/validation-00000-of-00001.parquet"], "", 0),
    "gsm8k": (["DIR/main/test-00000-of-00001.parquet", "DIR/main/train-00000-of-00001.parquet"], "", 1),
    "mmlu": (["DIR/all/test-00000-of-00001.parquet", "DIR/all/dev-00000-of-00001.parquet"], "", 1),
    "cmmlu": (["DIR/<subject>/test-00000-of-00001.parquet", "DIR/<subject>/dev-00000-of-00001.parquet"], "", 1),
    "ceval": (["DIR/<subject>/val-00000-of-00001.parquet", "DIR/<subject>/dev-00000-of-00001.parquet"], "", 1),
    "gpqa_diamond": (["DIR/gpqa_diamond.csv", "DIR/README.md"], "", 0),
    "math500": (["DIR/test.jsonl"], "", 0),
    "math": (["DIR/<subject>/test-00000-of-00001.parquet", "DIR/<subject>/train-00000-of-00001.parquet"], "", 1),
    "humaneval": (["DIR/openai_humaneval/test-00000-of-00001.parquet"], "", 0),
    "mbpp": (["DIR/full/test-00000-of-00001.parquet"], "", 0),
    "ifeval": (["DIR/ifeval_input_data.jsonl"], "", 0),
    "alpaca_eval2": (["DIR/alpaca_eval_gpt4_baseline.json"], "", 0),
    "livebench": (["DIR/<subject>/data/test-00000-of-00001.parquet"], "", 0),
    **{name: ([LAYOUT_FILES[name]], "", 0) for name in MULTIMODAL},  # images in parquet (tests/mm_fixtures.py)
}


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        datasets.Dataset.from_list(rows).to_parquet(str(path))
    elif path.suffix == ".csv":
        datasets.Dataset.from_list(rows).to_csv(str(path), index=False)
    elif path.suffix == ".jsonl":
        write_jsonl(path, rows)
    elif path.suffix == ".json":
        path.write_text(json.dumps(rows), encoding="utf-8")
    elif path.name == "README.md":  # the hub card of GPQA: it declares the gpqa_diamond config
        path.write_text(_GPQA_README, encoding="utf-8")


def _rows(name: str, pool: bool) -> list[dict[str, Any]]:
    rows = _ALPACA if name == "alpaca_eval2" else FIXTURES[name]
    rows = [{k: v for k, v in r.items() if k != "subject" or name == "mmlu"} for r in rows * 2]
    if pool:  # few-shot examples other than the evaluated questions
        field = next(k for k in ("ctx_a", "goal", "problem", "Question", "question") if k in rows[0])
        rows = [{**r, field: f"{r[field]} (example {i})"} for i, r in enumerate(rows)]
    return rows


def test_every_benchmark_has_a_layout() -> None:
    assert set(_benchmarks()) == set(LAYOUTS)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_readme_local_copy_layout_loads_through_the_template(name: str, tmp_path: Path) -> None:
    files, local, shots = LAYOUTS[name]
    readme = (BENCH_DIR / name / "README.md").read_text(encoding="utf-8")
    assert "**Local copy**" in readme
    for f in files:
        assert f"`{f}`" in readme, f"{name}/README.md does not name {f}"
    dataset = load_template(find_template(name)).definition["datasets"][0]
    subsets = dataset["params"].get("subsets")
    root = tmp_path / name
    if name in MULTIMODAL:
        from gage_eval.config.models import DatasetSpec

        write_snapshot(root, name, 2, subject=(subsets or ["x"])[0])
        params = {**dataset["params"], "path": str(root), **({"subsets": subsets[:1]} if subsets else {})}
        samples = list(iter_samples(DatasetSpec(**{**dataset, "params": params})))
        assert len(samples) == 2 and all(s.inputs["multi_modal_data"]["image"] for s in samples), name
        return
    # `<subject>`: the first subject of the template's list; MATH's 7 subject folders form one split: all of them
    for subject in _MATH_SUBJECTS if name == "math" else (subsets or ["x"])[:1]:
        for f in files:
            pool = "/train-" in f or "/dev-" in f
            _write(root / f.removeprefix("DIR/").replace("<subject>", subject), _rows(name, pool))
    extra: dict[str, Any] = {"subsets": subsets[:1]} if subsets else {}
    kwargs = dataset["params"].get("preprocess_kwargs")
    spec = template_spec(name, root / local, shots, **extra) if kwargs is not None else None
    if spec is None:  # templates without few-shot settings: only the path changes
        from gage_eval.config.models import DatasetSpec

        spec = DatasetSpec(**{**dataset, "params": {**dataset["params"], "path": str(root / local)}})
    samples = list(iter_samples(spec))
    per_file = 14 if name == "math" else 2  # MATH: the 7 subject folders form one split
    assert len(samples) == per_file, name
    if shots:
        assert all(s.metadata["num_fewshot"] == shots for s in samples), name
