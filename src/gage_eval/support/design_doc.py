"""design.md: a readable design around exactly one fenced ``yaml support_config`` block, and reading it back."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from gage_eval.errors import ConfigError
from gage_eval.support.spec import SupportConfig, parse_support_config

FENCE = "```yaml support_config"
_OPEN = re.compile(r"^```+\s*yaml\s+support_config\s*$", re.IGNORECASE)
_CLOSE = re.compile(r"^```+\s*$")


class _BlockDumper(yaml.SafeDumper):
    """Readable blocks: mappings nested, short lists of scalars on one line, multi-line strings as `|` blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value and not value.startswith((" ", "\n")) and value == value.rstrip(" ") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    flat = all(isinstance(v, (str, int, float, bool)) and "\n" not in str(v) for v in value)
    short = flat and sum(len(str(v)) + 4 for v in value) < 90
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=short)


_BlockDumper.add_representer(str, _str)
_BlockDumper.add_representer(list, _list)


def dump_block(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=110,
                     default_flow_style=False)


def extract_block(text: str, where: str) -> tuple[str, int]:
    """The YAML inside the one support_config fence and its first line number; zero or several are errors."""
    lines = text.splitlines()
    found: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        if _OPEN.match(lines[i].strip()):
            end = next((j for j in range(i + 1, len(lines)) if _CLOSE.match(lines[j].strip())), None)
            if end is None:
                raise ConfigError(f"the support_config block opened at line {i + 1} is never closed", file=where,
                                  path=f"line {i + 1}", fix="end the block with a line holding only ```")
            found.append((i, end))
            i = end
        i += 1
    if len(found) != 1:
        at = ", ".join(f"line {a + 1}" for a, _ in found)
        raise ConfigError(f"design.md must hold exactly one ```yaml support_config block, found {len(found)}"
                          + (f" (at {at})" if found else ""), file=where,
                          fix="keep a single block: it is the source of truth `implement` generates from")
    start, end = found[0]
    return "\n".join(lines[start + 1:end]), start + 2


def parse_block_text(text: str, where: str, first_line: int = 1) -> SupportConfig:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + first_line}" if mark is not None else "support_config"
        raise ConfigError(f"the support_config block is not valid YAML: {getattr(exc, 'problem', exc)}", file=where,
                          path=line, fix="fix the YAML syntax (indentation, quotes) of the block") from None
    return parse_support_config(data, where)


def read_design(path: Path) -> SupportConfig:
    if not path.is_file():
        raise ConfigError(f"{path} does not exist", file=str(path),
                          fix="run `gage support design SLUG` first")
    text, first = extract_block(path.read_text(encoding="utf-8"), str(path))
    return parse_block_text(text, str(path), first)


def render_design(cfg: dict[str, Any], *, meta: dict[str, Any], schema: dict[str, Any], preview: dict[str, Any],
                  proposed_by: str) -> str:
    from gage_eval.support.render import render

    fields = [(p, i) for p, i in schema["fields"].items() if "." not in p or i.get("roles")]
    return render("design.md.j2", cfg=cfg, meta=meta, schema=schema, fields=fields, preview=preview,
                  proposed_by=proposed_by, block=dump_block(cfg).rstrip(), fence=FENCE)
