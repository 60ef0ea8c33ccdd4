"""A model for `design --model` and `implement --model`: any backend gage knows, named as quick mode names one.

``--model http://host:8000/v1 --model-id NAME`` (or ``--model NAME --api-url URL``) is an OpenAI-compatible
server; ``--model-args`` adds backend settings; ``--api-key-env VAR`` names the variable holding its key (read
here, at the CLI edge, never logged). Requests go through the engine's ModelCaller: retries with backoff on
429 / 5xx / timeouts, as in a run.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import yaml

from gage_eval.errors import ConfigError, GageError
from gage_eval.support.design_doc import dump_block, extract_block
from gage_eval.support.file_blocks import END
from gage_eval.support.render import render

ATTEMPTS = 2  # a proposal that does not validate is sent back once with the problems


@dataclass
class ModelSpec:
    model: str
    api_url: str | None = None
    model_id: str | None = None
    model_args: dict[str, Any] = field(default_factory=dict)
    api_key_env: str | None = None
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    max_tokens: int = 4096


class SupportModel:
    def __init__(self, spec: ModelSpec) -> None:
        from gage_eval.config.models import BackendSpec
        from gage_eval.config.quick import backend_spec, quick_task
        from gage_eval.engine.build import _backend_config, backend_class
        from gage_eval.engine.model_call import ModelCaller, RetryPolicy
        from gage_eval.engine.settings import RunSettings

        task = quick_task({"model": spec.model, "api_url": spec.api_url, "model_id": spec.model_id,
                           "model_args": spec.model_args, "datasets": ["support"]})
        raw = backend_spec(task)
        if spec.api_key_env:
            raw["config"]["api_key_env"] = spec.api_key_env
        backend = BackendSpec.model_validate(raw)
        config = _backend_config(backend.config, RunSettings(secrets=spec.secrets), "--model")
        self.caller = ModelCaller(backend_class(backend, "--model").from_config(config, "--model"),
                                  RetryPolicy(max_attempts=3, base_delay_s=0.5))
        self.name = str(backend.config.get("model") or backend.config.get("model_path") or spec.model)
        self.max_tokens = spec.max_tokens

    def ask(self, prompt: str) -> str:
        from gage_eval.backends.base import GenerationRequest
        from gage_eval.engine import event_loop

        request = GenerationRequest(messages=[{"role": "user", "content": prompt}],
                                    params={"temperature": 0, "max_tokens": self.max_tokens})

        async def call() -> str:
            try:
                return (await self.caller.generate(request)).text
            finally:
                await self.caller.backend.aclose()

        try:
            return event_loop.run(call())
        except GageError:
            raise
        except Exception as exc:  # noqa: BLE001 - backend errors of every kind end the command the same way
            reason = getattr(exc, "reason", type(exc).__name__)
            raise ConfigError(f"the model {self.name} could not be asked ({reason}): {exc}", path="--model",
                              fix=getattr(exc, "fix", None) or "check --model / --api-url and that the server is "
                                                                 "up") from None

    # -- design ---------------------------------------------------------------------------------------
    def propose(self, ins: Any, draft: dict[str, Any],
                validate: Callable[[Any, Any], tuple[Any, list[str]]]) -> dict[str, Any]:
        """A support_config from the model that validates against the inspection; ConfigError after ATTEMPTS."""
        prompt = design_prompt(ins, draft)
        problems: list[str] = []
        for _ in range(ATTEMPTS):
            reply = self.ask(prompt if not problems else prompt + retry_note(problems))
            try:
                text, _ = extract_block(reply, "the model's answer")
                data = yaml.safe_load(text)
            except (GageError, yaml.YAMLError) as exc:
                problems = [exc.render() if isinstance(exc, GageError) else f"invalid YAML: {exc}"]
                continue
            if isinstance(data, dict):
                data["dataset"] = draft["dataset"]  # the inspected source is not the model's to change
            _, problems = validate(data, ins)
            if not problems:
                return data
        raise ConfigError(f"the model {self.name} gave no valid support_config in {ATTEMPTS} attempts: "
                          + "; ".join(problems[:5]), path="--model",
                          fix="nothing was written; rerun, use another model, or run design without --model")

    # -- implement ------------------------------------------------------------------------------------
    def write_code(self, cfg: Any, records: list[dict[str, Any]], reference: dict[str, str],
                   allowed: list[str]) -> str:
        return self.ask(render("implement_prompt.md.j2", block=dump_block(cfg.model_dump(exclude_none=True)),
                               records=json.dumps(records, ensure_ascii=False, indent=1)[:6000],
                               reference=reference, allowed=allowed, end=END, preprocessor=cfg.preprocessor))


def design_prompt(ins: Any, draft: dict[str, Any]) -> str:
    from gage_eval.registry import registry
    from gage_eval.support.spec import MC_FORMATS, PLACEHOLDERS

    metrics = [e.name for e in registry.entries("metrics")]
    fields = {p: {k: i[k] for k in ("types", "example", "length", "list_length", "values") if k in i}
              for p, i in ins.schema["fields"].items()}
    return render("design_prompt.md.j2", slug=ins.slug, fields=json.dumps(fields, ensure_ascii=False, indent=1),
                  records=json.dumps(ins.records[:5], ensure_ascii=False, indent=1)[:6000],
                  draft=dump_block(draft), metrics=", ".join(metrics), placeholders=", ".join(PLACEHOLDERS),
                  mc_formats=", ".join(MC_FORMATS), guess=ins.schema["task_type"]["guess"])


def retry_note(problems: list[str]) -> str:
    return ("\n\nYour previous answer was refused for these reasons; answer again with one corrected block:\n"
            + "\n".join(f"- {p}" for p in problems))
