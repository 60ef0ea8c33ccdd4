"""`gage support status`: which slugs are inspected, designed, implemented and verified."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gage_eval.errors import GageError
from gage_eval.support.design_doc import read_design
from gage_eval.support.guard import sha256
from gage_eval.support.inspection import read_json
from gage_eval.support.project import Project


@dataclass
class SlugStatus:
    slug: str
    inspected: str
    designed: str
    implemented: str
    verified: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def slug_status(project: Project, slug: str) -> SlugStatus:
    docs = project.docs(slug)
    inspected = "-"
    if (docs / "meta.json").is_file():
        meta = read_json(docs / "meta.json")
        inspected = f"yes ({meta.get('records_read')} records of {meta.get('dataset_argument')})"
    designed = "-"
    if (docs / "design.md").is_file():
        try:
            cfg = read_design(docs / "design.md")
            designed = f"yes ({cfg.task_type}" + (f", {len(cfg.confirm)} to confirm)" if cfg.confirm else ")")
        except GageError as exc:
            designed = f"block invalid: {exc.message[:80]}"
    implemented, verified = "-", "-"
    record = read_json(docs / "implement.json") if (docs / "implement.json").is_file() else {}
    template = project.package(slug) / "v1.yaml"
    if template.is_file():
        written = record.get("written", {})
        edited = [rel for rel, digest in written.items() if (project.root / rel).is_file()
                  and sha256((project.root / rel).read_text(encoding="utf-8", errors="replace")) != digest]
        implemented = "yes" + (f" (edited since: {', '.join(edited)})" if edited else "")
        checks = record.get("checks")
        if checks is not None:
            failed = [c["command"].split()[:2] for c in checks if c["exit_code"] != 0]
            verified = "ok" if not failed else "FAILED: " + "; ".join(" ".join(f) for f in failed)
    return SlugStatus(slug, inspected, designed, implemented, verified)


def project_status(project: Project) -> list[SlugStatus]:
    return [slug_status(project, slug) for slug in project.slugs()]
