"""The in-process `vllm` backend for real, on vLLM's CPU build, against the `hf` backend on one tiny model.

vLLM's CPU build pins its own torch and an older transformers, so it lives in its own virtual environment
(benchmarks/run_vllm_cpu.sh makes one): set GAGE_VLLM_PYTHON to that environment's python to run this test.
The vLLM half runs there as a subprocess; the hf half runs here; log-likelihoods, is_greedy and greedy
generations must agree.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VLLM_PYTHON = os.environ.get("GAGE_VLLM_PYTHON")

pytestmark = pytest.mark.skipif(not VLLM_PYTHON, reason="GAGE_VLLM_PYTHON is not set (a python with vLLM's CPU "
                                "build; benchmarks/run_vllm_cpu.sh creates one)")


def test_inprocess_vllm_scores_and_generates_like_hf(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from vllm_inprocess_check import compare_hf

    from .tiny_model import build_tiny_llama

    model = build_tiny_llama(tmp_path / "tiny", max_positions=512, hidden_size=256)  # head size 64 for vLLM CPU
    out = tmp_path / "vllm.json"
    env = {**os.environ, "GAGE_SRC": str(ROOT / "src"), "VLLM_CPU_KVCACHE_SPACE": "1"}
    script = ROOT / "benchmarks" / "vllm_inprocess_check.py"
    proc = subprocess.run([str(VLLM_PYTHON), str(script), str(model), str(out)], env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = asyncio.run(compare_hf(str(model), out))
    # float32 on both sides; vLLM's CPU kernels sum in another order than torch's eager path
    assert result["max_abs_diff"] < 1e-3, result
    assert result["greedy_same"] and result["generations_same"], result
