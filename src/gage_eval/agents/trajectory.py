"""An agent's trajectory: the conversation as the model saw it, plus what each turn cost and did.

Written to samples.jsonl under `trajectory` (steps/context.py SampleScope) — also when the sample fails
half-way, so a failure can be read. Fields (see sample.Trajectory):

- `messages`: every message in OpenAI format, the tool results as the model received them;
- `turns`: one entry per model call — usage, latency, finish reason, cache hit, and its tool calls with
  arguments (parsed and raw), status (ok | error | timeout | unknown_tool | bad_arguments | not_run),
  duration and the size of any cut result;
- `stop_reason`: final_answer | max_turns | token_budget | time_limit | model_error | tool_server_error;
- totals: usage, turn and tool-call counts, tool errors, wall time, model time, tool time, and the loop's
  own time (`overhead_ms`: wall minus model and tool time).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

FINAL_ANSWER = "final_answer"
MAX_TURNS = "max_turns"
TOKEN_BUDGET = "token_budget"
TIME_LIMIT = "time_limit"
MODEL_ERROR = "model_error"
TOOL_SERVER_ERROR = "tool_server_error"
STOP_REASONS = (FINAL_ANSWER, MAX_TURNS, TOKEN_BUDGET, TIME_LIMIT, MODEL_ERROR, TOOL_SERVER_ERROR)


@dataclass
class Trajectory:
    messages: list[dict[str, Any]] = field(default_factory=list)
    turns: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None
    final_answer: str | None = None
    error: str | None = None
    tools: list[str] = field(default_factory=list)  # names of the tools offered
    started: float = field(default_factory=time.perf_counter)
    wall_ms: float = 0.0
    model_ms: float = 0.0
    tool_ms: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        return [c for t in self.turns for c in t.get("tool_calls", [])]

    def stop(self, reason: str, error: str | None = None) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
            self.error = error
        self.wall_ms = (time.perf_counter() - self.started) * 1000

    def summary(self) -> dict[str, Any]:
        calls = self.tool_calls
        overhead = max(0.0, self.wall_ms - self.model_ms - self.tool_ms)
        return {"stop_reason": self.stop_reason, "turn_count": len(self.turns), "tool_call_count": len(calls),
                "tool_errors": sum(1 for c in calls if c.get("status") != "ok"),
                "usage": {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                          "total_tokens": self.total_tokens},
                "wall_ms": round(self.wall_ms, 3), "model_ms": round(self.model_ms, 3),
                "tool_ms": round(self.tool_ms, 3), "overhead_ms": round(overhead, 3),
                "overhead_ms_per_turn": round(overhead / len(self.turns), 4) if self.turns else None}

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": "agent", **self.summary(), "final_answer": self.final_answer, "tools": self.tools,
               "messages": self.messages, "turns": self.turns}
        if self.error:
            out["error"] = self.error
        return out
