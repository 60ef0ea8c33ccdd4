"""`gage sweep` end to end on CPU: three tiny random-weight checkpoints in a folder, each served for real by
`gage serve` (the `gage` preset) one after another; IFEval, TruthfulQA (judged + MC1/MC2), AlpacaEval 2 and,
once its template exists, two LiveBench categories; the judge is the bundled test server. Checks the layout,
the reference-system files, both leaderboards, the plot (PNG, and the HTML in Chromium), and that a second run
with --skip-existing starts no server."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gage_eval.config.templates import available_templates
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .browser import chromium_page
from .sweep_fixtures import judge_script, write_datasets, write_livebench
from .tiny_model import build_tiny_llama

LIVEBENCH = "livebench" in available_templates()
STEPS = (100, 200, 300)


def _checkpoints(root: Path) -> Path:
    """checkpoint-100/200/300 of one tiny model with differently drawn weights, plus a folder that is not a
    checkpoint (skipped) and a name out of numeric order (checkpoint-300 sorts after checkpoint-200)."""
    import torch
    from transformers import AutoModelForCausalLM

    base = build_tiny_llama(root / "base", max_positions=2048)
    run = root / "run"
    for i, step in enumerate(STEPS):
        out = run / f"checkpoint-{step}"
        shutil.copytree(base, out)
        model = AutoModelForCausalLM.from_pretrained(out)
        torch.manual_seed(step)
        with torch.no_grad():
            for p in model.parameters():
                p.normal_(0.0, 0.5)
        model.save_pretrained(out)
    (run / "logs").mkdir()  # no model files: not a checkpoint
    shutil.rmtree(root / "base")
    return run


def _livebench(root: Path) -> dict[str, Any]:
    math_q = [{"question_id": f"m{i}", "category": "math", "task": "math_comp", "subtask": "amc_2023",
               "ground_truth": "B",
               "turns": [f"Problem {i}: pick the answer and write it five times, e.g. BBBBB."],
               "livebench_release_date": "2024-06-24"} for i in range(2)]
    reasoning_q = [{"question_id": f"r{i}", "category": "reasoning", "task": "web_of_lies_v2",
                    "ground_truth": "yes, no, yes", "turns": [f"Puzzle {i}: answer in **bold** as a list of three "
                                                             "words (yes or no)."],
                    "livebench_release_date": "2024-06-24"} for i in range(2)]
    path = write_livebench(root / "livebench", {"math": math_q, "reasoning": reasoning_q})
    return {"livebench": {"local_path": str(path)}}


def _sweep(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gage_eval", "sweep", *args], capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("sweep")
    run = _checkpoints(root)
    args = write_datasets(root / "data", n=3)
    benchmarks = "ifeval,truthfulqa,alpacaeval"
    if LIVEBENCH:
        args.update(_livebench(root / "data"))
        benchmarks += ",livebench"
    with run_server_in_thread(TestServerConfig(script=judge_script)) as judge:
        command = [str(run), "--serve", "gage", "--port", "0", "--benchmarks", benchmarks,
                   "--dataset-args", json.dumps(args), "--generation-config", "max_new_tokens=12",
                   "--judge-api-base", judge.base_url, "--judge-model", "judge", "--output-dir", str(root / "out"),
                   "--livebench-categories", "math,reasoning", "--progress", "plain"]
        t0 = time.monotonic()
        first = _sweep(command)
        wall = time.monotonic() - t0
        log_sizes = {p.name: p.stat().st_size for p in (root / "out" / "logs").iterdir()}
        shutil.copy(root / "out" / "sweep.json", root / "first_sweep.json")
        second = _sweep([*command, "--skip-existing"])
    print(f"\nCPU end-to-end sweep (3 checkpoints, {benchmarks}): {wall:.1f}s")  # the figure in the report
    return root / "out", first, second, log_sizes, benchmarks.split(",")


def test_layout_reference_files_and_leaderboards(swept: Any) -> None:
    out, first, _, _, benches = swept
    assert first.returncode == 0, first.stderr[-3000:]
    state = json.loads((out.parent / "first_sweep.json").read_text())
    assert state["order"] == ["checkpoint-100", "checkpoint-200", "checkpoint-300"]
    assert state["servers_started"] == 3
    for step in STEPS:
        name = f"checkpoint-{step}"
        assert state["models"][name]["status"] == "ok"
        for bench in benches:
            for phase_dir in ("runs", "generations"):
                summary = json.loads((out / phase_dir / f"{name}__{bench}" / "summary.json").read_text())
                assert summary["run"]["status"] == "completed", (name, bench, summary["run"]["error"])
            evaluated = json.loads((out / "runs" / f"{name}__{bench}" / "summary.json").read_text())
            assert evaluated["run"]["checkpoint_step"] == step and evaluated["run"]["replay"]["records"] > 0
        files = out / name
        assert {p.name for p in (files / "ifeval").iterdir()} == {"candidate_outputs.jsonl", "eval_results_strict.jsonl",
                                                                 "eval_results_loose.jsonl"}
        strict = [json.loads(line) for line in (files / "ifeval" / "eval_results_strict.jsonl").read_text().splitlines()]
        assert len(strict) == 3 and all(len(r["follow_instruction_list"]) == 2 for r in strict)
        assert {"model_outputs.json", "annotations.json", "leaderboard.csv"} <= {p.name for p in
                                                                                (files / "alpacaeval").iterdir()}
        outputs = json.loads((files / "alpacaeval" / "model_outputs.json").read_text())
        assert [o["generator"] for o in outputs] == [name] * 12
        annotations = json.loads((files / "alpacaeval" / "annotations.json").read_text())
        assert all(a["preference"] in (1.0, 1.5, 2.0) for a in annotations)
        assert (files / "truthfulqa" / "answers.jsonl").exists() and (files / "truthfulqa" / "mc.jsonl").exists()
        if LIVEBENCH:
            for category in ("math", "reasoning"):
                assert list((files / "livebench" / category).glob("*/model_answer/*.jsonl"))
                assert list((files / "livebench" / category).glob("*/model_judgment/ground_truth_judgment.jsonl"))
    # generate runs hold answers only; the judge was called in the evaluate runs alone
    gen = json.loads((out / "generations" / "checkpoint-100__truthfulqa" / "summary.json").read_text())
    assert gen["metrics"] == {} and "judge" not in gen["runtime_health"]["backends"]
    rows = list(csv.DictReader((out / "leaderboard.csv").open()))
    assert [r["model"] for r in rows] == ["checkpoint-100", "checkpoint-200", "checkpoint-300"]
    for row in rows:
        for key in ("ifeval/prompt_level_strict_acc", "truthfulqa/truthful_and_informative", "truthfulqa/mc1",
                    "truthfulqa/mc2", "alpacaeval/win_rate"):
            value, low, high = (float(row[k]) for k in (key, f"{key}_ci_low", f"{key}_ci_high"))
            assert 0 <= low <= value <= high <= 100
        summary = json.loads((out / "runs" / f"{row['model']}__ifeval" / "summary.json").read_text())
        strict = summary["metrics"]["prompt_level_strict_acc"]
        assert float(row["ifeval/prompt_level_strict_acc"]) == pytest.approx(100 * strict["value"], abs=1e-3)
    md = (out / "leaderboard.md").read_text()
    assert "| checkpoint-200 | 200 |" in md and "## Best checkpoint per benchmark" in md
    assert md.count("**") >= 2 * len(benches)


def test_plot_png_and_html_in_chromium(swept: Any) -> None:
    out, first, _, _, benches = swept
    assert first.returncode == 0
    png = (out / "scores_vs_step.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    state = json.loads((out / "sweep.json").read_text())
    with chromium_page() as page:
        page.goto((out / "scores_vs_step.html").as_uri())
        panels = page.locator(".panel")
        assert panels.count() == len(benches)
        for i in range(len(benches)):
            panel = panels.nth(i)
            assert panel.locator("circle.point").count() == 3  # one point per checkpoint
            assert panel.locator("circle.best-ring").count() == 1
            assert panel.locator("path.ci").count() >= 1  # CI whiskers drawn
            caption = panel.locator("p.test").inner_text()
            best = state["best"][benches[i]]
            assert best["best"] in caption and ("last checkpoint" in caption or best["last"] in caption)
            box = panel.locator("svg").bounding_box()
            assert box and box["width"] > 300 and box["height"] > 150
        assert page.locator("#leaderboard tr").count() == 4


def test_second_run_with_skip_existing_starts_no_server(swept: Any) -> None:
    out, _, second, log_sizes, _ = swept
    assert second.returncode == 0, second.stderr[-3000:]
    state = json.loads((out / "sweep.json").read_text())
    assert state["servers_started"] == 0
    assert {p.name: p.stat().st_size for p in (out / "logs").iterdir()} == log_sizes  # no server wrote a line
    assert "no server started" in second.stderr


@pytest.mark.skipif(LIVEBENCH, reason="the livebench template exists: the e2e sweep covers it")
def test_livebench_part_waits_for_the_livebench_template() -> None:
    pytest.skip("builtin template 'livebench' is missing (branch livebench not merged): the e2e sweep runs "
                "without its two LiveBench categories")
