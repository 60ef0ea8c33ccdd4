"""Global asset registry: `@registry.asset(kind, name)` plus lazy discovery of built-ins and plugins.

Built-in modules are imported the first time a kind is looked up, so `import gage_eval` stays cheap.
Third-party packages register through the entry-point group ``gage_eval.plugins`` (the entry point
may name a module or a callable taking the registry). Configs may also name any object directly
with a ``package.module:attr`` import path.
"""
from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, TypeVar

from gage_eval.errors import ConfigError, close_match_hint

DEFAULT_KINDS: tuple[str, ...] = (
    "backends", "roles", "metrics", "context_impls", "judge_impls", "dataset_hubs",
    "dataset_loaders", "dataset_preprocessors", "doc_converters", "prompts", "model_hubs",
    "templates", "reporting_sinks", "summary_generators", "observability_plugins", "pipeline_steps",
)

# Modules whose import registers the built-in assets.
BUILTIN_MODULES: tuple[str, ...] = (
    "gage_eval.backends.dummy",
    "gage_eval.backends.openai_http",
    "gage_eval.roles.model_roles",
    "gage_eval.roles.dock_roles",
    "gage_eval.roles.builtin_impls",
    "gage_eval.metrics.builtin",
    "gage_eval.datasets.loaders",
    "gage_eval.datasets.preprocessors",
    "gage_eval.prompts.builtin",
    "gage_eval.steps.builtin",
    "gage_eval.observability.sinks",
    "gage_eval.report.generators",
)

PLUGIN_GROUP = "gage_eval.plugins"
T = TypeVar("T")


@dataclass(frozen=True)
class AssetEntry:
    kind: str
    name: str
    obj: Any
    desc: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    module: str = ""


def import_object(path: str) -> Any:
    """Import ``package.module:attr`` (attr may be dotted)."""
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"'{path}' is not an import path", fix="use the form 'package.module:attribute'")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import module '{module_name}': {exc}",
                          fix="check the module name and that its package is installed") from None
    for part in attr.split("."):
        if not hasattr(target, part):
            raise ConfigError(f"module '{module_name}' has no attribute '{attr}'",
                              fix="check the attribute name after ':'")
        target = getattr(target, part)
    return target


class Registry:
    def __init__(self, kinds: tuple[str, ...] = DEFAULT_KINDS) -> None:
        self._tables: dict[str, dict[str, AssetEntry]] = {k: {} for k in kinds}
        self._discovered = False
        self._lock = threading.RLock()

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._tables)

    def _table(self, kind: str) -> dict[str, AssetEntry]:
        if kind not in self._tables:
            raise ConfigError(f"unknown registry kind '{kind}'", fix=close_match_hint(kind, self._tables))
        return self._tables[kind]

    def asset(self, kind: str, name: str, *, desc: str = "", tags: tuple[str, ...] | list[str] = ()
              ) -> Callable[[T], T]:
        table = self._table(kind)

        def decorate(obj: T) -> T:
            table[name] = AssetEntry(kind, name, obj, desc, tuple(tags), getattr(obj, "__module__", ""))
            return obj

        return decorate

    def register(self, kind: str, name: str, obj: Any, *, desc: str = "", tags: tuple[str, ...] = ()) -> None:
        self.asset(kind, name, desc=desc, tags=tags)(obj)

    def discover(self) -> None:
        """Import built-in modules and plugins once (idempotent, thread-safe)."""
        with self._lock:
            if self._discovered:
                return
            self._discovered = True
            for module in BUILTIN_MODULES:
                importlib.import_module(module)
            for ep in entry_points(group=PLUGIN_GROUP):
                loaded = ep.load()
                if callable(loaded) and not isinstance(loaded, type):
                    loaded(self)

    def get(self, kind: str, name: str, *, config_path: str | None = None) -> Any:
        """Look up an asset by name, or import it when `name` is a ``module:attr`` path."""
        if ":" in name:
            return import_object(name)
        self.discover()
        table = self._table(kind)
        if name not in table:
            raise ConfigError(f"unknown {kind} '{name}'", path=config_path, fix=close_match_hint(name, table))
        return table[name].obj

    def has(self, kind: str, name: str) -> bool:
        self.discover()
        return name in self._table(kind)

    def entries(self, kind: str | None = None) -> Iterator[AssetEntry]:
        self.discover()
        for k in ([kind] if kind else self.kinds):
            yield from sorted(self._table(k).values(), key=lambda e: e.name)

    def manifest(self) -> dict[str, list[dict[str, Any]]]:
        return {k: [{"name": e.name, "desc": e.desc, "tags": list(e.tags), "module": e.module}
                    for e in self.entries(k)] for k in self.kinds}


registry = Registry()
