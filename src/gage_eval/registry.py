"""Global asset registry: `@registry.asset(kind, name)` plus lazy discovery of built-ins and plugins.

Built-in modules are imported the first time a kind is looked up, so `import gage_eval` stays cheap.
Third-party packages register through the entry-point group ``gage_eval.plugins`` (the entry point
may name a module or a callable taking the registry). A project's own benchmarks live in
``./gage_benchmarks/<name>/`` (what `gage support implement` writes): discovery imports them from the
current directory, like pytest imports conftest.py. Configs may also name any object directly with a
``package.module:attr`` import path.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

from gage_eval.errors import ConfigError, close_match_hint

DEFAULT_KINDS: tuple[str, ...] = (
    "backends", "roles", "metrics", "context_impls", "judge_impls", "dataset_hubs",
    "dataset_loaders", "dataset_preprocessors", "doc_converters", "prompts", "model_hubs",
    "templates", "reporting_sinks", "summary_generators", "observability_plugins", "pipeline_steps",
    "tools",  # Python functions agents can call (gage_eval.agents.python_tools)
)

# Modules whose import registers the built-in assets.
BUILTIN_MODULES: tuple[str, ...] = (
    "gage_eval.backends.dummy",
    "gage_eval.backends.openai_http",
    "gage_eval.backends.hf",
    "gage_eval.backends.vllm",
    "gage_eval.backends.sglang",
    "gage_eval.backends.tgi",
    "gage_eval.backends.litellm_backend",
    "gage_eval.roles.model_roles",
    "gage_eval.roles.dock_roles",
    "gage_eval.roles.builtin_impls",
    "gage_eval.roles.agent_roles",
    "gage_eval.agents.builtin_tools",
    "gage_eval.roles.modal_processor",
    "gage_eval.metrics.builtin",
    "gage_eval.metrics.multiple_choice",
    "gage_eval.metrics.pass_at_k",
    "gage_eval.judges.prompts",
    "gage_eval.judges.roles",
    "gage_eval.judges.metrics",
    "gage_eval.arena.human",
    "gage_eval.arena.leaderboard",
    "gage_eval.games.role",
    "gage_eval.games.schedule",
    "gage_eval.games.stats",
    "gage_eval.datasets.loaders",
    "gage_eval.datasets.preprocessors",
    "gage_eval.prompts.builtin",
    "gage_eval.steps.builtin",
    "gage_eval.observability.sinks",
    "gage_eval.report.generators",
)

PLUGIN_GROUP = "gage_eval.plugins"
PROJECT_PACKAGE = "gage_benchmarks"  # <project>/gage_benchmarks/<name>/: a project's own benchmarks


def _benchmark_modules() -> list[str]:
    """Every sub-package of gage_eval.benchmarks registers its own preprocessors, prompts and metrics."""
    import pkgutil

    import gage_eval.benchmarks as benchmarks

    return [f"{benchmarks.__name__}.{m.name}" for m in pkgutil.iter_modules(benchmarks.__path__) if m.ispkg]
T = TypeVar("T")


@dataclass(frozen=True)
class AssetEntry:
    kind: str
    name: str
    obj: Any
    desc: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    module: str = ""


def import_object(path: str, config_path: str | None = None) -> Any:
    """Import ``package.module:attr`` (attr may be dotted)."""
    module_name, _, attr = path.partition(":")
    if not module_name.strip() or not attr.strip():
        raise ConfigError(f"'{path}' is not an import path", path=config_path,
                          fix="use the form 'package.module:attribute'")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import module '{module_name}' (from '{path}'): {exc}", path=config_path,
                          fix="check the module name, that its package is installed and that it is on "
                              "sys.path (run from the project root)") from None
    except Exception as exc:  # noqa: BLE001 - the user's module failed while being imported
        raise ConfigError(f"importing module '{module_name}' (from '{path}') failed: {type(exc).__name__}: {exc}",
                          path=config_path, fix=f"fix the error in {module_name}") from None
    for part in attr.split("."):
        if not hasattr(target, part):
            public = [n for n in dir(target) if not n.startswith("_")]
            raise ConfigError(f"module '{module_name}' has no attribute '{attr}'", path=config_path,
                              fix=close_match_hint(part, public, label="its attributes"))
        target = getattr(target, part)
    return target


def _singular(kind: str) -> str:
    return kind.removesuffix("s")


class Registry:
    def __init__(self, kinds: tuple[str, ...] = DEFAULT_KINDS) -> None:
        self._tables: dict[str, dict[str, AssetEntry]] = {k: {} for k in kinds}
        self._discovered = False
        self._loading_builtins = False
        self._plugin_errors: list[str] = []
        self._projects: dict[Path, str] = {}  # project benchmark folder -> the package name it was imported as
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
            # Built-ins are imported lazily, possibly after user code registered the same name:
            # the user's registration wins.
            if not (self._loading_builtins and name in table):
                table[name] = AssetEntry(kind, name, obj, desc, tuple(tags), getattr(obj, "__module__", ""))
            return obj

        return decorate

    def register(self, kind: str, name: str, obj: Any, *, desc: str = "", tags: tuple[str, ...] = ()) -> None:
        self.asset(kind, name, desc=desc, tags=tags)(obj)

    def discover(self) -> None:
        """Import built-in modules, then plugins, once (idempotent, thread-safe).

        A plugin that fails to load is reported as a warning (and in unknown-name errors) rather than
        breaking every command: configs that do not use it still run."""
        with self._lock:
            if self._discovered:
                return
            self._discovered = True
            self._loading_builtins = True
            try:
                for module in BUILTIN_MODULES:
                    importlib.import_module(module)
                for module in _benchmark_modules():
                    importlib.import_module(module)
            finally:
                self._loading_builtins = False
            self.load_project(Path.cwd())
            for ep in entry_points(group=PLUGIN_GROUP):
                try:
                    loaded = ep.load()
                    if callable(loaded) and not isinstance(loaded, type):
                        loaded(self)
                except Exception as exc:  # noqa: BLE001 - third-party code
                    dist = getattr(getattr(ep, "dist", None), "name", None)
                    problem = (f"plugin '{ep.name}' ({ep.value}{', package ' + dist if dist else ''}) failed to "
                               f"load: {type(exc).__name__}: {exc}")
                    self._plugin_errors.append(problem)
                    warnings.warn(problem, RuntimeWarning, stacklevel=2)

    def load_project(self, root: Path) -> list[str]:
        """Import the benchmarks of a project, ``<root>/gage_benchmarks/<name>/__init__.py`` each, and return the
        module names. The folder is imported from its location, without putting the project on sys.path (its
        other modules must not shadow installed packages); generated packages import their own modules
        relatively. A benchmark that fails to import is a warning, as a broken plugin is."""
        folder = (Path(root) / PROJECT_PACKAGE).resolve()
        if not (folder / "__init__.py").is_file():
            return []
        with self._lock:
            if folder in self._projects:
                return []
            loaded = sys.modules.get(PROJECT_PACKAGE)
            same = loaded is not None and [str(folder)] == list(getattr(loaded, "__path__", []))
            name = PROJECT_PACKAGE if loaded is None or same else (
                f"{PROJECT_PACKAGE}_{hashlib.sha1(str(folder).encode()).hexdigest()[:10]}")
            self._projects[folder] = name
            modules = []
            try:
                if name not in sys.modules:
                    spec = importlib.util.spec_from_file_location(name, folder / "__init__.py",
                                                                  submodule_search_locations=[str(folder)])
                    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
                    sys.modules[name] = module
                    spec.loader.exec_module(module)  # type: ignore[union-attr]
            except Exception as exc:  # noqa: BLE001 - the user's code
                sys.modules.pop(name, None)
                self._project_error(folder / "__init__.py", exc)
                return []
            for sub in sorted(p for p in folder.iterdir() if (p / "__init__.py").is_file()):
                try:
                    modules.append(importlib.import_module(f"{name}.{sub.name}").__name__)
                except Exception as exc:  # noqa: BLE001 - the user's code
                    self._project_error(sub, exc)
            return modules

    def _project_error(self, where: Path, exc: BaseException) -> None:
        problem = f"project benchmark {where} failed to import: {type(exc).__name__}: {exc}"
        self._plugin_errors.append(problem)
        warnings.warn(problem, RuntimeWarning, stacklevel=3)

    def get(self, kind: str, name: str, *, config_path: str | None = None) -> Any:
        """Look up an asset by name, or import it when `name` is a ``module:attr`` path."""
        table = self._table(kind)
        if ":" in name:
            try:
                return import_object(name)
            except ConfigError as exc:
                exc.path = exc.path or config_path
                raise
        self.discover()
        if name not in table:
            fix = close_match_hint(name, table) + "; or give an import path 'package.module:attribute'"
            if self._plugin_errors:
                fix += "; note: " + "; ".join(self._plugin_errors)
            raise ConfigError(f"unknown {_singular(kind)} '{name}'", path=config_path, fix=fix)
        return table[name].obj

    def entry(self, kind: str, name: str) -> AssetEntry | None:
        self.discover()
        return self._table(kind).get(name)

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
