"""gage-eval: step-chain evaluation of large language models."""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "registry", "run", "arun", "run_task"]


def __getattr__(name: str) -> Any:
    # Lazy: `import gage_eval` must stay cheap for the CLI's --help and for plugins.
    if name == "registry":
        from gage_eval.registry import registry
        return registry
    if name in ("run", "arun", "run_task"):
        from gage_eval import api
        return getattr(api, name)
    raise AttributeError(name)
