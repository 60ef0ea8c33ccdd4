"""Build runtime objects (model callers, prompts, adapters, metrics, task plans) from a checked config."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gage_eval.backends.base import Backend, require_capability
from gage_eval.config.models import (
    BackendSpec,
    DatasetSpec,
    MetricSpec,
    PipelineConfig,
    ReportingSpec,
    RoleAdapterSpec,
    StepSpec,
)
from gage_eval.engine.model_call import ModelCaller, RetryPolicy
from gage_eval.engine.response_cache import ResponseCache
from gage_eval.engine.settings import DEFAULT_CONCURRENCY, DEFAULT_PREFETCH, RunSettings
from gage_eval.errors import ConfigError
from gage_eval.metrics import build_metric
from gage_eval.metrics.base import Metric
from gage_eval.prompts import PromptTemplate, build_prompt
from gage_eval.registry import registry
from gage_eval.roles.base import RoleAdapter, RoleResources


def _backend_config(config: dict[str, Any], settings: RunSettings, path: str) -> dict[str, Any]:
    """Resolve secrets and CLI overrides into the backend's config (the backend never reads the env)."""
    config = dict(config)
    env_name = config.get("api_key_env")
    if env_name:
        if env_name not in settings.secrets:
            raise ConfigError(f"environment variable {env_name} (api_key_env) is not set", path=f"{path}.api_key_env",
                              fix=f"export {env_name}=<your key> before running")
        config["api_key"] = settings.secrets[env_name]
    if settings.model_path and "model_path" in config:
        config["model_path"] = settings.model_path
    return config


def used_backend_specs(cfg: PipelineConfig) -> list[tuple[str, str, BackendSpec]]:
    """(caller key, config path, spec) of every backend a role adapter uses; declared but unused ones are left
    out: no connections are opened, weights loaded or servers started for them."""
    specs: list[tuple[str, str, Any]] = [(b.backend_id or "", f"backends[{i}]", b) for i, b in enumerate(cfg.backends)]
    specs += [(f"inline:{a.adapter_id}", f"role_adapters[{i}].backend", a.backend)
              for i, a in enumerate(cfg.role_adapters) if a.backend is not None]
    from gage_eval.engine.replay import replayed_only_adapters

    replayed = replayed_only_adapters(cfg)  # their outputs come from an earlier run: no model to reach
    live = [a for a in cfg.role_adapters if a.adapter_id not in replayed]
    used = {a.backend_id for a in live if a.backend_id} | {f"inline:{a.adapter_id}" for a in live if a.backend}
    used |= role_backend_refs(live)
    return [(key, path, spec) for key, path, spec in specs if key in used]


def role_backend_refs(adapters: list[RoleAdapterSpec]) -> set[str]:
    """Backends a role uses besides its own backend_id, e.g. the players of a game arena: a role class says which
    with `backend_refs(spec) -> [backend_id, ...]`. A missing one is reported by the role, with its config path."""
    refs: set[str] = set()
    for spec in adapters:
        try:
            cls = registry.get("roles", spec.role_type)
        except ConfigError:  # reported with its config path when the roles are built
            continue
        refs.update(getattr(cls, "backend_refs", lambda _spec: [])(spec))
    return refs


def backend_class(spec: BackendSpec, path: str) -> type[Backend]:
    backend_cls = registry.get("backends", spec.type, config_path=f"{path}.type")
    if not (isinstance(backend_cls, type) and issubclass(backend_cls, Backend)):
        raise ConfigError(f"'{spec.type}' is not a Backend class", path=f"{path}.type",
                          fix="register a subclass of gage_eval.backends.base.Backend")
    return backend_cls


def build_callers(cfg: PipelineConfig, settings: RunSettings, cache: ResponseCache | None,
                  endpoints: dict[str, dict[str, Any]] | None = None) -> dict[str, ModelCaller]:
    """`endpoints`: config entries per caller key that point a backend at the server gage launched for it."""
    retry = RetryPolicy(max_attempts=settings.max_attempts, base_delay_s=settings.retry_base_delay_s)
    callers: dict[str, ModelCaller] = {}
    for key, path, spec in used_backend_specs(cfg):
        backend_cls = backend_class(spec, path)
        config = {**spec.config, **(endpoints or {}).get(key, {})}
        backend = backend_cls.from_config(_backend_config(config, settings, f"{path}.config"), f"{path}.config")
        callers[key] = ModelCaller(backend, retry, cache)
    check_capabilities(cfg, callers)
    return callers


