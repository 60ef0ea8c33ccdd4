from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def qa_file(tmp_path: Path) -> Path:
    records = [{"id": f"q{i}", "prompt": f"say {i}", "label": f"say {i}" if i % 4 else "other"} for i in range(40)]
    return write_jsonl(tmp_path / "qa.jsonl", records)


def pipeline(dataset_path: Path, **overrides: Any) -> dict[str, Any]:
    """A small echo pipeline as a dict; keyword arguments replace top-level sections."""
    cfg: dict[str, Any] = {
        "kind": "PipelineConfig",
        "metadata": {"name": "t"},
        "datasets": [{"dataset_id": "qa", "loader": "jsonl", "params": {"path": str(dataset_path)}}],
        "backends": [{"backend_id": "echo", "type": "dummy", "config": {"mode": "echo"}}],
        "role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "echo"}],
        "metrics": ["exact_match"],
    }
    cfg.update(overrides)
    return cfg


@contextlib.asynccontextmanager
async def serve_routes(routes: dict[str, Any]) -> AsyncIterator[str]:
    """A throwaway aiohttp server on 127.0.0.1 with POST `routes` {path: handler}; yields its base URL."""
    from aiohttp import web

    app = web.Application()
    for path, handler in routes.items():
        app.router.add_post(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
