"""The chunked self-contained report (gage_eval.report.standalone): real runs and damaged artifacts in Chromium,
plus the incremental samples.jsonl scanner it is built on."""
from __future__ import annotations

import fcntl
import json
from pathlib import Path
from typing import Any

import orjson

import gage_eval
from gage_eval.report.artifacts import load_run
from gage_eval.report.samples import SampleScanner, primary_metric, trim
from gage_eval.report.standalone import CHUNK_SIZE, write_report
from tests.browser import chromium_page
from tests.conftest import pipeline, write_jsonl

XSS = "</script><script>window.pwned = 1</script><img src=x onerror=window.pwned=2>"


def _engine_run(tmp_path: Path, run_id: str = "r1", n: int = 120) -> Path:
    """A real two-task run on the dummy echo backend; every 3rd label differs from the echo (incorrect)."""
    data = write_jsonl(tmp_path / "qa.jsonl", [
        {"id": f"s{i:03d}", "prompt": f"say {i}", "label": f"say {i}" if i % 3 else "other"} for i in range(n)])
    cfg = pipeline(data, metrics=["exact_match", "latency"],
                   tasks=[{"task_id": "alpha", "dataset_id": "qa", "max_samples": n // 2},
                          {"task_id": "beta", "dataset_id": "qa"}])
    gage_eval.run(cfg, output_dir=tmp_path / "runs", run_id=run_id, progress="off")
    return tmp_path / "runs" / run_id


def _record(task: str, i: int, *, ok: bool = True, correct: bool = True, answer: str | None = None) -> dict[str, Any]:
    answer = answer if answer is not None else f"answer {i}"
    return {"task_id": task, "sample_id": f"{task}-{i}", "seq": i, "status": "ok" if ok else "failed",
            "sample": {"id": f"{task}-{i}", "messages": [{"role": "user", "content": f"question {i}"}],
                       "inputs": {}, "label": "x", "references": [], "metadata": {}},
            "model_output": {"answer": answer, "latency_ms": 10.0 + i} if ok else {},
            "judge_output": {"verdict": "A", "judge_adapter": "j"} if ok else {},
            "metrics": {"acc": float(correct), "latency": 10.0 + i} if ok else {},
            "metric_details": {}, "timings_ms": {},
            "error": None if ok else {"step": "inference", "type": "BackendError", "message": "HTTP 503"}}


def _outcome_counts(run_dir: Path, task: str | None = None) -> dict[str, int]:
    counts = {"correct": 0, "incorrect": 0, "error": 0}
    for line in (run_dir / "samples.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if task and rec["task_id"] != task:
            continue
        if rec["status"] != "ok":
            counts["error"] += 1
        else:
            counts["correct" if rec["metrics"]["exact_match"] >= 0.5 else "incorrect"] += 1
    return counts


def test_report_of_a_real_run_matches_summary_and_filters_change_the_list(tmp_path: Path) -> None:
    run_dir = _engine_run(tmp_path)
    report = write_report(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    counts = _outcome_counts(run_dir)
    html = report.read_text()
    assert "<script src=" not in html and "http://" not in html.split("<script>")[0]  # nothing fetched
    with chromium_page() as page:
        page.goto(report.as_uri())
        page.wait_for_selector("body[data-samples-ready='1']")
        for task in summary["tasks"]:
            for name, agg in task["metrics"].items():
                row = page.locator(f"#metric-table tr[data-task='{task['task_id']}'][data-metric='{name}']")
                assert float(row.locator(".value").get_attribute("data-value")) == agg["value"]
                assert row.locator(".value").inner_text() == f"{agg['value']:.4f}"
                assert float(row.locator(".stderr").get_attribute("data-value")) == agg["stderr"]
                assert int(row.locator(".count").get_attribute("data-value")) == agg["count"]
        assert page.inner_text("#sample-count") == "180 of 180 samples"
        assert page.locator("#sample-table tbody tr").count() == 50  # one page, not 180 rows
        ids_before = page.locator("#sample-table tbody td:nth-child(3)").all_inner_texts()

        page.click("#f-outcome button[data-outcome='incorrect']")
        assert page.inner_text("#sample-count") == f"{counts['incorrect']} of 180 samples"
        assert set(page.locator("#sample-table tbody td:nth-child(4)").all_inner_texts()) == {"incorrect"}
        assert page.locator("#sample-table tbody td:nth-child(3)").all_inner_texts() != ids_before
        page.select_option("#f-task", "beta")
        assert page.inner_text("#sample-count") == f"{_outcome_counts(run_dir, 'beta')['incorrect']} of 180 samples"

        page.click("#sample-table tbody tr >> nth=0")
        page.wait_for_selector("#sample-detail .section")
        detail = page.inner_text("#sample-detail")
        for heading in ("MESSAGES", "MODEL OUTPUT", "JUDGE OUTPUT", "METRICS"):
            assert heading in detail.upper()
        assert "say 0" in detail and "exact_match" in detail
        # The inline SVG charts are drawn: one bar per task and score metric, with its CI whisker, 40 bins.
        assert page.locator("#chart-task-scores svg rect.bar").count() == len(summary["tasks"])
        assert page.locator("#chart-task-scores svg path.whisker").count() == len(summary["tasks"])
        assert page.locator("#chart-latency svg rect.bar").count() == 40
        box = page.locator("#chart-task-scores svg").bounding_box()
        assert box and box["width"] > 300 and box["height"] > 100
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_killed_run_with_torn_line_shows_what_there_is_and_says_what_is_missing(tmp_path: Path) -> None:
    run_dir = tmp_path / "killed"
    run_dir.mkdir()
    records = [_record("t", i, correct=i % 2 == 0) for i in range(6)] + [_record("t", 6, ok=False),
                                                                         _record("t", 7, answer=XSS)]
    with (run_dir / "samples.jsonl").open("wb") as fh:
        for rec in records:
            fh.write(orjson.dumps(rec) + b"\n")
        fh.write(b"not json at all\n")
        fh.write(orjson.dumps(_record("t", 8))[:40])  # the write a SIGKILL cut short
    report = write_report(run_dir)
    with chromium_page() as page:
        page.goto(report.as_uri())
        page.wait_for_selector("body[data-samples-ready='1']")
        notices = page.inner_text("#notices")
        assert "summary.json is missing" in notices and "incomplete line" in notices
        assert "1 unreadable line" in notices and "summary.json" in page.inner_text("#missing")
        assert page.inner_text("#run-status") == "incomplete"
        # Metrics are still computed, from the 7 readable ok samples.
        acc = page.locator("#metric-table tr[data-metric='acc'] .value")
        assert float(acc.get_attribute("data-value")) == 4 / 7
        assert page.inner_text("#sample-count") == "8 of 8 samples"
        page.click("#f-outcome button[data-outcome='error']")
        assert page.inner_text("#sample-count") == "1 of 8 samples"
        assert "inference:BackendError" in page.inner_text("#sample-table tbody")  # reason in the answer column
        page.click("#f-outcome button[data-outcome='all']")
        page.click("#sample-table tbody tr >> nth=7")
        page.wait_for_selector("#sample-detail .section")
        assert XSS in page.inner_text("#sample-detail pre.answer")  # shown as text, never run
        assert page.evaluate("window.pwned") is None
        page.screenshot(path=str(tmp_path / "killed.png"), full_page=True)


def test_details_past_the_first_chunk_load_on_demand(tmp_path: Path) -> None:
    run_dir = tmp_path / "big"
    run_dir.mkdir()
    n = CHUNK_SIZE * 2 + 7
    write_jsonl(run_dir / "samples.jsonl", [_record("t", i) for i in range(n)])
    html = write_report(run_dir).read_text()
    assert html.count('id="gage-chunk-') == 3 and html.count("<tr") < 40  # rows are data, not DOM
    with chromium_page() as page:
        page.goto((run_dir / "report.html").as_uri())
        page.wait_for_selector("body[data-samples-ready='1']")
        page.click("#pager button[data-go='last']")
        assert page.inner_text("#page-label") == f"page {n // 50 + 1} of {n // 50 + 1}"
        page.click("#sample-table tbody tr >> nth=-1")
        page.wait_for_selector("#sample-detail .section")
        assert f"question {n - 1}" in page.inner_text("#sample-detail")


def test_scanner_reads_only_complete_lines_and_follows_a_growing_file(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    lines = [orjson.dumps(_record("t", i)) + b"\n" for i in range(5)]
    path.write_bytes(b"".join(lines[:2]) + lines[2][:25])
    scan = SampleScanner(path)
    assert scan.poll() == 2 and scan.tail_bytes == 25 and "incomplete line" in scan.warnings()[0]
    with path.open("ab") as fh:
        fh.write(lines[2][25:] + b"".join(lines[3:]))
    assert scan.poll() == 3 and scan.tail_bytes == 0 and scan.warnings() == []
    assert [r[1] for r in scan.rows] == [f"t-{i}" for i in range(5)]
    assert scan.record(4)["sample_id"] == "t-4" and scan.record(5) is None
    path.write_bytes(lines[0])  # a resumed attempt compacted the file
    assert scan.poll() == 1 and scan.epoch == 1 and len(scan.rows) == 1


def test_primary_metric_trim_and_running_status(tmp_path: Path) -> None:
    assert primary_metric({"latency": 0.5, "exact_match": 1.0, "f1": 0.2}) == "exact_match"
    assert primary_metric({"latency": 120.0, "tokens": 3}) is None
    trimmed = trim({"a": "x" * 10_000, "b": list(range(500))}, limit=100)
    assert len(trimmed["a"]) < 200 and "9900 more characters" in trimmed["a"] and len(trimmed["b"]) == 201
    run_dir = tmp_path / "live"
    run_dir.mkdir()
    write_jsonl(run_dir / "samples.jsonl", [_record("t", 0)])
    with (run_dir / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a running `gage run` holds
        assert load_run(run_dir).status == "running"
    assert load_run(run_dir).status == "incomplete"  # lock released, no summary, no run_end event
