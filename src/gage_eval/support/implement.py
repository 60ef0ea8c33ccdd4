"""`gage support implement SLUG`: generate the benchmark from design.md; dry-run unless --force; then verify.

The design block is checked against the inspection again (it may have been edited). Code comes from the
templates, or from a model in file blocks — the model's code is kept only once it compiles, imports and passes
the generated test in a scratch copy of the project. Writing goes through the guard rails (guard.py); after it,
the block's tests.commands run (validate, the generated test, a 5-sample run on the dummy model).
"""
from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from gage_eval.errors import ConfigError
from gage_eval.registry import PROJECT_PACKAGE
from gage_eval.support.codegen import generate_files
from gage_eval.support.commands import CommandResult, run_commands
from gage_eval.support.design_doc import read_design
from gage_eval.support.file_blocks import check_python, parse_file_blocks
from gage_eval.support.guard import resolve_target, sha256, write_problems
from gage_eval.support.inspection import load_inspection, read_json, write_json
from gage_eval.support.project import Project
from gage_eval.support.spec import SupportConfig, check_against

STAGING_TIMEOUT_S = 300


@dataclass
class FileChange:
    path: str
    status: str  # new | changed | unchanged | removed
    diff: str


@dataclass
class ImplementResult:
    slug: str
    written: bool
    changes: list[FileChange]
    confirm: list[str]
    code_from: str
    checks: list[CommandResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def load_design(project: Project, slug: str) -> tuple[SupportConfig, list[dict[str, Any]]]:
    ins = load_inspection(project, slug)
    design = ins.folder / "design.md"
    cfg = read_design(design)
    problems = check_against(cfg, ins.records, slug=slug)
    if problems:
        raise ConfigError("the support_config block does not fit the inspected records: " + "; ".join(problems[:5]),
                          file=project.rel(design), path="support_config",
                          fix="edit the block (each problem names its key), then rerun implement")
    return cfg, ins.records


def changes_of(project: Project, files: dict[str, str]) -> list[FileChange]:
    out = []
    for rel, text in files.items():
        path = resolve_target(project.root, rel)
        old = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
        status = "new" if old is None else "unchanged" if old == text else "changed"
        diff = "" if status == "unchanged" else "".join(difflib.unified_diff(
            (old or "").splitlines(keepends=True), text.splitlines(keepends=True),
            fromfile="/dev/null" if old is None else f"a/{rel}", tofile=f"b/{rel}"))
        out.append(FileChange(rel, status, diff))
    return out


def stale_files(project: Project, files: dict[str, str], last: dict[str, str]) -> list[str]:
    """Files the last implement wrote, this design no longer generates (e.g. a metric stub) and nobody edited."""
    out = []
    for rel, digest in last.items():
        path = project.root / rel
        if rel not in files and path.is_file() and sha256(path.read_text(encoding="utf-8", errors="replace")) == digest:
            out.append(rel)
    return sorted(out)


def model_code(model: Any, cfg: SupportConfig, records: list[dict[str, Any]], files: dict[str, str]) -> dict[str, str]:
    """The model's preprocessor (and metric) files, parsed strictly and checked in a scratch project."""
    pkg = f"{PROJECT_PACKAGE}/{cfg.slug}"
    required = {f"{pkg}/preprocess.py"}
    allowed = required | ({f"{pkg}/metrics.py"} if cfg.new_metrics else set())
    reply = model.write_code(cfg, records[:5], {p: files[p] for p in sorted(allowed)}, sorted(allowed))
    blocks = parse_file_blocks(reply, allowed, required)
    for path, source in blocks.items():
        check_python(path, source, registers=cfg.preprocessor if path.endswith("preprocess.py") else None)
    check_in_scratch({**files, **blocks}, cfg.slug)
    return blocks


def check_in_scratch(files: dict[str, str], slug: str) -> None:
    """Import the package and run the generated test against these files, in a temporary copy of the project."""
    with tempfile.TemporaryDirectory(prefix=f"gage-support-{slug}-") as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
        steps = [("imports", [sys.executable, "-W", "error::RuntimeWarning", "-c",
                              "import sys; from gage_eval.registry import registry; "
                              "sys.exit(0 if registry.load_project(sys.argv[1]) else 1)", str(root)]),
                 ("passes the generated test", [sys.executable, f"tests/test_{slug}_benchmark.py"])]
        for what, argv in steps:
            try:
                proc = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=STAGING_TIMEOUT_S,
                                      env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
            except subprocess.TimeoutExpired:
                raise ConfigError(f"the model's code did not finish the check '{what}' in {STAGING_TIMEOUT_S} s",
                                  path="--model", fix="nothing was written; rerun, or implement without --model") \
                    from None
            if proc.returncode != 0:
                tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])
                raise ConfigError(f"the model's code fails the check '{what}':\n{tail}", path="--model",
                                  fix="nothing was written; rerun, or implement without --model")


def implement(project: Project, slug: str, *, force: bool = False, allow_dirty: bool = False, model: Any = None,
              verify: bool = True, on_command: Callable[[CommandResult], None] | None = None) -> ImplementResult:
    cfg, records = load_design(project, slug)
    package_exists = (project.root / PROJECT_PACKAGE / "__init__.py").is_file()
    files = generate_files(cfg, records, package_exists=package_exists)
    code_from = "templates"
    if model is not None:
        files.update(model_code(model, cfg, records, files))
        code_from = f"model {model.name} (compiled, imported and passed the generated test)"
    changes = changes_of(project, files)  # also refuses any target outside the project
    record_path = project.docs(slug) / "implement.json"
    last = read_json(record_path).get("written", {}) if record_path.is_file() else {}
    stale = stale_files(project, files, last)
    changes += [FileChange(rel, "removed", f"--- a/{rel}\n+++ /dev/null\n") for rel in stale]
    result = ImplementResult(slug, False, changes, cfg.confirm, code_from)
    if not force:
        return result
    to_write = {c.path: files[c.path] for c in changes if c.status in ("new", "changed")}
    problems = write_problems(project.root, to_write, last)
    if problems and not allow_dirty:
        raise ConfigError("refusing to write: " + "; ".join(problems), path="--force",
                          fix="commit or stash your changes first (then the generated change is one reviewable diff), "
                              "or pass --allow-dirty; nothing was written")
    for rel, text in to_write.items():
        path = resolve_target(project.root, rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".gage-tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    for rel in stale:
        resolve_target(project.root, rel).unlink()
    result.written = True
    kept = {rel: digest for rel, digest in last.items() if rel not in stale}
    record = {"slug": slug, "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "code_from": code_from, "written": {**kept, **{rel: sha256(text) for rel, text in files.items()}}}
    write_json(record_path, record)
    if verify:
        _clear_smoke_runs(project, slug)
        result.checks = run_commands(project.root, cfg.tests.commands, on_result=on_command)
        record["checks"] = [c.as_dict() for c in result.checks]
        write_json(record_path, record)
    return result


def _clear_smoke_runs(project: Project, slug: str) -> None:
    """The smoke run is support's own (dev_docs/<slug>/runs): a regenerated benchmark is a different config, which a
    run directory refuses, so the old one goes."""
    runs = project.docs(slug) / "runs"
    if runs.is_dir():
        shutil.rmtree(runs)
