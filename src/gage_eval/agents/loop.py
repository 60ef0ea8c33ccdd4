"""The agent loop: model turn, tool calls (concurrently), observations, repeat — until a stop reason.

Stops: the model answers without calling a tool (`final_answer`, after any follow-up user turns),
`max_turns` model calls, `max_total_tokens` (prompt + completion over all turns), `time_limit_s` of wall
clock, a model error that outlived the retries (`model_error`, raised: the sample is redone on resume), a
tool server that died (`tool_server_error`, raised likewise). The trajectory is built as the loop goes, so
whatever stops it, what happened so far is in the sample record.

`tool_mode`: "tools" passes the tool definitions in the request (the API's or the chat template's tool
calling); "prompt" leaves them to the prompt (the toolchain injected their documentation) and reads the calls
from the model's text (backends/tool_parsing.py), sending results back as user turns.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from gage_eval.agents import trajectory as stops
from gage_eval.agents.tools import ToolBox, ToolServerError
from gage_eval.agents.trajectory import Trajectory
from gage_eval.backends.base import GenerationRequest, GenerationResponse
from gage_eval.backends.tool_calls import assistant_message, tool_message
from gage_eval.backends.tool_parsing import Style, parse_tool_text
from gage_eval.errors import BackendError

CallModel = Callable[[GenerationRequest], Awaitable[GenerationResponse]]


@dataclass(frozen=True)
class AgentLimits:
    max_turns: int = 20
    max_total_tokens: int | None = None
    time_limit_s: float | None = None
    parallel_tool_calls: bool = True


class AgentLoop:
    def __init__(self, call_model: CallModel, toolbox: ToolBox | None, limits: AgentLimits,
                 params: dict[str, Any] | None = None, tool_mode: Literal["tools", "prompt"] = "tools",
                 tool_choice: str | dict[str, Any] | None = None, text_calls: Style | None = None) -> None:
        self.call_model = call_model
        self.toolbox = toolbox
        self.limits = limits
        self.params = params or {}
        self.tool_mode = tool_mode
        self.tool_choice = tool_choice
        # Calls written in the text: always read in prompt mode; in tools mode only when asked (a server
        # that does not parse its model's tool calls), since a JSON final answer could look like one.
        self.text_calls: Style = text_calls or ("auto" if tool_mode == "prompt" else "none")
        self._tools = toolbox.openai_tools() if toolbox is not None and tool_mode == "tools" else None

    async def run(self, messages: list[dict[str, Any]], trajectory: Trajectory,
                  followups: list[dict[str, Any]] | None = None) -> Trajectory:
        trajectory.messages.extend(messages)
        trajectory.tools = [s.name for s in self.toolbox.specs] if self.toolbox is not None else []
        try:
            if self.limits.time_limit_s is None:
                await self._turns(trajectory, list(followups or []))
            else:
                await asyncio.wait_for(self._turns(trajectory, list(followups or [])), self.limits.time_limit_s)
        except asyncio.TimeoutError:
            self._close_open_turn(trajectory)
            trajectory.stop(stops.TIME_LIMIT, f"wall-clock limit of {self.limits.time_limit_s:g} s reached")
        except BackendError as exc:
            trajectory.stop(stops.MODEL_ERROR, str(exc))
            raise
        except ToolServerError as exc:
            self._close_open_turn(trajectory)
            trajectory.stop(stops.TOOL_SERVER_ERROR, str(exc))
            raise
        trajectory.stop(stops.FINAL_ANSWER)  # no-op when a limit already stopped it
        return trajectory

    async def _turns(self, traj: Trajectory, followups: list[dict[str, Any]]) -> None:
        while True:
            if len(traj.turns) >= self.limits.max_turns:
                traj.stop(stops.MAX_TURNS, f"{self.limits.max_turns} model turns without a final answer")
                return
            turn_start = time.perf_counter()
            request = GenerationRequest(messages=list(traj.messages), params=dict(self.params), tools=self._tools,
                                        tool_choice=self.tool_choice if self._tools else None)
            response = await self.call_model(request)
            model_ms = (time.perf_counter() - turn_start) * 1000
            traj.model_ms += model_ms
            text, calls = response.text, list(response.tool_calls)
            if not calls and self.toolbox is not None:
                text, calls = parse_tool_text(text, self.text_calls)
            turn = self._record_turn(traj, response, model_ms, calls)
            traj.messages.append(assistant_message(text, calls) if self.tool_mode == "tools"
                                 else {"role": "assistant", "content": response.text})
            over_budget = (self.limits.max_total_tokens is not None
                           and traj.total_tokens >= self.limits.max_total_tokens)
            if over_budget:
                for c in turn["tool_calls"]:
                    c["status"] = "not_run"
                turn["duration_ms"] = (time.perf_counter() - turn_start) * 1000
                traj.stop(stops.TOKEN_BUDGET, f"{traj.total_tokens} tokens used, budget {self.limits.max_total_tokens}")
                return
            if not calls:
                turn["duration_ms"] = (time.perf_counter() - turn_start) * 1000
                if followups:
                    traj.messages.append(followups.pop(0))
                    continue
                traj.final_answer = text
                return
            await self._run_calls(traj, turn, calls)
            turn["duration_ms"] = (time.perf_counter() - turn_start) * 1000

    def _record_turn(self, traj: Trajectory, response: GenerationResponse, model_ms: float,
                     calls: list[dict[str, Any]]) -> dict[str, Any]:
        usage = {k: int(response.usage.get(k, 0) or 0) for k in ("prompt_tokens", "completion_tokens")}
        traj.prompt_tokens += usage["prompt_tokens"]
        traj.completion_tokens += usage["completion_tokens"]
        turn = {"index": len(traj.turns), "usage": usage, "model_ms": round(model_ms, 3),
                "finish_reason": response.finish_reason, "cached": response.cached,
                "tool_calls": [{"id": c["id"], "name": c["name"], "arguments": c["arguments"],
                                "raw_arguments": c["raw_arguments"], "status": "pending",
                                **({"parse_error": c["error"]} if c.get("error") else {})} for c in calls]}
        traj.turns.append(turn)
        return turn

    async def _run_calls(self, traj: Trajectory, turn: dict[str, Any], calls: list[dict[str, Any]]) -> None:
        assert self.toolbox is not None
        toolbox = self.toolbox
        start = time.perf_counter()
        if self.limits.parallel_tool_calls:
            outcomes = await asyncio.gather(*(toolbox.call(c["name"], c["arguments"], c.get("error")) for c in calls),
                                            return_exceptions=True)
        else:
            outcomes = []
            for c in calls:
                try:
                    outcomes.append(await toolbox.call(c["name"], c["arguments"], c.get("error")))
                except ToolServerError as exc:
                    outcomes.append(exc)
                    break
        traj.tool_ms += (time.perf_counter() - start) * 1000
        failure: BaseException | None = None
        for call, record, outcome in zip(calls, turn["tool_calls"], outcomes):
            if isinstance(outcome, BaseException):
                failure = failure or outcome
                record.update(status="error", error=f"{type(outcome).__name__}: {outcome}")
                continue
            result, duration_ms = outcome
            record.update(status=result.status, duration_ms=round(duration_ms, 3), result_chars=len(result.content))
            if result.truncated_chars:
                record["truncated_chars"] = result.truncated_chars
            source = toolbox.tools[call["name"]].spec.source if call["name"] in toolbox.tools else None
            if source:
                record["source"] = source
            traj.messages.append(self._observation(call, result.content))
        for record in turn["tool_calls"][len(outcomes):]:
            record["status"] = "not_run"
        if failure is not None:
            raise failure

    def _observation(self, call: dict[str, Any], content: str) -> dict[str, Any]:
        if self.tool_mode == "tools":
            return tool_message(call["id"], content, call["name"] or None)
        return {"role": "user", "content": f"<tool_response>\n{{\"name\": \"{call['name']}\", \"content\": "
                                           f"{_json_str(content)}}}\n</tool_response>"}

    @staticmethod
    def _close_open_turn(traj: Trajectory) -> None:
        if traj.turns:
            for c in traj.turns[-1]["tool_calls"]:
                if c["status"] == "pending":
                    c["status"] = "not_run"


def _json_str(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)
