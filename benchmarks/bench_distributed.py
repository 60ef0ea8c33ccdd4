"""Distributed runs against the package's fixed-latency test server (its own process).

1. Speed-up: samples/s with 1, 2 and 4 workers, each at the same concurrency, as a ratio to one worker
   (plain processes, `--workers N`; add `--ray` for Ray actors on a local cluster as well).
2. Ceiling: `--workers 2` at a total concurrency of 256 (128 each) against a bare asyncio client at 256 on the
   same server, beside one gage process at 256.
3. Startup: `gage run` until the server sees the first model request (median of 5), and the engine's CPU per
   sample (user + system seconds of the gage processes over samples).

Every run is the `gage run` command in a child process, so startup, workers and teardown count as a user sees
them. Throughput is the task's samples/s from summary.json (worker start-up excluded: it is paid once).

    python benchmarks/bench_distributed.py [--latency-ms 100] [--samples 6000] [--ray]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from _common import echo_pipeline, write_dataset  # noqa: E402
from bench_http_throughput import bare_client  # noqa: E402

from gage_eval.testing.server import TestServerConfig, run_server_in_thread, start_server_process  # noqa: E402


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: byte-compiled modules
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def gage_run(config: Path, out: Path, run_id: str, *flags: str) -> tuple[dict, float, float]:
    """(summary, wall seconds, CPU seconds of gage and its worker processes)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "gage_eval", "run", str(config), "--output-dir", str(out),
                           "--run-id", run_id, "--progress", "off", "--no-preflight", *flags],
                          env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"gage run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads((out / run_id / "summary.json").read_text()), wall, cpu


def write_config(path: Path, data: Path, url: str, concurrency: int) -> Path:
    backend = {"type": "openai_http", "config": {"base_url": url, "model": "bench", "max_connections": 1024}}
    path.write_text(yaml.safe_dump(echo_pipeline(data, backend, concurrency)))
    return path


