"""Memory: stream a 1,000,000-sample JSONL through the dummy backend; report peak RSS (target < 400 MB)."""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import echo_pipeline, write_dataset  # noqa: E402

CHILD = """
import sys, json, resource, gage_eval
cfg = json.loads(sys.argv[1])
r = gage_eval.run(cfg, output_dir=sys.argv[2], run_id="mem", progress="off")
t = r.summary["tasks"][0]
print(json.dumps({"samples": r.summary["sample_count"], "wall_s": t["wall_s"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--concurrency", type=int, default=64)
    args = ap.parse_args()
    import json
    with tempfile.TemporaryDirectory() as tmp:
        data = write_dataset(Path(tmp) / "data.jsonl", args.samples)
        print(f"dataset: {data.stat().st_size / 1e6:.0f} MB, {args.samples} samples")
        cfg = echo_pipeline(data, {"type": "dummy", "config": {"latency_ms": 0}}, args.concurrency)
        # A child process so the peak RSS is the run's alone, not this script's.
        out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cfg), str(Path(tmp) / "runs")],
                             check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        stats = json.loads(out)
    print(f"streamed {stats['samples']} samples in {stats['wall_s']:.0f} s; "
          f"peak RSS {stats['peak_rss_mb']:.0f} MB (target < 400 MB: {'PASS' if stats['peak_rss_mb'] < 400 else 'FAIL'})")


if __name__ == "__main__":
    main()
