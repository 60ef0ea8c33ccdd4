"""`gage support inspect`: read a sample, infer the schema, write dev_docs/<slug>/{meta,sample,schema}.json."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gage_eval.errors import ConfigError
from gage_eval.support.project import Project, builtin_clash, check_slug, slugify
from gage_eval.support.schema import infer_schema
from gage_eval.support.source import DatasetSource, read_records, resolve_source

SAMPLE_RECORDS = 20  # kept in sample.json (the design and the generated test read it)


@dataclass
class Inspection:
    slug: str
    folder: Path
    meta: dict[str, Any]
    schema: dict[str, Any]
    records: list[dict[str, Any]]


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", file=str(path),
                          fix="rerun `gage support inspect` to rewrite it") from None


def inspect_dataset(project: Project, dataset: str, *, slug: str | None = None, subset: str | None = None,
                    split: str | None = None, max_samples: int = 50, trust_remote_code: bool = False) -> Inspection:
    if max_samples < 1:
        raise ConfigError(f"--max-samples {max_samples} would read nothing", path="--max-samples", fix="give N >= 1")
    source = resolve_source(dataset, subset=subset, split=split, trust_remote_code=trust_remote_code)
    notes = list(source.notes)
    derived = slug is None
    slug = check_slug(slug or slugify(source.hub_id or Path(source.path or dataset).name))
    clash = builtin_clash(slug, project.root)
    if clash and derived and not builtin_clash(f"my_{slug}", project.root):
        notes.append(f"'{slug}' is taken by {clash}: this benchmark is 'my_{slug}' (--slug names it)")
        slug, clash = f"my_{slug}", None
    if clash:
        raise ConfigError(f"slug '{slug}' is taken by {clash}", path="--slug",
                          fix=f"choose another name, e.g. --slug my_{slug}")
    records, more = read_records(source, max_samples, slug)
    schema = infer_schema(records)
    folder = project.docs(slug)
    meta = {"slug": slug, "source": source.as_dict(), "dataset_argument": dataset,
            "inspected_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "records_read": len(records), "more_records": more, "notes": notes,
            "project_path": _project_path(project, source)}
    write_json(folder / "meta.json", meta)
    write_json(folder / "sample.json", records[:SAMPLE_RECORDS])
    write_json(folder / "schema.json", schema)
    return Inspection(slug, folder, meta, schema, records)


def _project_path(project: Project, source: DatasetSource) -> str | None:
    """The data file relative to the project when it lives inside it (so the benchmark travels with it)."""
    if source.kind != "local" or not source.path:
        return None
    rel = project.rel(Path(source.path))
    return None if Path(rel).is_absolute() else rel


def load_inspection(project: Project, slug: str) -> Inspection:
    folder = project.require_inspection(slug)
    return Inspection(slug, folder, read_json(folder / "meta.json"), read_json(folder / "schema.json"),
                      read_json(folder / "sample.json"))


def summary_lines(ins: Inspection) -> list[str]:
    """What `inspect` prints: the files, fields with their roles, modalities and the task-type guess."""
    s = ins.schema
    lines = [f"inspected {ins.meta['records_read']} records of {ins.meta['dataset_argument']} as '{ins.slug}'"
             + (" (more not read)" if ins.meta["more_records"] else "")]
    for path, info in s["fields"].items():
        if "." in path and not info.get("roles"):
            continue
        types = "/".join(sorted(info["types"]))
        roles = f"  <- {', '.join(info['roles'])}" if info.get("roles") else ""
        lines.append(f"  {path:<28} {types:<16}{roles}")
    task = s["task_type"]
    lines.append(f"modalities: {', '.join(s['modalities'])}; task type: {task['guess']} ({'; '.join(task['evidence'])})")
    lines += [f"note: {n}" for n in ins.meta.get("notes") or []]
    lines.append(f"wrote {', '.join(n + '.json' for n in ('meta', 'sample', 'schema'))} in {ins.folder}")
    lines.append(f"next: gage support design {ins.slug}")
    return lines
