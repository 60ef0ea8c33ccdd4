"""Live run pages (gage_eval.view.live) on a real uvicorn server, driven in Chromium; damaged runs never 500."""
from __future__ import annotations

import fcntl
import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import orjson
import pytest

pytest.importorskip("fastapi")
from fastapi import FastAPI

from gage_eval.view.live import live_router
from tests.browser import chromium_page
from tests.uvicorn_thread import UvicornThread
from tests.test_report_standalone import _record


class _Server(UvicornThread):
    def __init__(self, runs_dir: Path) -> None:
        app = FastAPI()
        app.include_router(live_router(runs_dir))
        super().__init__(app)


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_a_running_run_streams_new_samples_without_reload(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "growing"
    run_dir.mkdir(parents=True)
    lines = [orjson.dumps(_record("t", i, correct=i % 3 > 0)) + b"\n" for i in range(12)]
    (run_dir / "samples.jsonl").write_bytes(b"".join(lines[:3]) + lines[3][:30])  # a line being written
    lock = (run_dir / ".lock").open("w")
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as `gage run` holds it while running
    try:
        with _Server(tmp_path / "runs") as base, chromium_page() as page:
            page.goto(f"{base}/live/growing")
            page.wait_for_function("document.getElementById('sample-count').textContent === '3 of 3 samples'")
            assert page.inner_text("#run-status") == "running"
            assert "live: 3 samples" in page.inner_text("#live-status")
            assert "run in progress" in page.inner_text("#notices")
            with (run_dir / "samples.jsonl").open("ab") as fh:
                fh.write(lines[3][30:] + b"".join(lines[4:]))
            page.wait_for_function("document.getElementById('sample-count').textContent === '12 of 12 samples'",
                                   timeout=10_000)
            page.click("#f-outcome button[data-outcome='incorrect']")
            assert page.inner_text("#sample-count") == "4 of 12 samples"
            page.click("#sample-table tbody tr >> nth=-1")
            page.wait_for_selector("#sample-detail .section")
            assert "question 9" in page.inner_text("#sample-detail")  # the full record, from the server
            page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
            lock.close()  # the run ends
            page.wait_for_function("document.getElementById('live-status').textContent.includes('run finished')",
                                   timeout=10_000)
            assert page.inner_text("#run-status") == "incomplete"  # no summary.json was written
    finally:
        lock.close()


def test_damaged_runs_show_a_page_never_a_500(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    cases = {"bad-summary": {"summary.json": b"{not json", "samples.jsonl": orjson.dumps(_record("t", 0)) + b"\n"},
                 "list-summary": {"summary.json": b"[]", "config.json": b"{\"backends\": 3}"},
                 "garbage": {"samples.jsonl": b"\x00\xff\xfe garbage\n{\"task_id\": 1, \"metrics\": [1]}\n[1, 2]\n"
                                              + orjson.dumps(_record("t", 1)) + b"\n"},
                 "events-only": {"events.jsonl": b"{\"event\": \"run_start\"}\n{\"event\": \"run_end\", \"payload\": 5}\n"}}
    for name, files in cases.items():
        (runs / name).mkdir(parents=True)
        for file, data in files.items():
            (runs / name / file).write_bytes(data)
    with _Server(runs) as base:
        for name in cases:
            status, html = _get(f"{base}/live/{name}")
            assert status == 200, (name, html[:500])
            status, body = _get(f"{base}/api/live/{name}/rows")
            assert status == 200, (name, body[:500])
        assert "summary.json is unreadable" in _get(f"{base}/live/bad-summary")[1]
        assert "missing artifacts: summary.json" in _get(f"{base}/live/events-only")[1]
        rows = json.loads(_get(f"{base}/api/live/garbage/rows")[1])
        assert rows["total"] == 1 and "3 unreadable line(s)" in rows["warnings"][0]
        assert _get(f"{base}/api/live/bad-summary/samples/0")[0] == 200
        assert _get(f"{base}/api/live/bad-summary/samples/99")[0] == 404
        for url in ("/live/nope", "/live/..", "/api/live/nope/rows", "/live/static/secret.txt"):
            assert _get(base + url)[0] == 404, url
