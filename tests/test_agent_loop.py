"""The agent loop against the test server over HTTP: tool calls, bad input, every stop reason."""
from __future__ import annotations

import asyncio
import json

import pytest

from gage_eval.agents import trajectory as stops
from gage_eval.agents.loop import AgentLimits, AgentLoop
from gage_eval.agents.python_tools import PythonTool
from gage_eval.agents.tools import ToolBox
from gage_eval.agents.trajectory import Trajectory
from gage_eval.backends.openai_http import OpenAIHTTPBackend
from gage_eval.engine.model_call import ModelCaller, RetryPolicy
from gage_eval.testing.server import OpenAITestServer, TestServerConfig
from gage_eval.testing.tool_replies import call, reply

CALLS: list[str] = []


def add(a: int, b: int) -> int:
    """Add two integers."""
    CALLS.append("add")
    return a + b


def boom(x: str) -> str:
    """Always fails."""
    raise RuntimeError(f"boom on {x}")


async def hang(seconds: float = 30) -> str:
    """Sleeps."""
    await asyncio.sleep(seconds)
    return "woke up"


def counter(state: dict) -> int:
    """Counts calls within one sample."""
    state["n"] = state.get("n", 0) + 1
    return state["n"]


def _toolbox(**kw) -> ToolBox:
    state: dict = {}
    return ToolBox([PythonTool("add", add), PythonTool("boom", boom), PythonTool("hang", hang),
                    PythonTool("counter", counter, state=state)], **kw)


def _tool_results(traj: Trajectory) -> dict[str, str]:
    return {m["tool_call_id"]: m["content"] for m in traj.messages if m["role"] == "tool"}


async def _run(script, limits=AgentLimits(), toolbox=None, mode="tools", **server) -> tuple[Trajectory, list]:
    seen: list = []

    def recording(body):
        seen.append(body)
        return script(body)

    async with OpenAITestServer(TestServerConfig(script=recording, **server)) as srv:
        backend = OpenAIHTTPBackend.from_config({"base_url": srv.base_url, "model": "m"})
        caller = ModelCaller(backend, RetryPolicy(max_attempts=1))
        loop = AgentLoop(caller.generate, toolbox or _toolbox(timeout_s=0.5), limits, tool_mode=mode)
        traj = Trajectory()
        try:
            await loop.run([{"role": "user", "content": "compute"}], traj)
        finally:
            await backend.aclose()
    return traj, seen


def _turn_script(turns):
    def script(body):
        done = sum(1 for m in body["messages"] if m["role"] == "assistant")
        return turns[done] if done < len(turns) else "the answer is 5"
    return script


async def test_parallel_calls_then_final_answer() -> None:
    traj, seen = await _run(_turn_script([reply(call("add", {"a": 2, "b": 3}, "c1"), call("counter", {}, "c2")),
                                          reply(call("counter", {}, "c3"))]))
    assert traj.stop_reason == stops.FINAL_ANSWER and traj.final_answer == "the answer is 5"
    assert _tool_results(traj) == {"c1": "5", "c2": "1", "c3": "2"}  # state lives across turns
    assert [len(t["tool_calls"]) for t in traj.turns] == [2, 1, 0]
    assert all(c["status"] == "ok" and c["duration_ms"] >= 0 for c in traj.tool_calls)
    assert traj.turns[0]["tool_calls"][0]["arguments"] == {"a": 2, "b": 3}
    # The model saw its calls and their results, in OpenAI format, in order.
    second = seen[1]["messages"]
    assert second[1]["tool_calls"][0]["function"] == {"name": "add", "arguments": '{"a": 2, "b": 3}'}
    assert [m.get("tool_call_id") for m in second[2:]] == ["c1", "c2"]
    assert seen[0]["tools"][0]["function"]["name"] == "add"
    summary = traj.summary()
    assert summary["turn_count"] == 3 and summary["tool_call_count"] == 3 and summary["usage"]["total_tokens"] > 0
    assert summary["overhead_ms"] >= 0 and json.loads(json.dumps(traj.to_dict()))["kind"] == "agent"


async def test_bad_calls_are_observations_and_the_loop_goes_on() -> None:
    traj, seen = await _run(_turn_script([reply(call("nope", {}, "u"), call("add", '{"a": 1,', "j"),
                                                call("boom", {"x": "y"}, "r"), call("hang", {}, "h"),
                                                call("add", {"a": "not a number", "b": 1}, "v"))]))
    statuses = {c["id"]: c["status"] for c in traj.tool_calls}
    assert statuses == {"u": "unknown_tool", "j": "bad_arguments", "r": "error", "h": "timeout", "v": "bad_arguments"}
    results = _tool_results(traj)
    assert "no tool named 'nope'" in results["u"] and "add, boom, hang, counter" in results["u"]
    assert "could not be read" in results["j"] and traj.turns[0]["tool_calls"][1]["raw_arguments"] == '{"a": 1,'
    assert "RuntimeError: boom on y" in results["r"] and "within 0.5 s" in results["h"]
    assert "a: Input should be a valid integer" in results["v"]
    assert traj.stop_reason == stops.FINAL_ANSWER and len(seen) == 2


async def test_agent_that_never_stops_hits_max_turns() -> None:
    forever = lambda body: reply(call("counter", {}))  # noqa: E731
    traj, seen = await _run(forever, AgentLimits(max_turns=4))
    assert traj.stop_reason == stops.MAX_TURNS and len(seen) == 4 and traj.final_answer is None
    assert "4 model turns" in traj.error


async def test_token_budget_and_time_limit() -> None:
    forever = lambda body: reply(call("counter", {}))  # noqa: E731
    traj, seen = await _run(forever, AgentLimits(max_turns=100, max_total_tokens=12))
    assert traj.stop_reason == stops.TOKEN_BUDGET and traj.total_tokens >= 12
    assert traj.turns[-1]["tool_calls"][0]["status"] == "not_run"
    traj, _ = await _run(forever, AgentLimits(max_turns=10_000, time_limit_s=0.3), latency_ms=50)
    assert traj.stop_reason == stops.TIME_LIMIT and 1 <= len(traj.turns) < 20


async def test_prompt_mode_reads_calls_from_text_and_answers_as_user_turns() -> None:
    def script(body):
        if len(body["messages"]) == 1:
            return 'I will add.\n<tool_call>\n{"name": "add", "arguments": {"a": 4, "b": 4}}\n</tool_call>'
        return "eight"

    traj, seen = await _run(script, mode="prompt", verbatim=True)
    assert "tools" not in seen[0]
    assert traj.turns[0]["tool_calls"][0]["arguments"] == {"a": 4, "b": 4} and traj.final_answer == "eight"
    assert seen[1]["messages"][-1]["role"] == "user" and '"content": "8"' in seen[1]["messages"][-1]["content"]


async def test_model_error_is_raised_with_the_trajectory_so_far() -> None:
    from gage_eval.errors import BackendError

    def script(body):
        if len(body["messages"]) > 1:
            return "FAIL_NOW"
        return reply(call("counter", {}))

    traj = Trajectory()
    async with OpenAITestServer(TestServerConfig(script=script, fail_prompts={"compute": 500})) as srv:
        backend = OpenAIHTTPBackend.from_config({"base_url": srv.base_url, "model": "m"})
        loop = AgentLoop(ModelCaller(backend, RetryPolicy(max_attempts=1)).generate, _toolbox(), AgentLimits())
        with pytest.raises(BackendError):
            await loop.run([{"role": "user", "content": "compute"}], traj)
        await backend.aclose()
    assert traj.stop_reason == stops.MODEL_ERROR and "HTTP 500" in traj.error
