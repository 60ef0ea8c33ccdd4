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
from gage_eval.config.models import PipelineConfig, SampleLimit
from gage_eval.config.quick_dataset_args import (
    apply_adapter_params,
    apply_dataset_args,
    local_copy,
)
from gage_eval.config.templates import available_templates, find_template, load_template
from gage_eval.errors import ConfigError, close_match_hint

API_KEY_ENV = "GAGE_QUICK_API_KEY"  # a name in settings.secrets, filled from --api-key, not read from os.environ
# EvalScope's dataset_args keys -> where they go in our dataset spec.
_GENERIC_PREPROCESS = (None, "default", "multi_choice")  # the others are benchmark preprocessors (take `style`)
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
    judge_model_args: dict[str, Any] = Field(default_factory=dict)
    generation_config: dict[str, Any] = Field(default_factory=dict)
    dataset_args: dict[str, dict[str, Any]] = Field(default_factory=dict)
    template_type: Literal["chat", "completion", "base"] | None = None
    apply_chat_template: bool = False  # lm-eval's --apply_chat_template (with its default fewshot_as_multiturn)
    eval_mode: Literal["auto", "loglikelihood", "generate"] = "auto"
    limit: SampleLimit | None = None  # N, or a fraction in (0, 1); 0 is refused: --dry-run shows the pipeline
    # per_subject (default): on benchmarks whose template sets params.limit_per (MMLU, CMMLU, C-Eval) the limit
    # counts per subject, as lm-eval's --limit counts per sub-task; total: the first N of the concatenated set.
    limit_mode: Literal["per_subject", "total"] | None = None
    dataset_dir: str | None = None  # local copies: <dataset_dir>/<benchmark> or <dataset_dir>/<hub id>
    eval_batch_size: int | None = Field(default=None, ge=1)
    use_cache: bool | str = False
    work_dir: str | None = None
    run_id: str | None = None
    seed: int | None = None
    timeout: float | None = Field(default=None, gt=0)
    # gage's own: start a server for the checkpoint (a launch preset or a command template) and evaluate over HTTP
    serve: str | None = None
    serve_args: dict[str, Any] = Field(default_factory=dict)  # more launch settings (port, ready_timeout_s, ...)
    # gage's own: LiveBench's --livebench-release-option (YYYY-MM-DD, latest or all) for the livebench benchmark
    livebench_release: str | None = None

    @field_validator("datasets", mode="before")
    @classmethod
    def _split_names(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):  # `--datasets a,b` and `--datasets a b` alike
            value = [name for item in value for name in (item.replace(",", " ").split() if isinstance(item, str)
                                                          else [item])]
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
            raise ConfigError(f"not valid JSON: {exc.msg} (column {exc.colno})", path=what,
                              fix="write a JSON object, e.g. '{\"mmlu\": {\"few_shot_num\": 5}}'") from None
        if not isinstance(value, dict):
            raise ConfigError("must be a JSON object", path=what, fix="wrap it in {...}")
        return value
    out: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, raw = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"'{part}' is not key=value", path=what,
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
    if task.serve:
        return served_backend_spec(task, args)
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


def served_backend_spec(task: QuickTask, args: dict[str, Any]) -> dict[str, Any]:
    """`--serve`: an openai_http backend on a server gage launches for the checkpoint. Completions, as a local
    checkpoint is evaluated (plain prompts, log-likelihoods through echo + logprobs); chat with
    --template-type chat."""
    from gage_eval.serving.launch import LaunchConfig

    if task.api_url or task.model.startswith(("http://", "https://")):
        raise ConfigError("--serve starts a server for a checkpoint, and --model is already a served URL",
                          path="serve", fix="give --model a checkpoint folder, or drop --serve")
    preset = task.serve if task.serve in ("vllm", "sglang", "tgi", "gage") else None
    launch: dict[str, Any] = {"model_path": task.model, **task.serve_args}
    launch.update({"preset": preset} if preset else {"command": task.serve})
    if preset == "gage" and task.eval_batch_size:
        launch.setdefault("batch_size", task.eval_batch_size)
    try:
        LaunchConfig.model_validate(launch)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise ConfigError(f"invalid --serve/--serve-args: {err['msg'].removeprefix('Value error, ')}", path="serve",
                          fix="--serve vllm | sglang | tgi | gage, or a command template such as "
                              "'my-server --model {model_path} --port {port}'") from None
    config = {"model": args.pop("model", None) or task.model_id or task.model,
              "api": args.pop("api", _served_api(task)), **args}
    if task.timeout:
        config["timeout_s"] = task.timeout
    return {"backend_id": "model", "type": "openai_http", "config": config, "launch": launch}


