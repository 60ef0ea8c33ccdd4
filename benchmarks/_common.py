"""Shared helpers for the benchmark scripts (not part of the package)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_dataset(path: Path, n: int) -> Path:
    if path.exists() and sum(1 for _ in path.open()) == n:
        return path
    with path.open("w") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"s{i}", "prompt": f"Question {i}: what is {i} + 1?", "label": str(i + 1)}))
            fh.write("\n")
    return path


def echo_pipeline(dataset: Path, backend: dict[str, Any], concurrency: int) -> dict[str, Any]:
    return {
        "kind": "PipelineConfig",
        "metadata": {"name": "bench"},
        "datasets": [{"dataset_id": "bench", "loader": "jsonl", "params": {"path": str(dataset)}}],
        "backends": [{"backend_id": "b", **backend}],
        "role_adapters": [{"adapter_id": "dut", "role_type": "dut_model", "backend_id": "b"}],
        "metrics": ["exact_match"],
        "execution": {"concurrency": concurrency},
    }
