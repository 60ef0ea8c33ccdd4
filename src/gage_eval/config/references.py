"""Resolve and check every id reference of a PipelineConfig once (spec §4.1.1)."""
from __future__ import annotations

from gage_eval.config.models import PipelineConfig, StepSpec
from gage_eval.errors import ConfigError, close_match_hint

MODEL_ROLES = {"dut_model", "helper_model", "judge_model", "dut_agent"}


def _check_unique(ids: list[str | None], section: str, key: str, file: str | None) -> None:
    seen: dict[str, int] = {}
    for index, value in enumerate(ids):
        if value is None:
            continue
        if value in seen:
            raise ConfigError(f"duplicate {key} '{value}' (also {section}[{seen[value]}])", file=file,
                              path=f"{section}[{index}].{key}", fix=f"give every entry of {section} a distinct {key}")
        seen[value] = index


def _ref(value: str | None, known: dict[str, int], what: str, path: str, file: str | None) -> None:
    if value is not None and value not in known:
        raise ConfigError(f"unknown {what} '{value}'", file=file, path=path, fix=close_match_hint(value, known))


def _infer_inference_adapters(cfg: PipelineConfig, steps: list[StepSpec], base: str, file: str | None,
                              implicit: bool = False) -> None:
    """Spec §4.6: an inference step without adapter_id uses the only dut_model adapter, if there is exactly one."""
    duts = [a.adapter_id for a in cfg.role_adapters if a.role_type == "dut_model"]
    for i, step in enumerate(steps):
        if step.adapter_id is not None:
            continue
        if step.step == "inference":
            if len(duts) != 1:
                which = " of the default steps (inference, auto_eval)" if implicit else ""
                raise ConfigError(
                    f"the inference step{which} has no adapter_id; it is inferred only when exactly one "
                    f"dut_model adapter exists, and there are {len(duts)}{' (' + ', '.join(duts) + ')' if duts else ''}",
                    file=file, path="role_adapters" if implicit and not duts else f"{base}[{i}].adapter_id",
                    fix=(f"set adapter_id to one of: {', '.join(duts)}" if duts else
                         "declare a role adapter with role_type: dut_model"))
            step.adapter_id = duts[0]
        elif step.step in ("support", "judge", "arena"):
            known = ", ".join(a.adapter_id for a in cfg.role_adapters) or "(none defined)"
            raise ConfigError(f"{step.step} step needs an adapter_id", file=file, path=f"{base}[{i}].adapter_id",
                              fix=f"name the role adapter that performs this step (adapters: {known})")


def resolve_references(cfg: PipelineConfig, file: str | None = None) -> PipelineConfig:
    """Check all id references in place; infer the inference adapter where the spec allows it."""
    for section, key in (("datasets", "dataset_id"), ("backends", "backend_id"), ("role_adapters", "adapter_id"),
                         ("prompts", "prompt_id"), ("metrics", "metric_id"), ("tasks", "task_id")):
        _check_unique([getattr(item, key) or None for item in getattr(cfg, section)], section, key, file)

    from gage_eval.games.schedule import link_game_datasets

    link_game_datasets(cfg, file)  # a game arena's schedule is its dataset (one sample per game)
    if not cfg.datasets:
        raise ConfigError("no datasets defined", file=file, path="datasets",
                          fix="declare at least one dataset (loader: jsonl with params.path, or loader: hf_hub)")
    datasets = {d.dataset_id: i for i, d in enumerate(cfg.datasets)}
    backends = {b.backend_id: i for i, b in enumerate(cfg.backends) if b.backend_id}
    adapters = {a.adapter_id: i for i, a in enumerate(cfg.role_adapters)}
    prompts = {p.prompt_id: i for i, p in enumerate(cfg.prompts)}
    metrics = {m.metric_id: i for i, m in enumerate(cfg.metrics)}

    for i, b in enumerate(cfg.backends):
        if not b.backend_id:
            raise ConfigError("backend without backend_id", file=file, path=f"backends[{i}].backend_id",
                              fix="give the backend an id, or declare it inline on a role adapter")
    for i, a in enumerate(cfg.role_adapters):
        _ref(a.backend_id, backends, "backend_id", f"role_adapters[{i}].backend_id", file)
        _ref(a.prompt_id, prompts, "prompt_id", f"role_adapters[{i}].prompt_id", file)
        if a.role_type in MODEL_ROLES and not (a.backend_id or a.backend):
            raise ConfigError(f"{a.role_type} adapter '{a.adapter_id}' has no backend", file=file,
                              path=f"role_adapters[{i}]",
                              fix="add backend_id: <id from backends> or an inline backend: {type: ...}")

    def check_steps(steps: list[StepSpec], base: str, implicit: bool = False) -> None:
        _infer_inference_adapters(cfg, steps, base, file, implicit)
        for j, step in enumerate(steps):
            _ref(step.adapter_id, adapters, "adapter_id", f"{base}[{j}].adapter_id", file)

    dist = cfg.execution.distributed
    for key in dist.endpoints if dist else ():
        inline = {a.adapter_id for a in cfg.role_adapters if a.backend is not None}
        _ref(key, {**backends, **dict.fromkeys(inline, 0)}, "backend_id",
             f"execution.distributed.endpoints.{key}", file)

    implicit = not cfg.custom.steps
    if implicit:
        cfg.custom.steps = [StepSpec(step="inference"), StepSpec(step="auto_eval")]  # the builtin flow
    # The default chain is checked only where it is used: tasks that all give their own steps do not need it.
    if not implicit or not cfg.tasks or any(task.steps is None for task in cfg.tasks):
        check_steps(cfg.custom.steps, "custom.steps", implicit)
    for i, task in enumerate(cfg.tasks):
        _ref(task.dataset_id, datasets, "dataset_id", f"tasks[{i}].dataset_id", file)
        if task.steps is not None:
            check_steps(task.steps, f"tasks[{i}].steps")
        for j, ref in enumerate(task.metric_overrides or []):
            _ref(ref.metric_id, metrics, "metric_id", f"tasks[{i}].metric_overrides[{j}].metric_id", file)
    return cfg
