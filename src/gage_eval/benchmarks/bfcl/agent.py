"""`bfcl_agent`: bfcl-eval's multi-turn inference loop (base_handler.inference_multi_turn_FC / _prompting).

For each user turn: add the turn's messages; then step: ask the model, keep its reply, decode it to calls (a
reply that does not decode, or holds no call, ends the turn), execute the calls on the entry's API instances
(`multi_turn.Environment`) and send the results back — as ``tool`` messages with the call ids (function calling)
or as one user message holding ``repr([{"role": "tool", "name": call, "content": result}, ...])`` (prompting) —
until the turn ends or more than 20 steps ran (bfcl-eval's MAXIMUM_STEP_LIMIT: the entry is then force-terminated
and fails). The model output keeps every raw reply per turn and step (``bfcl_steps``, what the checker replays),
the whole conversation (``trajectory``), per-turn stop reasons, tokens and latencies.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

from gage_eval.backends.base import GenerationRequest
from gage_eval.backends.tool_calls import assistant_message
from gage_eval.benchmarks.bfcl.decode import decode_execute, fc_response, is_empty_execute
from gage_eval.benchmarks.bfcl.functions import ADDITIONAL_FUNCTION_PROMPT, prompt_messages
from gage_eval.benchmarks.bfcl.multi_turn import Environment
from gage_eval.errors import ConfigError
from gage_eval.registry import registry
from gage_eval.roles.model_roles import ModelRoleAdapter
from gage_eval.sample import Sample

MAXIMUM_STEP_LIMIT = 20


@registry.asset("roles", "bfcl_agent", desc="BFCL multi-turn inference: the model calls bfcl-eval's API classes "
                "turn by turn (function calling or prompting), as bfcl-eval's handlers do", tags=("model", "agents"))
class BfclAgentAdapter(ModelRoleAdapter):
    role_type = "bfcl_agent"
    under_test: ClassVar[bool] = True

    async def execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        sample: Sample = payload["sample"]
        meta = sample.metadata.get("bfcl")
        turns = sample.inputs.get("bfcl_turns")
        if not isinstance(meta, dict) or not isinstance(turns, list):
            raise ConfigError(f"sample '{sample.id}' is not a BFCL multi-turn entry", path=self.config_path,
                              fix="use bfcl_agent with the bfcl preprocessor on a multi_turn_* category")
        mode = meta.get("mode", "fc")
        env = await asyncio.to_thread(Environment, meta["involved_classes"], meta.get("initial_config", {}),
                                      sample.id, "gage", "long_context" in meta["category"])
        tools = sample.inputs.get("tools") if mode == "fc" else None
        messages: list[dict[str, Any]] = []
        all_steps: list[list[Any]] = []
        turn_log: list[dict[str, Any]] = []
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        latency_ms, last_text, force_quit = 0.0, "", False
        calls_log: list[dict[str, Any]] = []  # one entry per model call, as the agent lane's Trajectory.turns
        wall = time.perf_counter()
        for turn_index, turn in enumerate(turns):
            turn_messages = [dict(m) for m in turn] or [{"role": "user", "content": ADDITIONAL_FUNCTION_PROMPT}]
            if turn_index == 0 and mode == "prompt":
                turn_messages = prompt_messages(turn_messages, sample.inputs["system_prompt"])
            messages.extend(turn_messages)
            replies: list[Any] = []
            stop, count = "no_call", 0
            while True:
                request = GenerationRequest(messages=list(messages), params=dict(self.generation), tools=tools)
                started = time.perf_counter()
                response = await self.call(request)
                latency_ms += (time.perf_counter() - started) * 1000
                for key in usage:
                    usage[key] += int(response.usage.get(key, 0) or 0)
                calls = list(response.tool_calls or []) if mode == "fc" else []
                last_text = response.text or ""
                reply = fc_response(calls, response.text) if mode == "fc" else response.text
                replies.append(reply)
                messages.append(assistant_message(response.text or "", calls) if mode == "fc"
                                else {"role": "assistant", "content": response.text or ""})
                try:
                    decoded = decode_execute(reply, mode)
                except Exception as exc:  # noqa: BLE001 - bfcl-eval ends the turn on any decoding failure
                    stop = f"undecodable: {str(exc)[:200]}"
                    break
                if is_empty_execute(decoded):
                    break
                results = await asyncio.to_thread(env.execute, decoded)
                calls_log.append({"turn": turn_index, "step": count, "usage": dict(response.usage),
                                  "tool_calls": [{"name": call, "status": "error" if r.startswith(
                                      "Error during execution") else "ok", "result": r[:2000]}
                                      for call, r in zip(decoded, results)]})
                if mode == "fc":
                    # zip, as bfcl-eval: results beyond the ids the reply carried are dropped
                    messages.extend({"role": "tool", "content": result, "tool_call_id": call.get("id")}
                                    for result, call in zip(results, calls))
                else:
                    tool_results = [{"role": "tool", "name": call, "content": result}
                                    for result, call in zip(results, decoded)]
                    messages.append({"role": "user", "content": repr(tool_results)})
                count += 1
                if count > MAXIMUM_STEP_LIMIT:
                    force_quit, stop = True, "max_steps"
                    break
            all_steps.append(replies)
            turn_log.append({"turn": turn_index, "steps": len(replies), "stop_reason": stop})
            if force_quit:
                break
        stop_reason = "force_terminated" if force_quit else "completed"
        trajectory = {"kind": "agent", "stop_reason": stop_reason, "final_answer": last_text, "messages": messages,
                      "turns": calls_log, "tools": [t["function"]["name"] for t in tools or []],
                      "usage": {**usage, "total_tokens": sum(usage.values())}, "model_ms": round(latency_ms, 3),
                      "wall_ms": round((time.perf_counter() - wall) * 1000, 3), "user_turns": turn_log}
        if payload.get("scope") is not None:
            payload["scope"].trajectory = trajectory  # samples.jsonl `trajectory`, shown by the report and viewer
        return {"answer": last_text, "usage": usage, "latency_ms": latency_ms, "bfcl_steps": all_steps,
                "turns": turn_log, "stop_reason": stop_reason,
                **({} if payload.get("scope") is not None else {"trajectory": trajectory})}