def _served_api(task: QuickTask) -> str:
    """Completions when a benchmark is scored by log-likelihood (only completions echo the prompt's logprobs);
    otherwise chat, so the server applies the checkpoint's chat template as the in-process hf backend does."""
    if task.template_type in ("base", "completion"):
        return "completions"
    if task.template_type == "chat" or task.eval_mode == "generate":
        return "chat"
    for i, name in enumerate(task.datasets):
        adapters = _template_definition(name, i).get("role_adapters") or []
        duts = [a for a in adapters if _under_test(a.get("role_type"))]
        wanted = task.dataset_args.get(name, {}).get("eval_mode", task.eval_mode)
        if wanted != "generate" and any((d.get("params") or {}).get("mode") == "loglikelihood" for d in duts):
            return "completions"
    return "chat"


def _template_definition(name: str, index: int) -> dict[str, Any]:
    templates = available_templates()
    if name not in templates:
        raise ConfigError(f"unknown benchmark '{name}'", path=f"datasets[{index}]",
                          fix=close_match_hint(name, templates, label="known benchmarks") + " (`gage list benchmarks`)")
    template = load_template(find_template(name))
    definition = copy.deepcopy(template.definition)
    definition["_version"] = f"{name}@{template.metadata.version}"
    return definition


def _under_test(role_type: Any) -> bool:
    """dut_model, or an agent role answering for the model under test (its class says `under_test`)."""
    from gage_eval.registry import registry

    if role_type == "dut_model":
        return True
    try:
        cls = registry.get("roles", str(role_type))
    except ConfigError:
        return False
    return bool(getattr(cls, "under_test", False))


def _run_wide(name: str) -> bool:
    from gage_eval.registry import registry

    try:
        return bool(getattr(registry.get("summary_generators", name), "run_wide", False))
    except ConfigError:
        return False


def _check_generation_supported(name: str, index: int, ds: dict[str, Any], backend: dict[str, Any]) -> None:
    from gage_eval.registry import registry

    preprocess = (ds.get("params") or {}).get("preprocess")
    cls = registry.get("dataset_preprocessors", preprocess) if preprocess else None
    if cls is not None and getattr(cls, "supports_generation", True) is False:
        raise ConfigError(f"benchmark '{name}' is scored by log-likelihoods only, and this run would generate "
                          f"answers ({backend['type']} backend)", path=f"datasets[{index}]",
                          fix="use a local checkpoint or a completions endpoint (--model-args api=completions) "
                              "without --eval-mode generate; truthfulqa_gen scores generated answers with a judge")


def _is_chat_endpoint(backend: dict[str, Any]) -> bool:
    return backend["type"] == "openai_http" and backend["config"].get("api", "chat") == "chat"


def _eval_mode(task: QuickTask, backend: dict[str, Any], dut: dict[str, Any], args: dict[str, Any]) -> str:
    wanted = args.get("eval_mode", task.eval_mode)
    template_mode = (dut.get("params") or {}).get("mode")
    if template_mode != "loglikelihood":
        return "generate"
    # Chat endpoints return no prompt log-probabilities; local checkpoints and completions endpoints
    # (echo + logprobs, as vLLM serves base models) do.
    if wanted == "auto":
        scores = backend["type"] == "hf" or (backend["type"] == "openai_http" and not _is_chat_endpoint(backend))
        return "loglikelihood" if scores else "generate"
    if wanted == "loglikelihood" and _is_chat_endpoint(backend):
        raise ConfigError("loglikelihood scoring needs a completions endpoint: chat endpoints do not return the "
                          "prompt's log-probabilities", path="eval_mode", fix="pass --model-args api=completions "
                          "(or an --api-url ending in /completions) for a base model served by vLLM, or "
                          "--eval-mode generate")
    return wanted


def _generation_style(task: QuickTask, backend: dict[str, Any]) -> str:
    """Chat turns for chat models; one completion prompt for base models (template_type base/completion);
    lm-eval's prompts as chat turns with --apply-chat-template."""
    if task.template_type in ("base", "completion"):
        return "completion"
    if task.template_type == "chat":
        return "chat"
    if task.apply_chat_template:
        return "lm_eval_chat"
    # Unset: an HTTP chat endpoint is a chat model; a completions endpoint or a local checkpoint is scored
    # the way lm-eval scores base models, on the plain prompt.
    return "chat" if _is_chat_endpoint(backend) else "completion"


