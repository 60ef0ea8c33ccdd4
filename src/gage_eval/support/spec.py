"""The ``support_config`` block of design.md: the one source of truth `implement` generates from.

`SupportConfig` is validated twice: as data (pydantic, unknown keys are errors) and against what was inspected
(`check_against`: every field path resolves in the sampled records, every record yields a valid target, the
prompt only names known placeholders, metrics and hooks are registered). A model's proposal passes the same
checks before it is written.
"""
from __future__ import annotations

import string
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gage_eval.config.loading import validation_to_config_error
from gage_eval.errors import ConfigError
from gage_eval.support.fields import get_path, valid_path
from gage_eval.support.schema import TASK_TYPES

TaskType = Literal["multiple_choice", "math", "short_answer", "code", "open_ended"]
AnswerFormat = Literal["index", "index1", "letter", "choice_text", "choice_label", "gsm8k", "boxed", "number",
                       "text", "aliases", "none"]
PLACEHOLDERS = ("question", "options", "context")
MC_FORMATS = ("index", "index1", "letter", "choice_text", "choice_label")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetBlock(_Strict):
    source: Literal["local", "hub"]
    loader: Literal["jsonl", "hf_hub"]
    path: str | None = None
    hub_id: str | None = None
    subset: str | None = None
    split: str = "test"
    trust_remote_code: bool = False


class FieldsBlock(_Strict):
    question: str
    id: str | None = None
    choices: str | list[str] | None = None
    choice_labels: str | None = None  # parallel option labels (ARC's choices.label) the answer names one of
    answer: str | None = None
    reference: str | None = None
    context: str | None = None
    group: str | None = None
    media: list[str] = Field(default_factory=list)
    test: str | None = None  # code: the tests the completion runs against (HumanEval's test + check(entry_point))
    entry_point: str | None = None


class PromptBlock(_Strict):
    template: str  # completion style; placeholders {question}, {options} (lettered), {context}
    instruction: str | None = None  # chat style: appended after the question
    system_prompt: str | None = None


class GenerationBlock(_Strict):
    max_tokens: int = Field(default=256, ge=1)
    temperature: float = Field(default=0.0, ge=0)
    stop: list[str] = Field(default_factory=list)


class JudgeBlock(_Strict):
    kind: Literal["score", "binary"] = "score"
    min_score: int = 1
    max_score: int = 10


class TestsBlock(_Strict):
    commands: list[str] = Field(default_factory=list)


class SupportConfig(_Strict):
    slug: str
    task_type: TaskType
    preprocessor: str
    dataset: DatasetBlock
    fields: FieldsBlock
    answer_format: AnswerFormat = "none"
    modalities: list[Literal["text", "image", "audio", "video"]] = Field(default_factory=lambda: ["text"])
    hooks: dict[str, str] = Field(default_factory=dict)  # doc_to_visual / doc_to_audio: registered doc_converters
    prompt: PromptBlock
    generation: GenerationBlock = Field(default_factory=GenerationBlock)
    metrics: list[Any] = Field(min_length=1)
    new_metrics: list[str] = Field(default_factory=list)  # implementations metrics.py stubs out
    judge: JudgeBlock | None = None
    tests: TestsBlock = Field(default_factory=TestsBlock)
    confirm: list[str] = Field(default_factory=list)  # what a person should check; implement prints it

    @field_validator("hooks")
    @classmethod
    def _hook_names(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [k for k in value if k not in ("doc_to_visual", "doc_to_audio", "doc_to_text")]
        if unknown:
            raise ValueError(f"unknown hook '{unknown[0]}' (known: doc_to_text, doc_to_visual, doc_to_audio)")
        return value


def parse_support_config(data: Any, where: str) -> SupportConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"the support_config block must be a mapping, not {type(data).__name__}", file=where,
                          path="support_config", fix="write key: value pairs inside the ```yaml support_config block")
    try:
        return SupportConfig.model_validate(data)
    except ValidationError as exc:
        err = validation_to_config_error(exc, where, SupportConfig)
        err.path = f"support_config.{err.path}" if err.path else "support_config"
        raise err from None


