"""Where onboarding reads and writes inside a user's project, and what a slug may be."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gage_eval.errors import ConfigError
from gage_eval.registry import PROJECT_PACKAGE

_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
DEV_DOCS = "dev_docs"


def slugify(text: str) -> str:
    """A Python-identifier-safe, lower-case name: ``openai/gsm8k`` -> ``gsm8k``, ``My Data.v2`` -> ``my_data_v2``."""
    base = text.rstrip("/").split("/")[-1]
    for suffix in (".gz", ".jsonl", ".json", ".parquet", ".csv", ".tsv", ".ndjson", ".arrow"):
        base = base.removesuffix(suffix)
    slug = re.sub(r"[^a-z0-9]+", "_", base.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"ds_{slug}" if slug else "dataset"
    return slug[:64]


def check_slug(slug: str, *, option: str = "--slug") -> str:
    if not _SLUG.match(slug):
        raise ConfigError(f"invalid slug '{slug}'", path=option,
                          fix="use lower-case letters, digits and '_', starting with a letter (it becomes a folder "
                              "and a Python package name)")
    return slug


def builtin_clash(slug: str, root: Path) -> str | None:
    """What a slug would shadow outside the project at `root`: a template or a preprocessor of that name."""
    from gage_eval.config.templates import available_templates
    from gage_eval.registry import registry

    own = (root / PROJECT_PACKAGE).resolve()
    versions = available_templates().get(slug)
    if versions and own not in versions[max(versions)].resolve().parents:
        return f"the template at {versions[max(versions)]}"
    entry = next((e for e in registry.entries("dataset_preprocessors") if e.name == slug), None)
    if entry is not None and not entry.module.startswith(PROJECT_PACKAGE):
        return f"the preprocessor of {entry.module}"
    return None


@dataclass(frozen=True)
class Project:
    """A user's project: the folder generated benchmarks go into (default: the current directory)."""

    root: Path

    @classmethod
    def at(cls, root: Path | None) -> Project:
        path = (root or Path.cwd()).expanduser().resolve()
        if not path.is_dir():
            raise ConfigError(f"project folder {path} does not exist", path="--project-dir",
                              fix="create it, or pass the folder your benchmarks should go into")
        return cls(path)

    def docs(self, slug: str) -> Path:
        return self.root / DEV_DOCS / slug

    def package(self, slug: str) -> Path:
        return self.root / PROJECT_PACKAGE / slug

    def rel(self, path: Path) -> str:
        """`path` relative to the project when inside it (for messages and generated configs)."""
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def slugs(self) -> list[str]:
        found = set()
        docs = self.root / DEV_DOCS
        if docs.is_dir():
            found |= {p.name for p in docs.iterdir() if p.is_dir() and _SLUG.match(p.name)}
        pkg = self.root / PROJECT_PACKAGE
        if pkg.is_dir():
            found |= {p.name for p in pkg.iterdir() if (p / "__init__.py").is_file() and _SLUG.match(p.name)}
        return sorted(found)

    def require_inspection(self, slug: str) -> Path:
        folder = self.docs(check_slug(slug, option="SLUG"))
        if not (folder / "schema.json").is_file():
            raise ConfigError(f"'{slug}' has not been inspected: {self.rel(folder / 'schema.json')} is missing",
                              path="SLUG", fix=f"run `gage support inspect DATASET --slug {slug}` first "
                                               "(`gage support status` lists what exists)")
        return folder
