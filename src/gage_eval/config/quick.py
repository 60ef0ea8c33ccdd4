"""Quick mode: EvalScope-style task settings compiled into one PipelineConfig.

`gage eval --model M --datasets gsm8k mmlu ...` and `gage_eval.run_task({...})` both build a `QuickTask`
(EvalScope's field names) and call `compile_quick`, so the two paths cannot diverge; `--dry-run` prints
the PipelineConfig they produce. Each dataset name is a builtin benchmark template; its dut is pointed at
the user's model and it becomes one task of the run.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from gage_eval.config.loading import parse_model, validation_to_config_error
from gage_eval.config.metric_forms import normalize_metric_entry
from gage_eval.config.models import PipelineConfig
from gage_eval.config.templates import available_templates, find_template, load_template
from gage_eval.errors import ConfigError, close_match_hint

API_KEY_ENV = "GAGE_EVAL_API_KEY"
# EvalScope's dataset_args keys -> where they go in our dataset spec.
_DATASET_ARG_KEYS = ("few_shot_num", "few_shot_random", "few_shot_seed", "local_path", "dataset_dir", "split",
                     "subset", "system_prompt", "style", "eval_mode", "preprocess_kwargs")
_GENERATION_ALIASES = {"max_new_tokens": "max_tokens", "max_length": "max_tokens"}


class QuickTask(BaseModel):
    """EvalScope TaskConfig field names (the subset that means something here)."""

    model_config = ConfigDict(extra="forbid")

    model: str
    datasets: list[str] = Field(min_length=1)
    model_id: str | None = None
    api_url: str | None = None
    api_key: SecretStr | None = None
    eval_type: Literal["checkpoint", "service", "openai_api", "backend"] | None = None
    model_args: dict[str, Any] = Field(default_factory=dict)
    generation_config: dict[str, Any] = Field(default_factory=dict)
    dataset_args: dict[str, dict[str, Any]] = Field(default_factory=dict)
    template_type: Literal["chat", "completion", "base"] | None = None
    eval_mode: Literal["auto", "loglikelihood", "generate"] = "auto"
    limit: int | None = Field(default=None, ge=0)
    eval_batch_size: int | None = Field(default=None, ge=1)
    use_cache: bool | str = False
    work_dir: str | None = None
    run_id: str | None = None
    seed: int | None = None
    timeout: float | None = Field(default=None, gt=0)

    @field_validator("datasets", mode="before")
    @classmethod
    def _split_names(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        return value


def parse_kv(text: str | None, what: str) -> dict[str, Any]:
    """`a=1,b=false,c=x` or a JSON object -> dict with numbers/booleans decoded."""
    if not text:
        return {}
    text = text.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{what} is not valid JSON: {exc.msg} (column {exc.colno})", path=what,
                              fix="write a JSON object, e.g. '{\"mmlu\": {\"few_shot_num\": 5}}'") from None
        if not isinstance(value, dict):
            raise ConfigError(f"{what} must be a JSON object", path=what, fix="wrap it in {...}")
        return value
    out: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, raw = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{what}: '{part}' is not key=value", path=what,
                              fix="write comma-separated key=value pairs, e.g. do_sample=false,max_new_tokens=512")
        try:
            out[key.strip()] = json.loads(raw.strip())
        except json.JSONDecodeError:
            out[key.strip()] = raw.strip()
    return out


def generation_params(config: dict[str, Any]) -> dict[str, Any]:
    """HF/EvalScope generation settings -> our request params (temperature 0 means greedy)."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key == "do_sample":
            if not value:
                out["temperature"] = 0
            continue
        out[_GENERATION_ALIASES.get(key, key)] = value
    return out


