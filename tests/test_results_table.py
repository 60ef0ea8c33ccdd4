"""The lm-eval style results table: printed at the end of `gage eval` / `gage run` and written as results.md."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gage_eval.cli.app import main
from gage_eval.report.results_table import metric_unit, result_rows
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .conftest import write_jsonl

ROOT = Path(__file__).resolve().parents[1]
GSM8K = [{"question": f"Tom has {i} apples and buys 3. How many?", "answer": f"{i} + 3 = {i + 3}\n#### {i + 3}"}
         for i in range(1, 5)]


def _table_rows(text: str) -> list[list[str]]:
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]


def test_gage_eval_prints_the_table_and_writes_results_md(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    def script(body: dict[str, Any]) -> str:
        # Right with "#### N" for 1 and 2 (both filters), the bare number for 3 (flexible only), wrong for 4.
        n = int(re.findall(r"Tom has (\d+) apples", json.dumps(body["messages"]))[-1])
        return {1: "1 + 3 = 4\n#### 4", 2: "#### 5", 3: "so 6", 4: "#### 9"}[n]

    data = write_jsonl(tmp_path / "gsm8k.jsonl", GSM8K)
    with run_server_in_thread(TestServerConfig(script=script, verbatim=True)) as server:
        with pytest.raises(SystemExit) as done:
            main(["eval", "--model", "m", "--api-url", server.base_url, "--datasets", "gsm8k", "--dataset-args",
                  json.dumps({"gsm8k": {"local_path": str(data), "few_shot_path": str(data), "few_shot_num": 2}}),
                  "--work-dir", str(tmp_path / "runs"), "--run-id", "g", "--progress", "off"])
    assert done.value.code in (0, None)
    out = capsys.readouterr().out
    run_dir = tmp_path / "runs" / "g"
    summary = json.loads((run_dir / "summary.json").read_text())
    metrics = summary["tasks"][0]["metrics"]
    assert metrics["exact_match_strict"]["value"] == 0.5 and metrics["exact_match_flexible"]["value"] == 0.75
    printed = {(r[3], r[4]): r for r in _table_rows(out)}
    md = (run_dir / "results.md").read_text()
    assert {(r[3], r[4]): r for r in _table_rows(md)} == printed  # the same table on screen and on disk
    strict, flexible = printed[("strict", "exact_match")], printed[("flexible", "exact_match")]
    for row, key in ((strict, "exact_match_strict"), (flexible, "exact_match_flexible")):
        agg = metrics[key]
        assert row[:3] == ["gsm8k", "V1", "2"]  # task, template version, n-shot as given in --dataset-args
        assert row[5] == f"{agg['value']:.4f}" and row[6] == "±" and row[7] == f"{agg['stderr']:.4f}"
        assert row[8] == f"[{agg['ci95'][0]:.4f}, {agg['ci95'][1]:.4f}]" and row[9] == "4"
    assert out.index("| Task") < out.index("Wilson score interval for 0/1 metrics")
    assert out.count("| gsm8k") == len(metrics)


def test_gage_run_demo_table_has_units_on_latency_and_gage_report_rebuilds_it(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "gage_eval", "run", "config/run_configs/demo_echo_run_1.yaml",
                           "--output-dir", str(tmp_path), "--run-id", "demo", "--progress", "off"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = {r[4]: r for r in _table_rows(proc.stdout)}
    assert set(rows) == {"exact_match", "latency (ms)"}
    assert rows["exact_match"][1] == "V1" and rows["exact_match"][3] == "none"
    md = tmp_path / "demo" / "results.md"
    first = md.read_text()
    md.unlink()
    rebuilt = subprocess.run([sys.executable, "-m", "gage_eval", "report", str(tmp_path / "demo")], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
    assert rebuilt.returncode == 0 and md.read_text() == first, rebuilt.stderr


def test_rows_without_a_template_or_config_and_units() -> None:
    summary = {"tasks": [{"task_id": "t", "dataset_id": "d", "metrics": {
        "acc": {"value": 1.0, "stderr": 0.0, "count": 3, "ci95": [0.43, 1.0], "ci_method": "x"},
        "wall_s": {"value": 2.0, "count": 1}}}]}
    rows = result_rows(summary, None)
    assert [(r.version, r.n_shot, r.filter, r.metric) for r in rows] == [
        ("-", "-", "none", "acc"), ("-", "-", "none", "wall_s (s)")]
    assert (metric_unit("latency"), metric_unit("mean_e2el_ms"), metric_unit("acc")) == ("ms", "ms", None)