def speedup(tmp: Path, data: Path, url: str, args: argparse.Namespace, ray: bool) -> None:
    cfg = write_config(tmp / "speedup.yaml", data, url, args.concurrency)
    label = "Ray actors (local cluster)" if ray else "worker processes"
    print(f"\n## speed-up: {label}, concurrency {args.concurrency} per worker, {args.latency_ms:g} ms server, "
          f"{args.samples} samples")
    print("| workers | samples/s | ideal | of ideal | speed-up over 1 | driver CPU µs/sample | "
          "workers' CPU µs/sample |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    base = None
    for workers in (1, 2, 4):
        flags = ["--workers", str(workers)] + (["--ray-address", "local"] if ray else [])
        summary, _, _ = gage_run(cfg, tmp / "runs", f"{'ray' if ray else 'p'}{workers}", *flags)
        task, n = summary["tasks"][0], summary["sample_count"]
        rate = task["samples_per_s"]
        base = base or rate
        ideal = workers * args.concurrency / (args.latency_ms / 1000)
        # The driver's CPU while samples ran; the workers' whole lives (their start-up included).
        print(f"| {workers} | {rate:.0f} | {ideal:.0f} | {rate / ideal:.2f} | {rate / base:.2f} | "
              f"{task['cpu_s'] / n * 1e6:.0f} | {summary['timings']['workers_cpu_s'] / n * 1e6:.0f} |")


def ceiling(tmp: Path, data: Path, url: str, args: argparse.Namespace) -> None:
    n = args.samples
    print(f"\n## concurrency 256 against a bare asyncio client ({args.latency_ms:g} ms server, {n} samples)")
    single = write_config(tmp / "c256.yaml", data, url, 256)
    split = write_config(tmp / "c128.yaml", data, url, 128)
    rows = []
    for i in range(args.repeats):  # interleaved, so drift in machine load hits all alike
        bare = asyncio.run(bare_client(url, n, 256))
        one, _, _ = gage_run(single, tmp / "runs", f"one{i}")
        two, _, _ = gage_run(split, tmp / "runs", f"two{i}", "--workers", "2")
        rows.append((bare, one["tasks"][0]["samples_per_s"], two["tasks"][0]["samples_per_s"]))
        print(f"round {i}: bare {bare:.0f} req/s, gage (1 process, 256) {rows[-1][1]:.0f}, "
              f"gage --workers 2 (2 x 128) {rows[-1][2]:.0f}")
    bare, one, two = (statistics.median(col) for col in zip(*rows))
    print(f"median: gage 1 process / bare {one / bare:.3f}, gage --workers 2 / bare {two / bare:.3f} "
          f"(target >= 0.95: {'PASS' if two / bare >= 0.95 else 'FAIL'})")


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc), whatever the machine's load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def startup(tmp: Path, data: Path, args: argparse.Namespace) -> None:
    first: list[tuple[float, float]] = []
    child: list[int] = []

    def script(body: dict) -> str:
        if not first and child:
            first.append((time.perf_counter(), _cpu_of(child[0])))
        return "x"

    print("\n## startup: `gage run` until the first model request (median of 5; byte-compiled modules)")
    with run_server_in_thread(TestServerConfig(script=script)) as srv:
        cfg = write_config(tmp / "startup.yaml", data, srv.base_url, 64)
        for flags, label in (((), "single process"), (("--workers", "2"), "--workers 2")):
            gage_run(cfg, tmp / "runs", f"warm{len(flags)}", "--max-samples", "8", *flags)  # writes .pyc files
            walls, cpus = [], []
            for i in range(5):
                first.clear()
                t0 = time.perf_counter()
                proc = subprocess.Popen([sys.executable, "-m", "gage_eval", "run", str(cfg), "--output-dir",
                                         str(tmp / "runs"), "--run-id", f"st{len(flags)}_{i}", "--progress", "off",
                                         "--no-preflight", "--max-samples", "20", *flags], env=_env(),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                child[:] = [proc.pid]
                proc.wait()
                child.clear()
                walls.append(first[0][0] - t0)
                cpus.append(first[0][1])
            # With workers the first request comes from a worker: the CPU figure is the driver's alone then.
            print(f"{label}: first request after {statistics.median(walls):.3f} s wall (min {min(walls):.3f}), "
                  f"{statistics.median(cpus):.2f} CPU s of the gage process")
        # The engine's own CPU per sample, start-up and teardown cancelled out: runs of N and 2N samples.
        n = min(args.samples // 2, 3000)
        cpu = {}
        for size in (n, 2 * n):
            cpu[size] = min(gage_run(cfg, tmp / "runs", f"cpu{size}_{i}", "--max-samples", str(size))[2]
                            for i in range(2))
        per = (cpu[2 * n] - cpu[n]) / n
        print(f"engine CPU per sample (single process, zero-latency server, concurrency 64): {per * 1e6:.0f} µs; "
              f"fixed cost of a run (start-up, summary, report) {cpu[n] - n * per:.2f} CPU s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency-ms", type=float, default=100.0)
    ap.add_argument("--samples", type=int, default=6000)
    ap.add_argument("--concurrency", type=int, default=64, help="per worker, for the speed-up table")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ray", action="store_true", help="also measure the speed-up with Ray actors")
    ap.add_argument("--skip", nargs="*", default=[], choices=["speedup", "ceiling", "startup"])
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        data = write_dataset(tmp / "data.jsonl", args.samples)
        if "startup" not in args.skip:
            startup(tmp, data, args)
        with start_server_process(latency_ms=args.latency_ms) as (_, url):
            if "speedup" not in args.skip:
                speedup(tmp, data, url, args, ray=False)
                if args.ray:
                    speedup(tmp, data, url, args, ray=True)
            if "ceiling" not in args.skip:
                ceiling(tmp, data, url, args)


if __name__ == "__main__":
    main()