def check_capabilities(cfg: PipelineConfig, callers: dict[str, ModelCaller]) -> None:
    """Each role's needs against its backend's declared capabilities, when the pipeline is built (gage validate,
    gage run before its pre-flight): a log-likelihood benchmark on a chat endpoint fails before any request."""
    native_tools = any(a.role_type == "toolchain" and a.params.get("tool_doc_format", "tools") == "tools"
                       for a in cfg.role_adapters)
    for i, spec in enumerate(cfg.role_adapters):
        key = spec.backend_id or f"inline:{spec.adapter_id}"
        if spec.role_type == "dut_agent" and native_tools and key in callers:
            require_capability(callers[key].backend, "tools", spec.backend_id or f"role_adapters[{i}].backend",
                               f"role_adapters[{i}].backend_id", f"role_adapters[{i}] (a dut_agent whose toolchain "
                               "passes tool definitions, tool_doc_format: tools)")
        if spec.scores_loglikelihood and key in callers:
            require_capability(callers[key].backend, "loglikelihood", spec.backend_id or f"role_adapters[{i}].backend",
                               f"role_adapters[{i}].params.mode",
                               f"role_adapters[{i}] (a {spec.role_type} with params.mode: loglikelihood)")
        if "images" in spec.capabilities and key in callers:  # a multimodal benchmark's model sees images
            require_capability(callers[key].backend, "images", spec.backend_id or f"role_adapters[{i}].backend",
                               f"role_adapters[{i}].capabilities",
                               f"role_adapters[{i}] (a {spec.role_type} whose samples carry images)")


def build_prompts(cfg: PipelineConfig) -> dict[str, PromptTemplate]:
    return {p.prompt_id: build_prompt(p) for p in cfg.prompts}


def build_adapters(cfg: PipelineConfig, resources: RoleResources) -> dict[str, RoleAdapter]:
    from gage_eval.engine.replay import replayed_only_adapters

    if cfg.sandbox_profiles and "sandboxes" not in resources.extra:
        from pathlib import Path

        from gage_eval.agents.sandbox_profiles import SandboxManager

        run_dir = Path(resources.run_dir) if resources.run_dir is not None else None
        resources.extra["sandboxes"] = SandboxManager(cfg.sandbox_profiles, run_dir,
                                                      run_dir.name if run_dir is not None else "gage")
    adapters: dict[str, RoleAdapter] = {}
    replayed = replayed_only_adapters(cfg)
    for i, spec in enumerate(cfg.role_adapters):
        if spec.adapter_id in replayed:
            continue
        cls = registry.get("roles", spec.role_type, config_path=f"role_adapters[{i}].role_type")
        adapters[spec.adapter_id] = cls(spec, resources, f"role_adapters[{i}]")
    return adapters


@dataclass
class TaskPlan:
    task_id: str
    dataset: DatasetSpec
    dataset_path: str
    steps: list[StepSpec]
    metric_specs: list[MetricSpec]
    concurrency: int
    prefetch_factor: int
    max_inflight: int
    max_samples: int | float | None  # a float in (0, 1) is a share of the dataset
    failure_policy: str
    reporting: ReportingSpec | None = None
    metrics: list[Metric] = field(default_factory=list)


def plan_tasks(cfg: PipelineConfig, settings: RunSettings) -> list[TaskPlan]:
    datasets = {d.dataset_id: (i, d) for i, d in enumerate(cfg.datasets)}
    metrics_by_id = {m.metric_id: (i, m) for i, m in enumerate(cfg.metrics)}
    ex = cfg.execution

    def pick(cli: Any, task: Any, run: Any, default: Any) -> Any:
        return next((v for v in (cli, task, run) if v is not None), default)

    plans: list[TaskPlan] = []
    if cfg.tasks:
        entries = [(t.task_id, t.dataset_id, t.steps, t.metric_overrides, t, t.reporting) for t in cfg.tasks]
    else:
        if settings.dataset_id is not None and settings.dataset_id not in datasets:
            from gage_eval.errors import close_match_hint
            raise ConfigError(f"unknown dataset '{settings.dataset_id}'", path="--dataset-id",
                              fix=close_match_hint(settings.dataset_id, datasets))
        dataset_id = settings.dataset_id or cfg.datasets[0].dataset_id
        task_id = cfg.metadata.name if cfg.metadata.name != "unnamed" else dataset_id
        entries = [(task_id, dataset_id, None, None, None, None)]
    for task_id, dataset_id, steps, overrides, task, reporting in entries:
        index, dataset = datasets[dataset_id]
        specs = [metrics_by_id[r.metric_id][1] for r in overrides] if overrides is not None else list(cfg.metrics)
        concurrency = pick(settings.concurrency, task and task.concurrency, ex.concurrency,
                           DEFAULT_CONCURRENCY)
        prefetch = pick(settings.prefetch_factor, task and task.prefetch_factor, ex.prefetch_factor,
                        DEFAULT_PREFETCH)
        plans.append(TaskPlan(
            task_id=task_id, dataset=dataset, dataset_path=f"datasets[{index}]",
            steps=steps if steps is not None else cfg.custom.steps,
            metric_specs=specs, concurrency=concurrency, prefetch_factor=prefetch,
            max_inflight=pick(settings.max_inflight, task and task.max_inflight, ex.max_inflight,
                              concurrency * (prefetch + 1)),
            max_samples=pick(settings.max_samples, task and task.max_samples, ex.max_samples, None),
            failure_policy=pick(settings.failure_policy, task and task.failure_policy, ex.failure_policy, "graceful"),
            reporting=reporting))
    for plan in plans:
        plan.metrics = [build_metric(spec, f"metrics[{metrics_by_id[spec.metric_id][0]}]") for spec in plan.metric_specs]
    return plans


def aggregations(plan: TaskPlan) -> dict[str, str]:
    out = {}
    for spec in plan.metric_specs:
        agg = spec.aggregation
        out[spec.metric_id] = agg if isinstance(agg, str) else (agg or {}).get("type", "mean")
    return out

