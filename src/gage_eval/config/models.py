"""Pydantic models of the pipeline configuration (spec §4). Validated once, at the edge."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from gage_eval.config.metric_forms import normalize_metric_entry
from gage_eval.errors import close_match_hint
from gage_eval.serving.launch import LaunchConfig



def _sample_limit(value: object) -> object:
    """A whole number >= 1, or a fraction in (0, 1) of the dataset (lm-eval's `--limit 0.1`, EvalScope's float
    limit). 5.0 is 5; 0 and 1.5 are errors."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise PydanticCustomError("sample_limit", "expected a whole number >= 1 or a fraction between 0 "
                                          "and 1, got {value!r}", {"value": value}) from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value  # left to the int | float schema's own error
    if isinstance(value, int) and value >= 1 or isinstance(value, float) and 0 < value < 1:
        return value
    raise PydanticCustomError("sample_limit", "a sample limit is a whole number >= 1 (the first N) or a fraction "
                              "between 0 and 1 (that share of the dataset, rounded up), got {value!r}",
                              {"value": value})


# How many samples of a dataset to run: N >= 1, or a fraction in (0, 1) of it.
SampleLimit = Annotated[int | float, BeforeValidator(_sample_limit)]

StepType = Literal["support", "inference", "judge", "auto_eval", "arena", "report"]
FailurePolicy = Literal["fail_fast", "graceful", "best_effort"]


class Strict(BaseModel):
    """Unknown fields are errors: a typo must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _invalid(message: str, fix: str) -> PydanticCustomError:
    """A validation error whose fix reaches the user's message (see loading.validation_to_config_error)."""
    return PydanticCustomError("config_value", "{reason}", {"reason": message, "fix": fix})


def _from_str(key: str, model: type) -> BeforeValidator:
    """Accept a bare string as shorthand for ``{key: string}`` (and say so in the JSON Schema)."""
    return BeforeValidator(lambda v: {key: v} if isinstance(v, str) else v,
                           json_schema_input_type=str | model)


