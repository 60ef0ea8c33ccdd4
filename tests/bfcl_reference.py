"""bfcl-eval's own checker, importable in the tests.

bfcl_eval's checker modules import `constants.model_config`, which imports every model handler and with them a
dozen hosted-API SDKs (anthropic, cohere, mistralai, google-genai, qwen-agent, writer, ...) that the checker
functions never call. gage installs bfcl-eval with --no-deps (its pins would downgrade numpy), so those SDKs are
absent: this module lets exactly those imports resolve to inert placeholder modules, then imports the real
checker code. Nothing of the checker itself is replaced.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from typing import Any

import pytest

# Hosted-model SDKs imported at module level by bfcl_eval's model handlers (not by its checkers).
SDKS = ("anthropic", "cohere", "mistralai", "google.genai", "qwen_agent", "writerai", "datamodel_code_generator")


class _Meta(type):
    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Placeholder


class _Placeholder(metaclass=_Meta):
    """Stands for any class or function of an absent SDK: subclassable, callable, never used by the checker."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _Placeholder()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Placeholder()


class _PlaceholderModule(types.ModuleType):
    __path__: list[str] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Placeholder


class _SdkFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if any(fullname == sdk or fullname.startswith(sdk + ".") for sdk in SDKS):
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _PlaceholderModule(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def reference() -> types.SimpleNamespace:
    """bfcl_eval's eval_runner entry checks, multi-turn checker and decoders (skips the test without bfcl-eval)."""
    if importlib.util.find_spec("bfcl_eval") is None:
        pytest.skip("bfcl-eval is not installed (pip install --no-deps bfcl-eval==2026.3.23)")
    missing = [sdk for sdk in SDKS if _absent(sdk)]
    finder = _SdkFinder() if missing else None
    if finder is not None:
        sys.meta_path.insert(0, finder)
    try:
        from bfcl_eval.eval_checker import eval_runner
        from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_checker
        from bfcl_eval.model_handler import utils
        from bfcl_eval.model_handler.api_inference.openai_completion import OpenAICompletionsHandler
    finally:
        if finder is not None:
            sys.meta_path.remove(finder)
    return types.SimpleNamespace(eval_runner=eval_runner, multi_turn_checker=multi_turn_checker, utils=utils,
                                 handler=lambda fc: _handler(OpenAICompletionsHandler, fc))


def _absent(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is None
    except (ImportError, ValueError):
        return True


def _handler(cls: type, fc: bool) -> Any:
    # The OpenAI handler's decode_ast / decode_execute read only is_fc_model; its constructor opens an API client.
    handler = cls.__new__(cls)
    handler.is_fc_model = fc
    return handler
