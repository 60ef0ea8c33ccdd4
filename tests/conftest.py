from __future__ import annotations

import json
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
