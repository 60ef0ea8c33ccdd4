"""Multimodal memory and throughput: 5,000 samples, each with its own 1-megapixel JPEG, through the engine
(modal_processor → openai_http → exact_match) at concurrency 32 against the test server in its own process;
then the same 5,000 samples without their images. Prints the peak RSS of the image run (target < 600 MB) and
its throughput as a ratio of the text-only run's (target ≥ 0.8), with the images sent as base64 data URLs
(the default, any server) and as file:// URLs (`media: file_url`, a server on the same machine).

Each image is a distinct 1000x1000 photo-like JPEG (~0.2 MB; smooth gradients plus noise, so it compresses
as a photo does, not as a flat colour); the server receives every one as a base64 data URL (~0.27 MB per
request). Runs are child processes, so each peak RSS is that run's alone.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import sys, json, gage_eval
cfg = json.loads(sys.argv[1])
r = gage_eval.run(cfg, output_dir=sys.argv[2], run_id=sys.argv[3], progress="off")
t = r.summary["tasks"][0]
# VmHWM (this process's own peak RSS): getrusage's ru_maxrss survives exec on Linux and would carry the parent's.
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"status": r.status, "samples": r.summary["sample_count"], "failed": r.summary["failures"]["total"],
                  "wall_s": t["wall_s"], "samples_per_s": t["samples_per_s"], "peak_rss_mb": peak_kb / 1024}))
"""

def write_images(folder: Path, n: int, side: int) -> list[Path]:
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"img_{i:05d}_{side}.jpg" for i in range(n)]
    if all(p.exists() for p in paths):
        return paths
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32) / side
    bases = [np.stack([127 + 100 * np.sin(6 * x + 4 * y + p) for p in rng.uniform(0, 6.28, size=3)], axis=-1)
             for _ in range(16)]
    noise = rng.normal(0, 12, size=(side, side, 3)).astype(np.float32)
    for i, path in enumerate(paths):  # distinct: a base, and the noise shifted by the image's own offset
        shifted = np.roll(noise, (i * 37) % side, axis=(i % 2))
        pixels = np.clip(bases[i % 16] + shifted, 0, 255).astype(np.uint8)
        pixels[(i * 7) % (side - 8):(i * 7) % (side - 8) + 8, :8] = i % 256  # and a stamp of its number
        Image.fromarray(pixels).save(path, format="JPEG", quality=85)
    return paths


def write_dataset(path: Path, images: list[Path] | None, n: int) -> Path:
    with path.open("w") as fh:
        for i in range(n):
            content: object = f"Question {i}: what is in the picture?"
            if images is not None:
                content = [{"type": "image_url", "image_url": {"url": str(images[i % len(images)])}},
                           {"type": "text", "text": content}]
            fh.write(json.dumps({"id": f"s{i}", "messages": [{"role": "user", "content": content}], "label": "x"}))
            fh.write("\n")
    return path


def pipeline(data: Path, base_url: str, concurrency: int, media: str = "data_url") -> dict:
    return {"kind": "PipelineConfig", "metadata": {"name": "mm_bench"},
            "datasets": [{"dataset_id": "d", "loader": "jsonl", "params": {"path": str(data)}}],
            "backends": [{"backend_id": "m", "type": "openai_http", "config": {"base_url": base_url, "model": "vlm",
                                                                              "max_connections": concurrency,
                                                                              "media": media}}],
            "role_adapters": [{"adapter_id": "media", "role_type": "modal_processor"},
                              {"adapter_id": "dut", "role_type": "dut_model", "backend_id": "m"}],
            "custom": {"steps": [{"step": "support", "adapter_id": "media"}, {"step": "inference", "adapter_id": "dut"},
                                 {"step": "auto_eval"}]},
            "metrics": ["exact_match"], "execution": {"concurrency": concurrency, "preflight": False}}


def run(cfg: dict, out: Path, run_id: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cfg), str(out), run_id], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=5000)
    ap.add_argument("--distinct", type=int, default=5000, help="distinct images (cycled over the samples)")
    ap.add_argument("--side", type=int, default=1000, help="image side in pixels (1000: 1 megapixel)")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--latency-ms", type=float, default=100.0, help="the test server's reply latency")
    ap.add_argument("--images-dir", type=Path, default=Path(tempfile.gettempdir()) / "gage_bench_mm_images")
    args = ap.parse_args()
    from gage_eval.testing.server import start_server_process

    t0 = time.perf_counter()
    images = write_images(args.images_dir, args.distinct, args.side)
    size = sum(p.stat().st_size for p in images) / len(images) / 1e6
    print(f"{len(images)} distinct {args.side}x{args.side} JPEGs, {size:.2f} MB each on average "
          f"({time.perf_counter() - t0:.0f} s to prepare)")
    with tempfile.TemporaryDirectory() as tmp, start_server_process(latency_ms=args.latency_ms) as (_, base_url):
        root = Path(tmp)
        text_data = write_dataset(root / "text.jsonl", None, args.samples)
        image_data = write_dataset(root / "mm.jsonl", images, args.samples)
        runs = {"text-only": run(pipeline(text_data, base_url, args.concurrency), root / "runs", "text"),
                "images (data URLs)": run(pipeline(image_data, base_url, args.concurrency), root / "runs", "images"),
                "images (file URLs)": run(pipeline(image_data, base_url, args.concurrency, "file_url"), root / "runs",
                                          "file_urls")}
        lines = (root / "runs" / "images" / "samples.jsonl").read_text().splitlines()
    for name, stats in runs.items():
        print(f"{name:18s}: {stats['samples']} samples ({stats['failed']} failed) in {stats['wall_s']:.1f} s = "
              f"{stats['samples_per_s']:.1f} samples/s; peak RSS {stats['peak_rss_mb']:.0f} MB")
    print(f"samples.jsonl of the image run: {sum(map(len, lines)) / len(lines) / 1e3:.1f} kB per sample "
          "(references and hashes, no base64)")
    peak = max(runs["images (data URLs)"]["peak_rss_mb"], runs["images (file URLs)"]["peak_rss_mb"])
    print(f"peak RSS with images: {peak:.0f} MB (target < 600 MB: {'PASS' if peak < 600 else 'FAIL'})")
    for name in ("images (data URLs)", "images (file URLs)"):
        ratio = runs[name]["samples_per_s"] / runs["text-only"]["samples_per_s"]
        print(f"throughput {name} / text-only: {ratio:.2f} (target >= 0.8: {'PASS' if ratio >= 0.8 else 'FAIL'}) at "
              f"concurrency {args.concurrency}, server latency {args.latency_ms:g} ms")


if __name__ == "__main__":
    main()