def _prompt_format(task: QuickTask, backend: dict[str, Any]) -> str | None:
    """lm-eval's rule for local checkpoints, whatever the template: the plain prompt, and the tokenizer's chat
    template only when asked for (--apply-chat-template, or --template-type chat). None: the template decides
    (HTTP chat endpoints template messages server-side, completions endpoints take the plain prompt)."""
    if task.apply_chat_template and task.template_type in ("base", "completion"):
        raise ConfigError(f"--apply-chat-template contradicts --template-type {task.template_type}",
                          path="apply_chat_template", fix="drop one of them")
    if backend["type"] == "hf":
        return "chat_template" if task.apply_chat_template or task.template_type == "chat" else "plain"
    if task.apply_chat_template and backend["type"] == "openai_http" and not _is_chat_endpoint(backend):
        raise ConfigError("--apply-chat-template needs the model's tokenizer, which a completions endpoint does "
                          "not expose", path="apply_chat_template",
                          fix="use the chat endpoint (it applies the template itself), or a local checkpoint")
    return "chat_template" if task.apply_chat_template else None


def judge_backend_spec(task: QuickTask) -> dict[str, Any] | None:
    """EvalScope's judge_model_args ({api_url, model_id, api_key_env, ...}) as the `judge` backend."""
    args = dict(task.judge_model_args)
    if not args:
        return None
    url = args.pop("api_url", None) or args.pop("base_url", None)
    name = args.pop("model_id", None) or args.pop("model", None)
    if not url or not name:
        raise ConfigError("judge_model_args needs api_url and model_id", path="judge_model_args",
                          fix='pass --judge-model-args \'{"api_url": "http://host:port/v1", "model_id": "NAME"}\'')
    args.pop("api_key", None)  # keys come from the environment (api_key_env), never from arguments
    return {"backend_id": "judge", "type": "openai_http", "config": {"base_url": url.rstrip("/"), "model": name,
                                                                     **args}}


