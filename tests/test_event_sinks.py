"""Events reach an HTTP collector; when it is down they fail over to a local file, never lost."""
from __future__ import annotations

import socket
from pathlib import Path

from aiohttp import web

import gage_eval
from tests.conftest import pipeline, read_jsonl, serve_routes


async def test_http_sink_posts_every_event(qa_file: Path, tmp_path: Path) -> None:
    received: list[dict] = []

    async def collect(request: web.Request) -> web.Response:
        received.extend(await request.json())
        return web.json_response({"ok": True})

    async with serve_routes({"/events": collect}) as base:
        await gage_eval.arun(pipeline(qa_file), output_dir=tmp_path / "runs", run_id="h", progress="off",
                             http_report_url=f"{base}/events", sample_events=True)
    on_disk = read_jsonl(tmp_path / "runs" / "h" / "events.jsonl")
    assert [e["event_id"] for e in received] == [e["event_id"] for e in on_disk]
    assert sum(e["event"] == "sample_done" for e in received) == 40
    assert not (tmp_path / "runs" / "h" / "events_http_failover.jsonl").exists()


async def test_http_sink_fails_over_to_file_when_endpoint_down(qa_file: Path, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = await gage_eval.arun(pipeline(qa_file), output_dir=tmp_path / "runs", run_id="d", progress="off",
                                  http_report_url=f"http://127.0.0.1:{port}/events")
    assert result.status == "completed"
    failover = read_jsonl(tmp_path / "runs" / "d" / "events_http_failover.jsonl")
    on_disk = read_jsonl(tmp_path / "runs" / "d" / "events.jsonl")
    assert [e["event_id"] for e in failover] == [e["event_id"] for e in on_disk]
