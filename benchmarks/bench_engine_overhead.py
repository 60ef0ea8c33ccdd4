"""Engine overhead: samples/s on the dummy backend with zero latency (target ≥ 5,000 on 2 cores)."""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import echo_pipeline, write_dataset  # noqa: E402

import gage_eval  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=50_000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = write_dataset(Path(tmp) / "data.jsonl", args.samples)
        rates = []
        for i in range(args.repeats):
            cfg = echo_pipeline(data, {"type": "dummy", "config": {"latency_ms": 0}}, args.concurrency)
            result = gage_eval.run(cfg, output_dir=Path(tmp) / "runs", run_id=f"r{i}", progress="off")
            task = result.summary["tasks"][0]
            rates.append(task["samples_per_s"])
            print(f"run {i}: {task['new_samples']} samples in {task['wall_s']:.2f} s -> {task['samples_per_s']:.0f} samples/s")
    best, median = max(rates), sorted(rates)[len(rates) // 2]
    print(f"engine overhead: median {median:.0f} samples/s, best {best:.0f} samples/s "
          f"(target >= 5000: {'PASS' if median >= 5000 else 'FAIL'})")


if __name__ == "__main__":
    main()
