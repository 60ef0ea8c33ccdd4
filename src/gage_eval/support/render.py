"""Jinja2 rendering of the onboarding templates (support/templates): design docs, prompts and generated code.

StrictUndefined: a template naming a value the caller did not pass is a bug, not an empty string in a file.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jinja2

_TEMPLATES = Path(__file__).parent / "templates"


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)), autoescape=False,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters["py"] = python_literal
    env.filters["json"] = lambda v: json.dumps(v, ensure_ascii=False)
    return env


def python_literal(value: Any) -> str:
    """A Python literal of a value; strings (and lists of them) double-quoted, as the code base writes them."""
    if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid Python string literal
    return repr(value)


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
