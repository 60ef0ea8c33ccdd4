"""`gage support design SLUG`: write dev_docs/<slug>/design.md from the inspection, or from a model's proposal."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gage_eval.errors import ConfigError, GageError
from gage_eval.support.design_doc import render_design
from gage_eval.support.draft import draft_config
from gage_eval.support.inspection import Inspection, load_inspection
from gage_eval.support.mapping import expected_sample
from gage_eval.support.project import Project
from gage_eval.support.spec import SupportConfig, check_against, parse_support_config


@dataclass
class DesignResult:
    path: Path
    config: dict[str, Any]
    problems: list[str]  # left for a person to fix (drafts only; a model's proposal must have none)
    proposed_by: str


def validate_proposal(data: Any, ins: Inspection) -> tuple[SupportConfig | None, list[str]]:
    """A proposal as a SupportConfig and its problems against the inspected records."""
    try:
        cfg = parse_support_config(data, "support_config")
    except GageError as exc:
        return None, [exc.render()]
    return cfg, check_against(cfg, ins.records, slug=ins.slug)


def preview(cfg: SupportConfig | None, records: list[dict[str, Any]]) -> dict[str, Any]:
    if cfg is None or not records:
        return {"error": "the block does not validate yet"}
    try:
        return expected_sample(cfg, records[0])
    except ValueError as exc:
        return {"error": str(exc)}


def design(project: Project, slug: str, *, force: bool = False, model: Any = None) -> DesignResult:
    """`model`: an llm.DesignModel; without one the block is the inspection's draft."""
    ins = load_inspection(project, slug)
    target = ins.folder / "design.md"
    if target.exists() and not force:
        raise ConfigError(f"{project.rel(target)} already exists (it may hold your edits)", path="SLUG",
                          fix="pass --force to write a new design over it, or edit its support_config block")
    draft = draft_config(slug, ins.meta, ins.schema, ins.records, ins.meta.get("project_path"))
    if model is None:
        data, proposed_by = draft, "the inspection's guesses (confirm the items below)"
    else:
        data = model.propose(ins, draft, validate_proposal)  # raises when no valid proposal came back
        data["dataset"] = copy.deepcopy(draft["dataset"])  # what was inspected, not what the model remembers
        data.setdefault("tests", draft["tests"])
        proposed_by = f"model {model.name}, validated against the inspected schema and records"
    cfg, problems = validate_proposal(data, ins)
    if model is not None and problems:
        raise ConfigError("the model's proposal does not fit the dataset: " + "; ".join(problems),
                          path="--model", fix="rerun, use another model, or design without --model and edit the "
                                              "block yourself")
    shown = dict(data)
    if problems:
        shown["confirm"] = [*data.get("confirm", []), *(f"FIX: {p}" for p in problems)]
    text = render_design(shown, meta=ins.meta, schema=ins.schema, preview=preview(cfg, ins.records),
                         proposed_by=proposed_by)
    target.write_text(text, encoding="utf-8")
    return DesignResult(target, shown, problems, proposed_by)
