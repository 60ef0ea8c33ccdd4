"""`appworld_agent`: a function-calling agent on an AppWorld task; AppWorld's own `evaluate` is the judge.

Per task: initialize it on the environment server, give the model the instruction (and who the supervisor is)
with the apps' API docs as tools (``<app>__<api>``), run each tool call as ``print(apis.<app>.<api>(**args))`` in the
task's world and return the output, until the model answers without a call or ``max_steps``; then ``evaluate``
(the task's tests: `success` is Task Goal Completion) and ``close``. The trajectory and AppWorld's test report go
into the model output. The task is done when the agent calls ``supervisor__complete_task``, as AppWorld expects.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

from gage_eval.backends.base import GenerationRequest
from gage_eval.backends.tool_calls import assistant_message
from gage_eval.benchmarks.appworld.client import SERVE_FIX, AppWorldEnvironment
from gage_eval.benchmarks.appworld.data import api_tools, data_dir
from gage_eval.config.models import RoleAdapterSpec
from gage_eval.errors import ConfigError
from gage_eval.registry import registry
from gage_eval.roles.base import RoleResources
from gage_eval.roles.model_roles import ModelRoleAdapter
from gage_eval.sample import Sample

SYSTEM = ("You are an AI assistant acting for your supervisor in AppWorld, a world of apps (email, music, payments, "
          "notes, ...). Use the API tools to complete the task. Log in to an app with its login API before using it "
          "(the supervisor's account passwords are in supervisor__show_account_passwords). When the task is done, "
          "call supervisor__complete_task (with `answer` when the task asks a question).")


@registry.asset("roles", "appworld_agent", desc="function-calling agent on AppWorld tasks through AppWorld's "
                "environment server; its evaluate() is the judge (tgc / sgc)", tags=("model", "agents", "appworld"))
class AppWorldAgentAdapter(ModelRoleAdapter):
    role_type = "appworld_agent"
    under_test: ClassVar[bool] = True

    def __init__(self, spec: RoleAdapterSpec, resources: RoleResources, config_path: str) -> None:
        super().__init__(spec, resources, config_path)
        self.url = spec.params.get("environment_url")
        if not self.url:
            raise ConfigError("appworld_agent needs params.environment_url", path=f"{config_path}.params",
                              fix=SERVE_FIX)
        self.max_steps = int(spec.params.get("max_steps", 40))
        self.experiment = str(spec.params.get("experiment_name", "gage"))
        import httpx  # imported when AppWorld is used, not at every start (registry discovery)

        self._http = httpx.AsyncClient(timeout=float(spec.params.get("timeout_s", 120)))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        sample: Sample = payload["sample"]
        root = sample.metadata.get("appworld_root")
        tools = api_tools(data_dir(Path(root))) if root else []
        env = AppWorldEnvironment(self._http, self.url, sample.id)
        await env.initialize(self.experiment)
        messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM},
                                          *[m.model_dump(exclude_none=True) for m in sample.messages]]
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        stop, started = "max_steps", time.perf_counter()
        try:
            for _ in range(self.max_steps):
                response = await self.call(GenerationRequest(messages=list(messages), params=dict(self.generation),
                                                             tools=tools or None))
                for key in usage:
                    usage[key] += int(response.usage.get(key, 0) or 0)
                calls = response.tool_calls or []
                messages.append(assistant_message(response.text or "", calls))
                if not calls:
                    stop = "answered"
                    break
                for c in calls:
                    messages.append({"role": "tool", "tool_call_id": c["id"], "content": await self._run(env, c)})
                if any(c["name"] == "supervisor__complete_task" for c in calls):
                    stop = "completed"
                    break
            evaluation = await env.evaluate()
        finally:
            await env.close()
        answer = messages[-1].get("content") or ""
        trajectory = {"kind": "agent", "stop_reason": stop, "final_answer": answer, "messages": messages,
                      "tools": [t["function"]["name"] for t in tools], "usage": dict(usage),
                      "wall_ms": round((time.perf_counter() - started) * 1000, 3)}
        if payload.get("scope") is not None:
            payload["scope"].trajectory = trajectory  # samples.jsonl `trajectory`, shown by the report and viewer
        return {"answer": answer, "usage": usage, "stop_reason": stop, "appworld_evaluation": evaluation,
                "latency_ms": (time.perf_counter() - started) * 1000,
                **({} if payload.get("scope") is not None else {"trajectory": trajectory})}

    @staticmethod
    async def _run(env: AppWorldEnvironment, call: dict[str, Any]) -> str:
        if call.get("error") or "__" not in call["name"]:
            return f"Error: {call.get('error') or 'unknown tool ' + repr(call['name'])}"
        app, api = call["name"].split("__", 1)
        if not (app.isidentifier() and api.isidentifier()):
            return f"Error: unknown tool {call['name']!r}"
        return await env.execute(f"print(apis.{app}.{api}(**{call['arguments']!r}))")  # JSON values as Python literals