class Metadata(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = "unnamed"
    description: str = ""


class StepSpec(Strict):
    step: StepType
    adapter_id: str | None = Field(default=None, validation_alias=AliasChoices("adapter_id", "role_ref"))
    params: dict[str, Any] = Field(default_factory=dict)


class CustomSpec(Strict):
    steps: list[StepSpec] = Field(default_factory=list)


class HubParams(Strict):
    hub_id: str | None = None
    subset: str | None = None
    split: str = "test"
    revision: str | None = None
    trust_remote_code: bool = False


class DatasetSpec(Strict):
    dataset_id: str
    loader: str = "jsonl"
    hub: str | None = None
    hub_params: HubParams = Field(default_factory=HubParams)
    params: dict[str, Any] = Field(default_factory=dict)
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")


class BackendSpec(Strict):
    backend_id: str | None = None
    type: str
    config: dict[str, Any] = Field(default_factory=dict)
    launch: LaunchConfig | None = None  # a model server gage starts for this (HTTP) backend: gage_eval.serving


class RoleAdapterSpec(Strict):
    adapter_id: str
    role_type: str
    backend_id: str | None = None
    backend: BackendSpec | None = None
    prompt_id: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    capabilities: list[str] = Field(default_factory=list)
    pool_size: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_backend(self) -> RoleAdapterSpec:
        if self.backend_id and self.backend:
            raise _invalid("both backend_id and an inline backend are given",
                           "keep one: backend_id to reference backends[], or backend: {type: ...} inline")
        return self

    @property
    def scores_loglikelihood(self) -> bool:
        """Multiple choice scored by the log-likelihood of each option (lm-eval's `multiple_choice`)."""
        return "loglikelihood" in self.capabilities or self.params.get("mode") == "loglikelihood"


class PromptSpec(Strict):
    prompt_id: str
    renderer: Literal["jinja2", "format"] = "jinja2"
    template: str | None = None
    messages: list[dict[str, str]] | None = None
    implementation: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_body(self) -> PromptSpec:
        if not (self.template or self.messages or self.implementation):
            raise _invalid("the prompt has no body", "give one of: template, messages, implementation")
        return self


AGGREGATIONS = ("mean", "sum", "min", "max", "median")


class MetricSpec(Strict):
    metric_id: str
    implementation: str
    params: dict[str, Any] = Field(default_factory=dict)
    aggregation: str | dict[str, Any] | None = None

    @field_validator("aggregation")
    @classmethod
    def _known_aggregation(cls, value: Any) -> Any:
        name = value.get("type", "mean") if isinstance(value, dict) else value
        if name is not None and name not in AGGREGATIONS:
            raise _invalid(f"unknown aggregation '{name}'", close_match_hint(str(name), AGGREGATIONS))
        return value


class MetricRef(Strict):
    metric_id: str


class SinkSpec(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str


class ReportingSpec(Strict):
    sinks: list[SinkSpec] = Field(default_factory=list)


class ExecutionSpec(Strict):
    """Scheduling knobs shared by the run defaults and the per-task overrides."""

    concurrency: int | None = Field(default=None, ge=1)
    prefetch_factor: int | None = Field(default=None, ge=1)
    max_inflight: int | None = Field(default=None, ge=1)
    max_samples: SampleLimit | None = None  # 0 would run nothing and report "completed"
    failure_policy: FailurePolicy | None = None


class DistributedSpec(Strict):
    """How a run is spread over workers (gage_eval.distributed): plain processes on this machine (`workers`
    alone) or Ray actors (`ray_address`). The driver alone writes the run directory."""

    ray_address: str | None = None  # local | auto | ray://HOST:10001 | HOST:6379 (a cluster's GCS)
    workers: int | None = Field(default=None, ge=1)  # each runs the task's `concurrency` samples at a time
    shard_size: int | None = Field(default=None, ge=1)  # samples per shard; default: the task's concurrency
    # backend_id (or the adapter_id of an inline backend) -> base URLs; worker i uses urls[i % len(urls)]
    endpoints: dict[str, list[str]] = Field(default_factory=dict)
    scoring_only: bool = False  # samples run here; only metrics go out as Ray tasks (needs ray_address)
    runtime_env: dict[str, Any] | None = None  # Ray runtime_env of the worker actors (pip, env_vars, ...)
    max_worker_restarts: int | None = Field(default=None, ge=0)  # lost workers replaced; default: `workers`

    @field_validator("endpoints")
    @classmethod
    def _non_empty_pools(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for key, urls in value.items():
            if not urls:
                raise _invalid(f"endpoints.{key} is an empty list", "give at least one base URL, or drop the key")
        return value


class RunExecutionSpec(ExecutionSpec):
    """Run-wide execution settings: the scheduling knobs plus how the run checks and judges itself."""

    preflight: bool | None = None  # check every HTTP backend before the first sample (default on)
    max_failure_rate: float | None = Field(default=None, ge=0, le=1)  # above it a partial failure exits non-zero
    distributed: DistributedSpec | None = None


class TaskSpec(ExecutionSpec):
    task_id: str
    dataset_id: str = Field(validation_alias=AliasChoices("dataset_id", "dataset_ref"))
    steps: list[StepSpec] | None = None
    metric_overrides: list[Annotated[MetricRef, _from_str("metric_id", MetricRef)]] | None = None
    reporting: ReportingSpec | None = None


class ReplaySpec(Strict):
    """Take these steps' outputs from an earlier run's samples.jsonl instead of calling their models.

    Splits generation from scoring: answers are generated while the model's server is up, then judged and scored
    later with no server of that model (gage sweep). Adapters used only by replayed steps, and their backends,
    are not built, so nothing connects to the model (no pre-flight, no launched server)."""

    run_dir: str  # the run directory holding samples.jsonl (relative paths: to the config file)
    steps: list[Literal["inference", "arena"]] = Field(default_factory=lambda: ["inference"], min_length=1)


class SummaryGeneratorSpec(Strict):
    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class ObservabilitySpec(Strict):
    http_url: str | None = None
    http_timeout_s: float = Field(default=2.0, gt=0)
    progress: Literal["auto", "rich", "plain", "off"] = "auto"
    progress_interval_s: float = Field(default=5.0, gt=0)
    plugins: list[str] = Field(default_factory=list)


class SandboxProfileSpec(Strict):
    """Where tools and graders with side effects run (gage_eval.agents.sandbox_profiles)."""

    profile_id: str
    runtime: Literal["local", "docker"] = "local"
    lifecycle: Literal["per_sample", "per_task"] = "per_sample"
    image: str | None = None  # docker
    network_mode: str = "none"  # docker: none | bridge | host | <network name>; local: none isolates when it can
    cpus: float | None = Field(default=None, gt=0)
    memory: str | None = Field(default=None, pattern=r"^\d+(\.\d+)?[bkmgBKMG]?$")  # "512m", "2g"
    workdir: str = "/workspace"  # docker: the container's working dir; local: a fresh temporary dir is used
    env: dict[str, str] = Field(default_factory=dict)
    initialize: list[str] = Field(default_factory=list)  # shell commands run once the sandbox is up
    save: list[str] = Field(default_factory=list)  # paths copied to <run>/artifacts/<task>/<sample>/ at the end
    command_timeout_s: float = Field(default=60.0, gt=0)
    docker_options: dict[str, Any] = Field(default_factory=dict)  # more docker SDK containers.run() arguments

    @model_validator(mode="after")
    def _image_for_docker(self) -> SandboxProfileSpec:
        if self.runtime == "docker" and not self.image:
            raise _invalid("a docker sandbox profile needs an image", "add image: <name:tag>, e.g. python:3.11-slim")
        return self


class PipelineConfig(Strict):
    api_version: str = "gage/v1alpha1"
    kind: Literal["PipelineConfig"] = "PipelineConfig"
    metadata: Metadata = Field(default_factory=Metadata)
    custom: CustomSpec = Field(default_factory=CustomSpec)
    datasets: list[DatasetSpec] = Field(default_factory=list)
    backends: list[BackendSpec] = Field(default_factory=list)
    role_adapters: list[RoleAdapterSpec] = Field(default_factory=list)
    prompts: list[PromptSpec] = Field(default_factory=list)
    metrics: list[Annotated[MetricSpec, BeforeValidator(
        normalize_metric_entry, json_schema_input_type=str | dict[str, dict[str, Any] | None] | MetricSpec
    )]] = Field(default_factory=list)
    tasks: list[TaskSpec] = Field(default_factory=list)
    summary_generators: list[Annotated[SummaryGeneratorSpec, _from_str("name", SummaryGeneratorSpec)]] = Field(
        default_factory=list)
    sandbox_profiles: list[SandboxProfileSpec] = Field(default_factory=list)
    observability: ObservabilitySpec = Field(default_factory=ObservabilitySpec)
    execution: RunExecutionSpec = Field(default_factory=RunExecutionSpec)
    replay: ReplaySpec | None = None


class TemplateMetadata(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    version: str = "V1"
    digest: str | None = None
    description: str = ""


class BuiltinTemplate(Strict):
    api_version: str = "gage/v1alpha1"
    kind: Literal["BuiltinTemplate"] = "BuiltinTemplate"
    metadata: TemplateMetadata
    definition: dict[str, Any]


class RuntimeOverrides(Strict):
    datasets: list[dict[str, Any]] = Field(default_factory=list)
    backends: list[dict[str, Any]] = Field(default_factory=list)
    role_adapters: list[dict[str, Any]] = Field(default_factory=list)
    tasks: list[dict[str, Any]] = Field(default_factory=list)
    execution: dict[str, Any] = Field(default_factory=dict)
    observability: dict[str, Any] = Field(default_factory=dict)


class RunConfig(Strict):
    api_version: str = "gage/v1alpha1"
    kind: Literal["RunConfig"] = "RunConfig"
    metadata: Metadata = Field(default_factory=Metadata)
    base_task: str
    template_version: str | None = None
    template_digest: str | None = None
    runtime: RuntimeOverrides = Field(default_factory=RuntimeOverrides)

    @field_validator("base_task")
    @classmethod
    def _builtin_prefix(cls, value: str) -> str:
        if not value.startswith("builtin/") or len(value) <= len("builtin/"):
            raise _invalid(f"base_task '{value}' does not name a builtin template",
                           "write base_task: builtin/<template name> (`gage list templates`)")
        return value