def _add_benchmark(pipeline: dict[str, Any], task: QuickTask, name: str, i: int, generation: dict[str, Any],
                   metric_ids: dict[str, dict[str, Any]]) -> None:
    backend = pipeline["backends"][0]
    definition = _template_definition(name, i)
    pipeline["metadata"]["templates"].append(definition.pop("_version"))
    args = task.dataset_args.get(name, {})
    datasets = definition.get("datasets") or []
    adapters = copy.deepcopy(definition.get("role_adapters") or [])
    duts = [a for a in adapters if _under_test(a.get("role_type"))]
    if len(datasets) != 1 or len(duts) != 1:
        raise ConfigError(f"benchmark '{name}' is not a single-dataset, single-model template", path=f"datasets[{i}]",
                          fix="run it with `gage run` and a RunConfig instead")
    ds = copy.deepcopy(datasets[0])
    ds["dataset_id"] = name
    if not (args.get("local_path") or args.get("dataset_dir")):
        local = local_copy(task.dataset_dir, name, ds)
        if local:
            ds.setdefault("params", {})["path"] = local
    apply_dataset_args(ds, args, f"dataset_args.{name}")
    apply_adapter_params(adapters, args.get("adapter_params"), f"dataset_args.{name}.adapter_params")
    if task.livebench_release and ds.get("params", {}).get("preprocess") == "livebench":
        kwargs = ds["params"].setdefault("preprocess_kwargs", {})
        if "release" not in (args.get("preprocess_kwargs") or {}):  # an explicit dataset_args value wins
            kwargs["release"] = task.livebench_release
    dut = duts[0]
    params = dut.setdefault("params", {})
    prompt_format = _prompt_format(task, backend)
    if "images" in (dut.get("capabilities") or []):
        # Images travel in chat messages; a plain text prompt would drop them. lm-eval's plain-prompt rule is for
        # text benchmarks: vision benchmarks are run as lmms-eval runs them, through the model's chat template.
        if backend["type"] == "openai_http" and not _is_chat_endpoint(backend):
            raise ConfigError(f"benchmark '{name}' sends images, which a completions endpoint cannot take",
                              path=f"datasets[{i}]", fix="use the chat endpoint (--model-args api=chat)")
        prompt_format = "chat_template" if prompt_format else None
    if prompt_format:
        params["prompt_format"] = prompt_format
    if _eval_mode(task, backend, dut, args) == "loglikelihood":
        params["mode"] = "loglikelihood"
        if prompt_format == "chat_template" and ds.get("params", {}).get("preprocess") not in _GENERIC_PREPROCESS:
            # lm-eval's contexts as turns; the continuations lose the target delimiter
            ds["params"].setdefault("preprocess_kwargs", {}).setdefault("style", "lm_eval_chat")
    else:
        _check_generation_supported(name, i, ds, backend)
        style = _generation_style(task, backend)
        if params.get("mode") == "loglikelihood":
            # Multiple choice answered in text: only the chat-style prompt lists the lettered options (the
            # completion-style one of ARC / HellaSwag / PIQA is lm-eval's continuation prompt).
            params.pop("mode")
            style = "chat"
        if style == "chat" and params.get("mode") == "completion":
            # Code templates continue a prompt and stop at the next "\ndef"; a chat model answers with the whole
            # function (often fenced), which those stop strings would cut off.
            params.pop("mode")
            params["generation"] = {k: v for k, v in params.get("generation", {}).items() if k != "stop"}
        if ds["params"].get("preprocess") not in _GENERIC_PREPROCESS:  # benchmark preprocessors
            ds["params"].setdefault("preprocess_kwargs", {}).setdefault("style", style)
    params["generation"] = {**params.get("generation", {}), **generation}
    # Backends: the dut's is the user's model, `judge` is the shared judge; others stay per benchmark.
    backend_ids = {"model": "model", "judge": "judge"}
    for spec in definition.get("backends") or []:
        bid = spec.get("backend_id")
        if bid == "judge":
            if not any(b.get("backend_id") == "judge" for b in pipeline["backends"]):
                if spec.get("type") == "dummy":
                    raise ConfigError(f"benchmark '{name}' is scored by a judge model, and none was given",
                                      path="judge_model_args", fix='pass --judge-model-args \'{"api_url": '
                                      '"http://host:port/v1", "model_id": "NAME"}\'')
                pipeline["backends"].append(copy.deepcopy(spec))
        elif bid not in (None, "model") and any(a.get("backend_id") == bid for a in adapters if a is not dut):
            backend_ids[bid] = f"{bid}_{name}"
            pipeline["backends"].append({**copy.deepcopy(spec), "backend_id": backend_ids[bid]})
    prompt_ids = {}
    for spec in definition.get("prompts") or []:
        prompt_ids[spec["prompt_id"]] = f"{spec['prompt_id']}_{name}"
        pipeline.setdefault("prompts", []).append({**copy.deepcopy(spec), "prompt_id": prompt_ids[spec["prompt_id"]]})
    renamed = {}
    for adapter in adapters:
        if adapter.get("prompt_id") in prompt_ids:
            adapter["prompt_id"] = prompt_ids[adapter["prompt_id"]]
        renamed[adapter["adapter_id"]] = new_id = f"{adapter['adapter_id']}_{name}"
        adapter["adapter_id"] = new_id
        if adapter is dut:
            adapter["backend_id"] = "model"
            adapter.pop("backend", None)
        elif adapter.get("backend_id"):
            adapter["backend_id"] = backend_ids.get(adapter["backend_id"], adapter["backend_id"])
        pipeline["role_adapters"].append(adapter)
    pipeline["datasets"].append(ds)
    steps = copy.deepcopy((definition.get("custom") or {}).get("steps") or
                          [{"step": "inference", "adapter_id": dut["adapter_id"]}, {"step": "auto_eval"}])
    for step in steps:
        if step.get("adapter_id") in renamed:
            step["adapter_id"] = renamed[step["adapter_id"]]
    refs = []
    for entry in definition.get("metrics", []):
        entry = normalize_metric_entry(entry)
        metric_id = entry["metric_id"]
        if metric_id in metric_ids and metric_ids[metric_id] != entry:
            # Same metric, other parameters (e.g. acc only for TruthfulQA MC1): give this benchmark its own id.
            metric_id = f"{metric_id}_{name}"
            entry = {**entry, "metric_id": metric_id}
        metric_ids[metric_id] = entry
        refs.append(metric_id)
    for gen in definition.get("summary_generators") or []:
        gen = {"name": gen, "params": {}} if isinstance(gen, str) else copy.deepcopy(gen)
        if _run_wide(gen["name"]):  # one section over every task (BFCL's leaderboard combines its categories)
            if not any(g["name"] == gen["name"] for g in pipeline.get("summary_generators", [])):
                pipeline.setdefault("summary_generators", []).append(gen)
            continue
        gen.setdefault("params", {})["task_id"] = name  # run-level sections see every task's records
        pipeline.setdefault("summary_generators", []).append(gen)
    task_spec: dict[str, Any] = {"task_id": name, "dataset_id": name, "steps": steps, "metric_overrides": refs}
    if task.limit is not None:
        task_spec["max_samples"] = task.limit
    if task.limit_mode == "total":
        ds.get("params", {}).pop("limit_per", None)
    pipeline["tasks"].append(task_spec)


