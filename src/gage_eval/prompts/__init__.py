"""Prompt templates: jinja2 (or str.format) renderers that turn a Sample into chat messages or a prompt."""
from __future__ import annotations

from typing import Any

import jinja2

from gage_eval.config.models import PromptSpec
from gage_eval.errors import ConfigError
from gage_eval.registry import registry

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)


class PromptTemplate:
    """Renders `messages` (list of role/content templates) or a single user `template`."""

    def __init__(self, prompt_id: str, *, template: str | None = None,
                 messages: list[dict[str, str]] | None = None, renderer: str = "jinja2",
                 params: dict[str, Any] | None = None) -> None:
        self.prompt_id = prompt_id
        self.renderer = renderer
        self.params = params or {}
        raw = messages if messages else [{"role": "user", "content": template or ""}]
        try:
            self._messages = [(m.get("role", "user"), self._compile(m.get("content", ""))) for m in raw]
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"prompt '{prompt_id}' has a template syntax error: {exc.message} (line {exc.lineno})",
                              path=f"prompts[{prompt_id}]", fix="fix the jinja2 template") from None

    def _compile(self, text: str) -> Any:
        return _ENV.from_string(text) if self.renderer == "jinja2" else text

    def _render_one(self, tpl: Any, context: dict[str, Any]) -> str:
        try:
            return tpl.render(**context) if self.renderer == "jinja2" else tpl.format(**context)
        except (jinja2.UndefinedError, KeyError) as exc:
            raise ConfigError(f"prompt '{self.prompt_id}' uses an undefined variable: {exc}",
                              path=f"prompts[{self.prompt_id}]",
                              fix="available variables: sample, prompt, choices, label, metadata, "
                                  "model_output, judge_output, params") from None

    def render_messages(self, context: dict[str, Any]) -> list[dict[str, Any]]:
        ctx = {**self.params, **context, "params": self.params}
        return [{"role": role, "content": self._render_one(tpl, ctx)} for role, tpl in self._messages]

    def render_text(self, context: dict[str, Any]) -> str:
        return "\n\n".join(m["content"] for m in self.render_messages(context))


def build_prompt(spec: PromptSpec) -> PromptTemplate:
    if spec.implementation:
        factory = registry.get("prompts", spec.implementation, config_path=f"prompts[{spec.prompt_id}].implementation")
        return factory(spec.prompt_id, **spec.params) if callable(factory) else factory
    return PromptTemplate(spec.prompt_id, template=spec.template, messages=spec.messages,
                          renderer=spec.renderer, params=spec.params)
