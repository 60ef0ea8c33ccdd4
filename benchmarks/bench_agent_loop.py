"""Agent loop overhead: 200 multi-turn agent samples against the test server at concurrency 32.

The test server runs in its own process with `--agent-turns 3`: every sample calls the first offered tool
three times (a Python tool of the registry, `notes_write`), then answers — 4 model turns and 3 tool calls per
sample, each model turn `--latency-ms` at the server. Figures:

- our CPU per turn: gage's process CPU time for the whole run (engine, agent loop, HTTP client, tools,
  samples.jsonl, report) divided by the model turns, minus the CPU a bare aiohttp client spends on the same
  number of chat requests against the same server (what any client pays for the model call itself);
- loop time per turn from the trajectories: wall minus model-call and tool time, averaged per turn (this also
  holds event-loop waits behind the other 31 samples' work, so it is an upper bound);
- wall per sample against the ideal 4 × latency.

Target: < 2 ms of our own time per turn beyond the model call.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import gage_eval
from gage_eval.testing.server import start_server_process


async def bare_client(base_url: str, n: int, concurrency: int) -> float:
    """CPU seconds of the thinnest client sending `n` chat requests (tools listed) and decoding the replies."""
    import aiohttp
    import orjson

    tools = [{"type": "function", "function": {"name": "notes_write", "description": "store a note",
                                               "parameters": {"type": "object", "properties": {
                                                   "key": {"type": "string"}, "text": {"type": "string"}},
                                                   "required": ["key", "text"]}}}]
    todo = iter(range(n))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def loop() -> None:
            for i in todo:
                body = orjson.dumps({"model": "bench", "tools": tools,
                                     "messages": [{"role": "user", "content": f"task {i}"}]})
                async with session.post(f"{base_url}/chat/completions", data=body,
                                        headers={"Content-Type": "application/json"}) as resp:
                    orjson.loads(await resp.read())

        start = time.process_time()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        return time.process_time() - start


def config(dataset: Path, base_url: str, concurrency: int) -> dict:
    return {"kind": "PipelineConfig", "metadata": {"name": "bench_agent"},
            "datasets": [{"dataset_id": "tasks", "loader": "jsonl", "params": {"path": str(dataset)}}],
            "backends": [{"backend_id": "m", "type": "openai_http", "config": {"base_url": base_url, "model": "m"}}],
            "role_adapters": [{"adapter_id": "tools", "role_type": "toolchain",
                               "params": {"python_tools": ["notes_write"]}},
                              {"adapter_id": "agent", "role_type": "dut_agent", "backend_id": "m",
                               "params": {"max_turns": 10}}],
            "custom": {"steps": [{"step": "support", "adapter_id": "tools"},
                                 {"step": "inference", "adapter_id": "agent"}, {"step": "auto_eval"}]},
            "metrics": ["exact_match"], "execution": {"concurrency": concurrency, "preflight": False}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--turns", type=int, default=3, help="tool calls per sample before the answer")
    args = ap.parse_args()
    with start_server_process(agent_turns=args.turns, latency_ms=args.latency_ms) as (_, base_url), \
            tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "tasks.jsonl"
        data.write_text("".join(json.dumps({"id": f"t{i}", "prompt": f"task {i}", "label": "done"}) + "\n"
                                for i in range(args.samples)))
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = gage_eval.run(config(data, base_url, args.concurrency), output_dir=Path(tmp), run_id="bench",
                               progress="off")
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        assert result.status == "completed", result.summary["run"]
        trajs = [json.loads(line)["trajectory"] for line in (Path(tmp) / "bench" / "samples.jsonl").open()]
        turns = sum(t["turn_count"] for t in trajs)
        assert turns == args.samples * (args.turns + 1), turns
        bare_cpu = asyncio.run(bare_client(base_url, turns, args.concurrency))
    loop_ms = [t["overhead_ms"] / t["turn_count"] for t in trajs]
    per_turn_cpu = cpu * 1000 / turns
    bare_per_request = bare_cpu * 1000 / turns
    print(f"samples {args.samples}, concurrency {args.concurrency}, {turns} model turns, "
          f"{sum(t['tool_call_count'] for t in trajs)} tool calls, server latency {args.latency_ms:g} ms/turn")
    print(f"wall {wall:.2f} s; per sample {wall * args.concurrency / args.samples:.3f} s vs ideal "
          f"{(args.turns + 1) * args.latency_ms / 1000:.3f} s")
    print(f"gage CPU per turn {per_turn_cpu:.3f} ms (whole run: engine, loop, HTTP, tools, writer, report)")
    print(f"bare aiohttp client CPU per request {bare_per_request:.3f} ms")
    print(f"our own overhead per turn beyond the model call: {per_turn_cpu - bare_per_request:.3f} ms (target < 2 ms)")
    print(f"loop wall time per turn outside model and tools (trajectories, incl. event-loop waits): median "
          f"{statistics.median(loop_ms):.3f} ms, mean {statistics.mean(loop_ms):.3f} ms")


if __name__ == "__main__":
    sys.exit(main())
