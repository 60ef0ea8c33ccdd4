"""A local web app served by uvicorn in a daemon thread, beside a run: it never touches the run's event loop
or its Ctrl-C handling. Used by the human review page and the game board page."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class BackgroundServer:
    def __init__(self, app: Any, host: str, port: int, name: str, start_failed: Callable[[str], Exception]) -> None:
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, name=name, daemon=True)
        self.address = f"{host}:{port}"
        self._start_failed = start_failed

    def start(self, timeout_s: float = 10.0) -> str:
        """Start and return the page's URL (with the real port when port 0 asked for any free one)."""
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise self._start_failed(self.address)
            time.sleep(0.02)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}/"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
