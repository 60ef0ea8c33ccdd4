"""BuiltinTemplate discovery and digests; RunConfig compilation; distill and init."""
from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml

from gage_eval.config.loading import parse_model, read_yaml
from gage_eval.config.models import BuiltinTemplate, PipelineConfig, RunConfig
from gage_eval.errors import ConfigError, close_match_hint
from gage_eval.registry import PROJECT_PACKAGE

_PACKAGE_DIR = Path(__file__).resolve().parents[1]
_VERSION_FILE = re.compile(r"^v(\d+)\.ya?ml$", re.IGNORECASE)
_VERSION = re.compile(r"^v?(\d+)$", re.IGNORECASE)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def template_dirs(extra: list[Path] | None = None) -> list[Path]:
    """Search order: explicit dirs, ./config/builtin_templates, the project's own benchmarks
    (./gage_benchmarks/<name>/vN.yaml, see registry.PROJECT_PACKAGE), the source checkout, the installed
    package, then the builtin benchmark folders (gage_eval/benchmarks/<name>/vN.yaml)."""
    candidates = [*(extra or []), Path.cwd() / "config" / "builtin_templates", Path.cwd() / PROJECT_PACKAGE,
                  _PACKAGE_DIR.parents[1] / "config" / "builtin_templates",
                  _PACKAGE_DIR / "_builtin_templates", _PACKAGE_DIR / "benchmarks"]
    seen, out = set(), []
    for d in candidates:
        d = d.resolve()
        if d.is_dir() and d not in seen:
            seen.add(d)
            out.append(d)
    return out


def is_benchmark_template(path: Path) -> bool:
    """True for the templates shipped as builtin benchmarks (gage_eval/benchmarks/<name>/vN.yaml)."""
    return (_PACKAGE_DIR / "benchmarks").resolve() in path.resolve().parents


def is_project_template(path: Path) -> bool:
    """True for a project's own benchmarks (./gage_benchmarks/<name>/vN.yaml, written by `gage support`)."""
    return (Path.cwd() / PROJECT_PACKAGE).resolve() in path.resolve().parents


def canonical_digest(definition: dict[str, Any]) -> str:
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def available_templates(extra: list[Path] | None = None) -> dict[str, dict[int, Path]]:
    found: dict[str, dict[int, Path]] = {}
    for root in template_dirs(extra):
        for sub in sorted(p for p in root.iterdir() if p.is_dir()):
            for f in sub.iterdir():
                m = _VERSION_FILE.match(f.name)
                if m:
                    found.setdefault(sub.name, {}).setdefault(int(m.group(1)), f)
    return found


def find_template(name: str, version: str | None = None, extra: list[Path] | None = None,
                  *, path: str | None = None, file: str | None = None, version_path: str | None = None) -> Path:
    """The file of template `name` at `version` (``v2``, ``V2`` or ``2``; default: the latest)."""
    templates = available_templates(extra)
    if name not in templates:
        raise ConfigError(f"unknown builtin template '{name}'", file=file, path=path,
                          fix=close_match_hint(name, templates, label="known templates"))
    versions = templates[name]
    if version is None:
        return versions[max(versions)]
    match = _VERSION.match(str(version).strip())
    if not match or int(match.group(1)) not in versions:
        raise ConfigError(f"template '{name}' has no version '{version}'", file=file, path=version_path or path,
                          fix="use one of: " + ", ".join(f"v{v}" for v in sorted(versions)))
    return versions[int(match.group(1))]


