"""Shared pieces of the agent tests: a real stdio MCP server (written with the mcp SDK) and a scripted model."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from gage_eval.testing.tool_replies import call, reply

KV_SERVER = '''
import asyncio, os, sys
from mcp.server.mcpserver import MCPServer

server = MCPServer("kv")
STORE: dict[str, str] = {}


@server.tool()
def put(key: str, value: str) -> str:
    """Store a value under a key."""
    STORE[key] = value
    return f"stored {key}"


@server.tool()
def get(key: str) -> str:
    """Read the value stored under a key."""
    return STORE[key]


@server.tool()
def keys() -> str:
    """The stored keys, comma-separated."""
    return ",".join(sorted(STORE))


@server.tool()
async def slow(seconds: float) -> str:
    """Wait, then answer."""
    await asyncio.sleep(seconds)
    return "slept"


@server.tool()
def crash() -> str:
    """The server process dies."""
    os._exit(3)


if __name__ == "__main__":
    print(f"kv server {os.getpid()} up", file=sys.stderr, flush=True)
    server.run()
'''


def write_kv_server(folder: Path) -> Path:
    path = folder / "kv_server.py"
    path.write_text(KV_SERVER)
    return path


def _last_tool_result(messages: list[dict[str, Any]]) -> str:
    return next((m["content"] for m in reversed(messages) if m["role"] == "tool"), "")


def kv_agent(body: dict[str, Any]) -> Any:
    """A scripted model: what it does depends on the task (the first user message) and on the turn."""
    messages = body["messages"]
    task = next(m["content"] for m in messages if m["role"] == "user").split()
    turn = sum(1 for m in messages if m["role"] == "assistant")
    kind = task[0]
    if kind == "store":
        key, value = task[1], task[2]
        steps = [reply(call("put", {"key": key, "value": value})), reply(call("get", {"key": key}))]
    elif kind == "parallel":
        steps = [reply(*(call("put", {"key": k, "value": "v"}) for k in task[1:]), content="storing all"),
                 reply(call("keys"))]
    elif kind == "bad":
        steps = [reply(call("nope", {}), call("put", '{"key": "a", "value":'), call("get", {"key": "missing"}),
                       call("slow", {"seconds": 30}))]
        if turn == 1:
            return "survived"
    elif kind == "crash":
        steps = [reply(call("put", {"key": "a", "value": "1"})), reply(call("crash"))]
    elif kind == "forever":
        return reply(call("keys"))
    else:
        return "unknown task"
    return steps[turn] if turn < len(steps) else _last_tool_result(messages)


TASKS = [
    {"id": "t_store", "prompt": "store color blue", "label": "blue"},
    {"id": "t_parallel", "prompt": "parallel x y z", "label": "x,y,z"},
    {"id": "t_store2", "prompt": "store size large", "label": "large"},
    {"id": "t_bad", "prompt": "bad input everywhere", "label": "survived"},
    {"id": "t_forever", "prompt": "forever loop", "label": "never"},
    {"id": "t_crash", "prompt": "crash the server", "label": "1"},
]


def agent_config(dataset: Path, server_script: Path, base_url: str, **overrides: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "kind": "PipelineConfig",
        "metadata": {"name": "kv_agent"},
        "datasets": [{"dataset_id": "tasks", "loader": "jsonl", "params": {"path": str(dataset)}}],
        "backends": [{"backend_id": "model", "type": "openai_http",
                      "config": {"base_url": base_url, "model": "m", "stream": True}}],
        "role_adapters": [
            {"adapter_id": "tools", "role_type": "toolchain",
             "params": {"mcp_servers": [{"server_id": "kv", "command": "python", "args": [str(server_script)]}],
                        "call_timeout_s": 2}},
            {"adapter_id": "agent", "role_type": "dut_agent", "backend_id": "model", "params": {"max_turns": 5}},
            {"adapter_id": "judge", "role_type": "judge_extend", "params": {"implementation": "reference_match"}},
        ],
        "custom": {"steps": [{"step": "support", "adapter_id": "tools"}, {"step": "inference", "adapter_id": "agent"},
                             {"step": "judge", "adapter_id": "judge"}, {"step": "auto_eval"}]},
        "metrics": ["exact_match"],
        "execution": {"concurrency": 3, "max_failure_rate": 0.5},
    }
    cfg.update(overrides)
    return cfg


def live_processes(marker: str) -> list[int]:
    """Pids whose command line mentions `marker` (the MCP server script), this machine-wide."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = (entry / "status").read_text()
        except OSError:
            continue
        if marker in cmdline and "State:\tZ" not in status:
            pids.append(int(entry.name))
    return pids
