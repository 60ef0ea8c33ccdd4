"""HTTP throughput: achieved / ideal (= concurrency / latency) against the bundled OpenAI-compatible server.

The server runs in its own process so it does not share the client's event loop. Target ≥ 0.95 at 256.
A bare aiohttp keep-alive loop against the same server in the same run gives the ceiling this server and
machine allow, so the engine's own cost shows as gage / bare.
"""
from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import echo_pipeline, write_dataset  # noqa: E402

import gage_eval  # noqa: E402


def start_server(latency_ms: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "gage_eval.testing.server", "--port", "0",
                             "--latency-ms", str(latency_ms)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("READY "):
        proc.kill()
        raise SystemExit(f"server did not start: {line!r}")
    return proc, line.split(" ", 1)[1]


async def bare_client(base_url: str, n: int, concurrency: int) -> float:
    """Requests/s of the thinnest possible client: one session, `concurrency` loops, no bookkeeping."""
    import aiohttp
    import orjson

    todo = iter(range(n))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def loop() -> None:
            for i in todo:
                body = orjson.dumps({"model": "bench", "messages": [{"role": "user", "content": f"Question {i}"}]})
                async with session.post(f"{base_url}/chat/completions", data=body,
                                        headers={"Content-Type": "application/json"}) as resp:
                    await resp.read()

        start = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=5000)
    ap.add_argument("--latency-ms", type=float, default=100.0)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[64, 256])
    args = ap.parse_args()
    proc, base_url = start_server(args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data = write_dataset(Path(tmp) / "data.jsonl", args.samples)
            for c in args.concurrency:
                backend = {"type": "openai_http",
                           "config": {"base_url": base_url, "model": "bench", "max_connections": c}}
                result = gage_eval.run(echo_pipeline(data, backend, c), output_dir=Path(tmp) / "runs",
                                       run_id=f"c{c}", progress="off")
                task = result.summary["tasks"][0]
                ideal = c / (args.latency_ms / 1000)
                bare = asyncio.run(bare_client(base_url, args.samples, c))
                ratio = task["samples_per_s"] / ideal
                print(f"concurrency {c}: gage {task['samples_per_s']:.0f} samples/s, bare client {bare:.0f} req/s, "
                      f"ideal {ideal:.0f}; achieved/ideal {ratio:.3f}, bare/ideal {bare / ideal:.3f}, "
                      f"gage/bare {task['samples_per_s'] / bare:.3f}, failures {result.summary['failures']['total']}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
