"""How fast report.html of a 100,000-sample run opens in Debian Chromium (target: < 3 s).

Writes a run directory in the engine's artifact format (two tasks, realistic prompt/answer sizes,
2% failed samples), builds report.html with `gage_eval.report.standalone.write_report`, then opens it from
disk in headless Chromium and prints: time to the load event, time until the first page of the
sample list is on screen, time for a filter click to redraw the list, and the file sizes.

    python benchmarks/bench_report_100k.py [--samples 100000] [--keep DIR] [--writer MODULE:FUNCTION ...]

--writer measures another writer (MODULE:FUNCTION) for comparison; the default is the one every run uses.
"""
from __future__ import annotations

import argparse
import importlib
import random
import shutil
import tempfile
import time
from pathlib import Path

import orjson

from gage_eval.report.summary import aggregate_samples, write_json_atomic

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WORDS = ["the", "model", "reads", "a", "question", "about", "numbers", "trains", "apples", "distance", "speed", "total", "price", "each", "week", "answer", "explain", "step", "first", "then", "because", "so", "therefore", "result", "value"]


def _text(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


def write_run(run_dir: Path, n: int) -> None:
    rng = random.Random(0)
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "samples.jsonl").open("wb") as fh:
        for i in range(n):
            task = "gsm8k" if i % 2 else "mmlu"
            sid = f"{task}-{i // 2:06d}"
            prompt = f"Question {i}: " + _text(rng, 70)  # ~450 characters
            failed = rng.random() < 0.02
            answer = "" if failed else _text(rng, 25)
            correct = float(rng.random() < 0.7)
            lat = rng.lognormvariate(5.5, 0.5)
            rec = {"task_id": task, "sample_id": sid, "seq": i // 2, "status": "failed" if failed else "ok",
                   "sample": {"id": sid, "messages": [{"role": "system", "content": "Answer briefly."},
                                                      {"role": "user", "content": prompt}],
                              "choices": [], "inputs": {"prompt": prompt}, "label": str(i), "references": [],
                              "metadata": {}, "support_outputs": []},
                   "model_output": {} if failed else {"index": 0, "answer": answer, "latency_ms": lat,
                                                      "usage": {"prompt_tokens": 90, "completion_tokens": 25},
                                                      "finish_reason": "stop", "cached": False},
                   "predict_result": [] if failed else [{"index": 0, "answer": answer, "latency_ms": lat}],
                   "judge_output": {},
                   "metrics": {} if failed else {"exact_match": correct, "latency": lat},
                   "metric_details": {} if failed else {"exact_match": {"prediction": answer[:40]}},
                   "error": {"step": "inference", "type": "BackendError", "message": "HTTP 503 after 5 attempts"}
                   if failed else None,
                   "timings_ms": {"inference": lat, "auto_eval": 0.02}}
            fh.write(orjson.dumps(rec) + b"\n")
    body = aggregate_samples(run_dir / "samples.jsonl", {}, {})
    write_json_atomic(run_dir / "summary.json", {
        "run": {"run_id": run_dir.name, "status": "completed", "error": None, "config_name": "bench_100k",
                "template": None, "results_digest": "sha256:" + "0" * 64, "started_at": "2026-01-01T00:00:00+00:00",
                "finished_at": "2026-01-01T01:00:00+00:00", "versions": {"python": "3.11"}},
        "tasks": [{"task_id": t, **v} for t, v in body["tasks"].items()], "metrics": body["metrics"],
        "sample_count": body["sample_count"], "failures": body["failures"], "timings": {"wall_s": 3600.0},
        "runtime_health": {}, "summary_generators": {}})


def open_in_chromium(report: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        t0 = time.perf_counter()
        page.goto(report.as_uri(), wait_until="load", timeout=120_000)
        loaded = time.perf_counter() - t0
        page.wait_for_selector("#sample-table tbody tr", timeout=120_000)
        listed = time.perf_counter() - t0
        nav = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        first_id = page.inner_text("#sample-table tbody tr")
        t1 = time.perf_counter()
        page.select_option("#f-task", index=2)  # second task: every row on the first page changes
        page.wait_for_function("(t) => document.querySelector('#sample-table tbody tr').innerText !== t", arg=first_id)
        filtered = time.perf_counter() - t1
        browser.close()
    return {"load_event_s": loaded, "browser_load_event_s": nav / 1000.0, "first_rows_s": listed,
            "filter_redraw_s": filtered}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="write the run here and keep it")
    parser.add_argument("--writer", action="append", help="report writer as module:function (repeatable)")
    args = parser.parse_args()
    writers = args.writer or ["gage_eval.report.standalone:write_report"]
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench_report_"))
    run_dir = root / "run_100k"
    try:
        t = time.perf_counter()
        write_run(run_dir, args.samples)
        print(f"artifacts: {args.samples:,} samples, samples.jsonl {(run_dir / 'samples.jsonl').stat().st_size / 2**20:.1f} MiB"
              f" ({time.perf_counter() - t:.1f} s to write)")
        for spec in writers:
            module, func = spec.split(":")
            try:
                write_report = getattr(importlib.import_module(module), func)
            except (ImportError, AttributeError) as exc:
                print(f"\n{spec}: not available ({exc})")
                continue
            print(f"\n== {spec}")
            t = time.perf_counter()
            report = write_report(run_dir)
            print(f"write_report: {time.perf_counter() - t:.2f} s, report.html {report.stat().st_size / 2**20:.1f} MiB")
            runs = [open_in_chromium(report) for _ in range(3)]
            best = {k: min(r[k] for r in runs) for k in runs[0]}
            worst = {k: max(r[k] for r in runs) for k in runs[0]}
            for key, fastest in best.items():
                print(f"{key}: best {fastest:.2f} s, worst {worst[key]:.2f} s (3 cold opens)")
            verdict = "PASS" if worst["first_rows_s"] < 3.0 else "FAIL"
            print(f"{verdict}: sample list on screen in {worst['first_rows_s']:.2f} s (target < 3 s)")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