def placeholders(template: str) -> list[str]:
    """The ``{name}`` fields of a prompt template; attribute or index access is refused (it reads Python objects)."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ValueError(f"prompt.template is not a valid format string: {exc} (write literal braces as {{{{ }}}})")
    return names


def check_against(cfg: SupportConfig, records: list[dict[str, Any]], *, slug: str) -> list[str]:
    """Problems of `cfg` against the inspected records (empty: it fits). Each names the key and what is wrong."""
    from gage_eval.support.mapping import expected_sample

    problems: list[str] = []
    if cfg.slug != slug:
        problems.append(f"slug: '{cfg.slug}' is not the inspected slug '{slug}'")
    if not cfg.preprocessor.isidentifier():
        problems.append(f"preprocessor: '{cfg.preprocessor}' must be a Python identifier")
    paths = {"question": cfg.fields.question, "id": cfg.fields.id, "answer": cfg.fields.answer,
             "reference": cfg.fields.reference, "context": cfg.fields.context, "group": cfg.fields.group,
             "choice_labels": cfg.fields.choice_labels, "test": cfg.fields.test,
             "entry_point": cfg.fields.entry_point}
    paths.update({f"media[{i}]": m for i, m in enumerate(cfg.fields.media)})
    choices = cfg.fields.choices
    paths.update({"choices": choices} if isinstance(choices, str) else
                 {f"choices[{i}]": c for i, c in enumerate(choices or [])})
    for key, path in paths.items():
        if path is None:
            continue
        if not valid_path(path):
            problems.append(f"fields.{key}: '{path}' is not a field path (name, name.sub or name.0)")
        elif all(get_path(r, path, None) is None for r in records):
            problems.append(f"fields.{key}: '{path}' is in none of the {len(records)} inspected records")
    problems += _check_task(cfg)
    try:
        names = placeholders(cfg.prompt.template)
        unknown = [n for n in names if n not in PLACEHOLDERS]
        if unknown:
            problems.append(f"prompt.template: unknown placeholder {{{unknown[0]}}} (known: "
                            + ", ".join("{" + p + "}" for p in PLACEHOLDERS) + ")")
        if "question" not in names:
            problems.append("prompt.template: must contain {question}")
        if cfg.task_type == "multiple_choice" and "options" not in names:
            problems.append("prompt.template: a multiple-choice prompt must show the options: add {options}")
        if "context" in names and not cfg.fields.context:
            problems.append("prompt.template: {context} needs fields.context")
    except ValueError as exc:
        problems.append(str(exc))
    problems += _check_registered(cfg)
    if not problems:
        for i, record in enumerate(records):
            try:
                expected_sample(cfg, record)
            except ValueError as exc:
                problems.append(f"record {i + 1} of sample.json: {exc}")
                if len(problems) >= 5:
                    break
    return problems


def _check_task(cfg: SupportConfig) -> list[str]:
    out = []
    mc = cfg.task_type == "multiple_choice"
    if mc and (not cfg.fields.choices or not cfg.fields.answer):
        out.append("fields: multiple_choice needs fields.choices and fields.answer")
    if mc and cfg.answer_format not in MC_FORMATS:
        out.append(f"answer_format: '{cfg.answer_format}' does not fit multiple_choice (use one of "
                   f"{', '.join(MC_FORMATS)})")
    if not mc and cfg.answer_format in MC_FORMATS:
        out.append(f"answer_format: '{cfg.answer_format}' is for multiple_choice, not {cfg.task_type}")
    if cfg.answer_format == "choice_label" and not cfg.fields.choice_labels:
        out.append("answer_format: choice_label needs fields.choice_labels")
    if cfg.task_type in ("math", "short_answer") and not cfg.fields.answer:
        out.append(f"fields.answer: {cfg.task_type} needs the field holding the answer")
    if bool(cfg.fields.test) != bool(cfg.fields.entry_point):
        out.append("fields: code runs need both fields.test and fields.entry_point (HumanEval layout)")
    if cfg.task_type == "open_ended" and cfg.judge is None:
        out.append("judge: open_ended answers are scored by a judge: add judge: {kind: score}")
    if cfg.fields.media and cfg.modalities == ["text"]:
        out.append("modalities: media fields are mapped but modalities lists only text")
    return out


def _check_registered(cfg: SupportConfig) -> list[str]:
    from gage_eval.config.metric_forms import normalize_metric_entry
    from gage_eval.registry import registry

    out = []
    for i, entry in enumerate(cfg.metrics):
        try:
            impl = normalize_metric_entry(entry)["implementation"]
        except Exception as exc:  # noqa: BLE001 - the metric forms raise several types for a bad entry
            out.append(f"metrics[{i}]: {exc}")
            continue
        if impl not in cfg.new_metrics and ":" not in impl and not registry.has("metrics", impl):
            out.append(f"metrics[{i}]: '{impl}' is not a registered metric (`gage list metrics`); list it in "
                       "new_metrics to get a stub in metrics.py")
    for hook, name in cfg.hooks.items():
        if ":" not in name and not registry.has("doc_converters", name):
            out.append(f"hooks.{hook}: '{name}' is not a registered doc converter (`gage list doc_converters`)")
    for name in cfg.new_metrics:
        if not name.isidentifier() or registry.has("metrics", name):
            out.append(f"new_metrics: '{name}' must be a new identifier (registered metrics need no stub)")
    return out


__all__ = ["TASK_TYPES", "SupportConfig", "check_against", "parse_support_config", "placeholders"]
