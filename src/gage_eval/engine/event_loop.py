"""One place that starts the event loop: uvloop when installed (less per-request overhead), else asyncio."""
from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Any:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro`; a run stopped by SIGINT / SIGTERM (engine.stop) surfaces as KeyboardInterrupt, like Ctrl-C."""
    from gage_eval.engine import stop

    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        try:
            return runner.run(coro)
        except asyncio.CancelledError:
            if stop.requested():
                raise KeyboardInterrupt from None
            raise
