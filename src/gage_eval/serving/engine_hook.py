"""The engine side of `backends[].launch`: start each launched server before the run, point its backend at it.

Servers start before the backends are built (and so before the pre-flight check probes them) and are
entered on the run's AsyncExitStack, which the engine closes in its `finally`: the servers stop on a normal
end, an error and cancellation (Ctrl-C / SIGTERM) alike.
"""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gage_eval.config.models import PipelineConfig
from gage_eval.engine.build import backend_class, used_backend_specs
from gage_eval.engine.settings import RunSettings
from gage_eval.errors import ConfigError
from gage_eval.serving.launch import LaunchConfig, model_path_problem
from gage_eval.serving.managed import ManagedServer

_PLACEHOLDER_URL = "http://127.0.0.1:1/v1"


@dataclass
class LaunchPlan:
    key: str  # the caller key (backend_id, or inline:<adapter_id>)
    path: str  # config path of the backend
    launch: LaunchConfig  # with --model-path applied and the served name settled
    entry: dict[str, Any]  # config entries for the backend: base_url (a placeholder until started), model


def launch_plans(cfg: PipelineConfig, settings: RunSettings) -> list[LaunchPlan]:
    """The servers a run would start, checked without starting any (also what `gage validate` checks)."""
    plans = []
    for key, path, spec in used_backend_specs(cfg):
        if spec.launch is None:
            continue
        cls = backend_class(spec, path)
        fields = cls.Settings.model_fields
        if "base_url" not in fields:
            raise ConfigError(f"backend type '{spec.type}' does not talk to a server over HTTP, so a launched server "
                              "cannot be used by it", path=f"{path}.launch",
                              fix="use launch with an HTTP backend (type: openai_http), or drop launch")
        # The served name is what the backend sends as `model`: the config's model, else the model path.
        launch = spec.launch.model_copy(update={
            "served_model_name": spec.launch.served_model_name or spec.config.get("model") or None,
            "model_path": settings.model_path or spec.launch.model_path})
        entry: dict[str, Any] = {"base_url": _PLACEHOLDER_URL}
        if "model" in fields:
            entry["model"] = launch.model_name()
        # Check the backend's own settings now: a typo there must not cost a server start (minutes for vLLM).
        cls.from_config({**spec.config, **entry}, f"{path}.config")
        plans.append(LaunchPlan(key, path, launch, entry))
    return plans


def placeholder_endpoints(cfg: PipelineConfig, settings: RunSettings) -> dict[str, dict[str, Any]]:
    """For building backends without starting their servers (`gage validate`): the model path is checked too."""
    out = {}
    for plan in launch_plans(cfg, settings):
        problem = model_path_problem(plan.launch.model_path)
        if problem:
            raise ConfigError(problem, path=f"{plan.path}.launch.model_path",
                              fix="point it at an existing checkpoint folder (or pass --model-path)")
        out[plan.key] = plan.entry
    return out


async def start_launched_servers(cfg: PipelineConfig, settings: RunSettings, log_dir: Path,
                                 stack: contextlib.AsyncExitStack) -> dict[str, dict[str, Any]]:
    """Start every used backend's `launch:` server; return the config entries (base_url, model) per caller key."""
    endpoints: dict[str, dict[str, Any]] = {}
    for plan in launch_plans(cfg, settings):
        running = settings.running_servers.get(plan.key)
        if running:  # started by the caller for several runs (gage sweep), stopped by it too
            endpoints[plan.key] = {**plan.entry, "base_url": running}
            continue
        server = ManagedServer(plan.launch, name=re.sub(r"[^\w.-]", "_", plan.key) or "model", log_dir=log_dir,
                               config_path=f"{plan.path}.launch")
        await stack.enter_async_context(server)
        endpoints[plan.key] = {**plan.entry, "base_url": server.base_url}
    return endpoints