def load_template(path: Path) -> BuiltinTemplate:
    """Read a BuiltinTemplate, verify its digest and that its definition is a valid PipelineConfig."""
    template = parse_model(BuiltinTemplate, read_yaml(path), str(path))
    actual = canonical_digest(template.definition)
    if template.metadata.digest is None:
        raise ConfigError("the template has no metadata.digest", file=str(path), path="metadata.digest",
                          fix=f"templates are written by `gage distill`; its digest would be {actual}")
    if template.metadata.digest != actual:
        raise ConfigError(
            f"digest mismatch: metadata.digest is {template.metadata.digest} but the definition hashes to {actual}",
            file=str(path), path="metadata.digest",
            fix="the template was edited after it was frozen; create a new version with `gage distill` "
                "instead of editing a released one (or update the digest if the edit is intended)")
    parse_model(PipelineConfig, {k: v for k, v in template.definition.items() if k != "kind"}, str(path),
                prefix="definition")
    return template


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            out[k] = _merge(base.get(k), v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(override)


def _apply_by_id(items: list[dict[str, Any]], overrides: list[dict[str, Any]], key: str, section: str,
                 file: str | None) -> list[dict[str, Any]]:
    index = {item.get(key): i for i, item in enumerate(items) if isinstance(item, dict)}
    out = list(items)
    for j, ov in enumerate(overrides):
        ident = ov.get(key)
        if ident is None:
            raise ConfigError(f"override without {key}", file=file, path=f"runtime.{section}[{j}].{key}",
                              fix="name the template entry to override; " + close_match_hint("", filter(None, index)))
        if ident not in index:
            raise ConfigError(f"override targets unknown {key} '{ident}'", file=file,
                              path=f"runtime.{section}[{j}].{key}",
                              fix=close_match_hint(str(ident), [k for k in index if k]))
        base = out[index[ident]]
        if section == "backends" and "type" in ov and ov["type"] != base.get("type"):
            # Another backend type has other settings: the template's config would not fit it.
            base = {k: v for k, v in base.items() if k != "config"}
        out[index[ident]] = _merge(base, ov)
    return out


def compile_run_config(run: RunConfig, file: str | None = None, extra: list[Path] | None = None) -> PipelineConfig:
    name = run.base_task.split("/", 1)[1]
    tpl_path = find_template(name, run.template_version, extra, path="base_task", file=file,
                             version_path="template_version")
    template = load_template(tpl_path)
    if run.template_digest and run.template_digest != template.metadata.digest:
        raise ConfigError(f"template '{name}' digest is {template.metadata.digest}, the run config pins "
                          f"{run.template_digest}", file=file, path="template_digest",
                          fix="pin the template version you validated against (template_version) or update the pin")
    definition = copy.deepcopy(template.definition)
    for section, key in (("datasets", "dataset_id"), ("backends", "backend_id"),
                         ("role_adapters", "adapter_id"), ("tasks", "task_id")):
        overrides = getattr(run.runtime, section)
        if overrides:
            definition[section] = _apply_by_id(definition.get(section, []), overrides, key, section, file)
    for section in ("execution", "observability"):
        if getattr(run.runtime, section):
            definition[section] = _merge(definition.get(section, {}), getattr(run.runtime, section))
    definition.setdefault("metadata", {})
    definition["metadata"] = {**definition["metadata"], **run.metadata.model_dump(exclude_defaults=True),
                              "template": f"{name}@{template.metadata.version}",
                              "template_digest": template.metadata.digest}
    definition["kind"] = "PipelineConfig"
    return parse_model(PipelineConfig, definition, file,
                       note=f"in the pipeline compiled from {run.base_task} and the runtime overrides")


def distill(pipeline: dict[str, Any], name: str, out_root: Path) -> Path:
    """Freeze a pipeline's definition into config/builtin_templates/<name>/v<N+1>.yaml."""
    if not _NAME.match(name):
        raise ConfigError(f"invalid template name '{name}'", path="--builtin-name",
                          fix="use letters, digits, '_', '-' and '.' (it becomes a folder name)")
    definition = {k: v for k, v in pipeline.items() if k not in ("api_version", "kind")}
    target_dir = out_root / name
    target_dir.mkdir(parents=True, exist_ok=True)
    versions = [int(m.group(1)) for f in target_dir.iterdir() if (m := _VERSION_FILE.match(f.name))]
    version = max(versions, default=0) + 1
    doc = {"api_version": "gage/v1alpha1", "kind": "BuiltinTemplate",
           "metadata": {"name": name, "version": f"V{version}", "digest": canonical_digest(definition)},
           "definition": definition}
    target = target_dir / f"v{version}.yaml"
    with target.open("x", encoding="utf-8") as fh:  # never overwrite a released version
        yaml.safe_dump(doc, fh, sort_keys=False, allow_unicode=True)
    return target


def init_config(name: str, mode: str, extra: list[Path] | None = None) -> dict[str, Any]:
    """A RunConfig pinned to the latest version (and digest) of template `name`, or its PipelineConfig."""
    if mode not in ("run-config", "pipeline-config"):
        raise ConfigError(f"unknown init mode '{mode}'", path="--init-mode", fix="use run-config or pipeline-config")
    tpl_path = find_template(name, None, extra, path="--init")
    template = load_template(tpl_path)
    if mode == "pipeline-config":
        return {"api_version": template.api_version, "kind": "PipelineConfig", **copy.deepcopy(template.definition)}
    d = template.definition
    return {"api_version": template.api_version, "kind": "RunConfig",
            "metadata": {"name": f"{name}_run"},
            "base_task": f"builtin/{name}",
            "template_version": f"v{_VERSION_FILE.match(tpl_path.name).group(1)}",  # type: ignore[union-attr]
            "template_digest": template.metadata.digest,
            "runtime": {  # the knobs users change most; anything else can be added the same way
                "datasets": [{"dataset_id": ds["dataset_id"], "params": copy.deepcopy(ds.get("params", {}))}
                             for ds in d.get("datasets", [])],
                "backends": [{"backend_id": b["backend_id"], "config": copy.deepcopy(b.get("config", {}))}
                             for b in d.get("backends", []) if b.get("backend_id")],
            }}