def backend_spec(task: QuickTask) -> dict[str, Any]:
    """The user's model as a backend: local checkpoint (hf), an OpenAI-compatible URL, or a backend type."""
    from gage_eval.registry import registry

    args = dict(task.model_args)
    url = task.api_url or (task.model if task.model.startswith(("http://", "https://")) else None)
    if url or task.eval_type in ("service", "openai_api"):
        if not url:
            raise ConfigError("an OpenAI-compatible service needs its URL", path="api_url",
                              fix="pass --api-url http://host:port/v1 (and --model NAME)")
        name = args.pop("model", None) or task.model_id or (task.model if task.api_url else None)
        if not name:
            raise ConfigError("the served model's name is missing", path="model_id",
                              fix="pass --model NAME with --api-url URL, or --model-id NAME with --model URL")
        base = url.rstrip("/")
        for suffix in ("/chat/completions", "/completions"):
            if base.endswith(suffix):
                args.setdefault("api", "completions" if suffix == "/completions" else "chat")
                base = base[: -len(suffix)]
        config = {"base_url": base, "model": name, **args}
        if task.api_key is not None:
            config["api_key_env"] = API_KEY_ENV
        if task.timeout:
            config["timeout_s"] = task.timeout
        return {"backend_id": "model", "type": "openai_http", "config": config}
    registry.discover()
    if task.eval_type == "backend" or (task.model in {e.name for e in registry.entries("backends")}
                                       and not Path(task.model).exists()):
        return {"backend_id": "model", "type": task.model, "config": args}
    return {"backend_id": "model", "type": "hf", "config": {"model_path": task.model, **args}}


def _template_definition(name: str, index: int) -> dict[str, Any]:
    templates = available_templates()
    if name not in templates:
        raise ConfigError(f"unknown benchmark '{name}'", path=f"datasets[{index}]",
                          fix=close_match_hint(name, templates, label="known benchmarks") + " (`gage list benchmarks`)")
    template = load_template(find_template(name))
    definition = copy.deepcopy(template.definition)
    definition["_version"] = f"{name}@{template.metadata.version}"
    return definition


def _apply_dataset_args(ds: dict[str, Any], args: dict[str, Any], where: str) -> None:
    unknown = [k for k in args if k not in _DATASET_ARG_KEYS]
    if unknown:
        raise ConfigError(f"unknown dataset argument '{unknown[0]}'", path=f"{where}.{unknown[0]}",
                          fix=close_match_hint(unknown[0], _DATASET_ARG_KEYS))
    params = ds.setdefault("params", {})
    kwargs = params.setdefault("preprocess_kwargs", {})
    if "few_shot_num" in args:
        kwargs["num_fewshot"] = int(args["few_shot_num"])
    if "few_shot_random" in args:
        kwargs["fewshot_sampler"] = "random" if args["few_shot_random"] else "first_n"
    if "few_shot_seed" in args:
        kwargs["fewshot_seed"] = int(args["few_shot_seed"])
    for key in ("system_prompt", "style"):
        if key in args:
            kwargs[key] = args[key]
    kwargs.update(args.get("preprocess_kwargs") or {})
    local = args.get("local_path") or args.get("dataset_dir")
    if local:
        params["path"] = str(local)
    for key in ("split", "subset"):
        if key in args:
            ds.setdefault("hub_params", {})[key] = args[key]
    if not kwargs:
        params.pop("preprocess_kwargs")


def _eval_mode(task: QuickTask, backend: dict[str, Any], dut: dict[str, Any], args: dict[str, Any]) -> str:
    wanted = args.get("eval_mode", task.eval_mode)
    template_mode = (dut.get("params") or {}).get("mode")
    if template_mode != "loglikelihood":
        return "generate"
    if wanted == "auto":
        # Chat endpoints return no prompt log-probabilities; local checkpoints do.
        return "loglikelihood" if backend["type"] == "hf" else "generate"
    return wanted


def _generation_style(task: QuickTask, backend: dict[str, Any]) -> str:
    """Chat turns for chat models; one completion prompt for base models (template_type base/completion)."""
    if task.template_type in ("base", "completion"):
        return "completion"
    if task.template_type == "chat":
        return "chat"
    # Unset: an HTTP chat endpoint is a chat model; a completions endpoint or a local checkpoint is scored
    # the way lm-eval scores base models, on the plain prompt.
    is_chat_api = backend["type"] == "openai_http" and backend["config"].get("api", "chat") == "chat"
    return "chat" if is_chat_api else "completion"