def compile_quick(task: QuickTask) -> dict[str, Any]:
    """The PipelineConfig (as a dict, validated) that `gage eval` runs for these settings."""
    unknown_args = [n for n in task.dataset_args if n not in task.datasets]
    if unknown_args:
        raise ConfigError(f"dataset_args names '{unknown_args[0]}', which is not among the datasets",
                          path=f"dataset_args.{unknown_args[0]}", fix=close_match_hint(unknown_args[0], task.datasets))
    if task.livebench_release is not None:
        _check_livebench_release(task)
    generation = generation_params(task.generation_config)
    if task.seed is not None:
        generation.setdefault("seed", task.seed)
    judge = judge_backend_spec(task)
    pipeline: dict[str, Any] = {"api_version": "gage/v1alpha1", "kind": "PipelineConfig",
                                "metadata": {"name": "eval_" + "_".join(task.datasets)[:80], "templates": []},
                                "datasets": [], "backends": [backend_spec(task), *([judge] if judge else [])],
                                "role_adapters": [], "metrics": [], "tasks": []}
    metric_ids: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(dict.fromkeys(task.datasets)):
        _add_benchmark(pipeline, task, name, i, generation, metric_ids)
    pipeline["metrics"] = list(metric_ids.values())
    model = pipeline["backends"][0]
    if model["type"] == "hf":
        # EvalScope's eval_batch_size is the local model's batch size. Keep enough samples in flight to fill
        # batches (a multiple-choice sample brings several continuations, a generation one prompt) and to
        # tokenise the next batch while one runs; more would only wait in the backend's queue, inflating
        # each sample's latency (8 in flight at batch 1 made one generation look 4-8x slower than it was).
        batch = task.eval_batch_size or int(model["config"].get("batch_size") or 8)
        model["config"].setdefault("batch_size", batch)
        # Every dut says which prompt it sends (_prompt_format); the tokenizer follows, so that messages of a
        # template without `mode: completion` are never silently wrapped in a chat template.
        # Vision benchmarks only: the processor's chat template places the images (None = use it when there is one).
        multimodal = all("images" in (a.get("capabilities") or []) for a in pipeline["role_adapters"]
                         if a.get("role_type") == "dut_model")
        model["config"].setdefault("use_chat_template", None if multimodal and task.template_type is None else
                                   task.apply_chat_template or task.template_type == "chat")
        pipeline["execution"] = {"concurrency": 2 * batch}
    elif task.eval_batch_size:
        pipeline["execution"] = {"concurrency": task.eval_batch_size}
    parse_model(PipelineConfig, pipeline, None, note="in the pipeline compiled by quick mode")
    return pipeline


def _check_livebench_release(task: QuickTask) -> None:
    import re

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}|latest|all", task.livebench_release or ""):
        raise ConfigError(f"--livebench-release {task.livebench_release!r} is not a release", path="livebench_release",
                          fix="give a LiveBench release date (YYYY-MM-DD, e.g. 2024-11-25), latest or all")
    def is_livebench(name: str, index: int) -> bool:
        datasets = _template_definition(name, index).get("datasets") or [{}]
        return (datasets[0].get("params") or {}).get("preprocess") == "livebench"

    if not any(is_livebench(name, i) for i, name in enumerate(task.datasets)):
        raise ConfigError("--livebench-release applies to LiveBench, which is not among the datasets",
                          path="livebench_release", fix="add --datasets livebench, or drop --livebench-release")


def quick_task(data: dict[str, Any]) -> QuickTask:
    try:
        return QuickTask.model_validate(data)
    except ValidationError as exc:
        raise validation_to_config_error(exc, None, QuickTask) from None