def compile_quick(task: QuickTask) -> dict[str, Any]:
    """The PipelineConfig (as a dict, validated) that `gage eval` runs for these settings."""
    unknown_args = [n for n in task.dataset_args if n not in task.datasets]
    if unknown_args:
        raise ConfigError(f"dataset_args names '{unknown_args[0]}', which is not among the datasets",
                          path=f"dataset_args.{unknown_args[0]}", fix=close_match_hint(unknown_args[0], task.datasets))
    backend = backend_spec(task)
    generation = generation_params(task.generation_config)
    if task.seed is not None:
        generation.setdefault("seed", task.seed)
    pipeline: dict[str, Any] = {"api_version": "gage/v1alpha1", "kind": "PipelineConfig",
                                "metadata": {"name": "eval_" + "_".join(task.datasets)[:80], "templates": []},
                                "datasets": [], "backends": [backend], "role_adapters": [], "metrics": [],
                                "tasks": []}
    metric_ids: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(dict.fromkeys(task.datasets)):
        definition = _template_definition(name, i)
        pipeline["metadata"]["templates"].append(definition.pop("_version"))
        args = task.dataset_args.get(name, {})
        datasets = definition.get("datasets") or []
        duts = [a for a in definition.get("role_adapters", []) if a.get("role_type") == "dut_model"]
        if len(datasets) != 1 or len(duts) != 1:
            raise ConfigError(f"benchmark '{name}' is not a single-dataset, single-model template", path=f"datasets[{i}]",
                              fix="run it with `gage run` and a RunConfig instead")
        ds = copy.deepcopy(datasets[0])
        ds["dataset_id"] = name
        _apply_dataset_args(ds, args, f"dataset_args.{name}")
        dut = copy.deepcopy(duts[0])
        dut_id = f"dut_{name}"
        dut.update(adapter_id=dut_id, backend_id="model")
        dut.pop("backend", None)
        params = dut.setdefault("params", {})
        if _eval_mode(task, backend, dut, args) == "loglikelihood":
            params["mode"] = "loglikelihood"
        else:
            params.pop("mode", None)
            if ds["params"].get("preprocess") not in (None, "default", "multi_choice"):  # benchmark preprocessors
                ds["params"].setdefault("preprocess_kwargs", {}).setdefault("style", _generation_style(task, backend))
        params["generation"] = {**params.get("generation", {}), **generation}
        pipeline["datasets"].append(ds)
        pipeline["role_adapters"].append(dut)
        steps = copy.deepcopy((definition.get("custom") or {}).get("steps") or
                              [{"step": "inference", "adapter_id": dut_id}, {"step": "auto_eval"}])
        for step in steps:
            if step.get("adapter_id") == duts[0]["adapter_id"]:
                step["adapter_id"] = dut_id
        refs = []
        for entry in definition.get("metrics", []):
            entry = normalize_metric_entry(entry)
            metric_id = entry["metric_id"]
            if metric_id in metric_ids and metric_ids[metric_id] != entry:
                raise ConfigError(f"benchmarks define metric '{metric_id}' differently", path=f"datasets[{i}]",
                                  fix="evaluate these benchmarks in separate runs")
            metric_ids[metric_id] = entry
            refs.append(metric_id)
        task_spec: dict[str, Any] = {"task_id": name, "dataset_id": name, "steps": steps, "metric_overrides": refs}
        if task.limit is not None:
            task_spec["max_samples"] = task.limit
        pipeline["tasks"].append(task_spec)
    pipeline["metrics"] = list(metric_ids.values())
    if task.eval_batch_size:
        pipeline["execution"] = {"concurrency": task.eval_batch_size}
    parse_model(PipelineConfig, pipeline, None, note="in the pipeline compiled by quick mode")
    return pipeline


def quick_task(data: dict[str, Any]) -> QuickTask:
    try:
        return QuickTask.model_validate(data)
    except ValidationError as exc:
        raise validation_to_config_error(exc, None, QuickTask) from None
