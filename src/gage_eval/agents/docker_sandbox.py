"""Docker sandbox sessions through the docker SDK (`pip install 'gage-eval[agents]'`).

One container per session: `sleep infinity` as its main process, commands through `exec_run` under
coreutils `timeout` (the SDK's exec has no timeout of its own), `network_mode: none` unless the profile says
otherwise, CPU (`nano_cpus`) and memory (`mem_limit`) limits, a `gage-eval.run` label. Containers are
removed (`force=True`) when the session closes — the sample's end, an error, Ctrl-C — and, on a second
Ctrl-C that exits at once, by the engine's hard-exit hook; a label filter finds any a SIGKILLed run left.
The SDK is synchronous: every call runs in a worker thread.
"""
from __future__ import annotations

import asyncio
import io
import logging
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

from gage_eval.agents.sandbox_profiles import ExecResult
from gage_eval.config.models import SandboxProfileSpec
from gage_eval.engine import stop
from gage_eval.errors import ConfigError

log = logging.getLogger("gage_eval")
LABEL = "gage-eval.run"
_LIVE: dict[str, Any] = {}  # container id -> container, for the hard-exit hook
_LIVE_LOCK = threading.Lock()


def docker_client(path: str) -> Any:
    try:
        import docker
    except ImportError:
        raise ConfigError("a docker sandbox profile needs the docker package", path=path,
                          fix="pip install 'gage-eval[agents]'") from None
    return docker.from_env()


def require_docker(spec: SandboxProfileSpec, path: str) -> None:
    """Fail at validation, naming the profile, when no Docker daemon answers."""
    try:
        client = docker_client(path)
        client.ping()
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - every way of not reaching the daemon says the same thing
        raise ConfigError(f"sandbox profile '{spec.profile_id}' uses runtime: docker, and no Docker daemon is "
                          f"reachable ({type(exc).__name__}: {str(exc)[:200]})", path=path,
                          fix="start Docker (or set DOCKER_HOST to a reachable daemon), or use runtime: local "
                              "for this profile") from None


def run_kwargs(spec: SandboxProfileSpec, run_id: str) -> dict[str, Any]:
    """containers.run() arguments for a profile (kept separate so they can be checked without a daemon)."""
    kwargs: dict[str, Any] = {"image": spec.image, "command": ["sleep", "infinity"], "detach": True,
                              "network_mode": spec.network_mode, "working_dir": spec.workdir,
                              "environment": dict(spec.env), "labels": {LABEL: run_id}, "init": True}
    if spec.cpus is not None:
        kwargs["nano_cpus"] = int(spec.cpus * 1e9)
    if spec.memory is not None:
        kwargs["mem_limit"] = spec.memory
    kwargs.update(spec.docker_options)
    return kwargs


def exec_argv(command: str, timeout_s: float) -> list[str]:
    return ["timeout", "-k", "5", f"{timeout_s:g}", "/bin/sh", "-c", command]


def _remove(container: Any) -> None:
    try:
        container.remove(force=True)
    except Exception as exc:  # noqa: BLE001 - already gone is fine; anything else is logged
        if "404" not in str(exc) and "No such container" not in str(exc):
            log.warning("could not remove container %s: %s", getattr(container, "id", "?"), exc)
    with _LIVE_LOCK:
        _LIVE.pop(getattr(container, "id", ""), None)


def remove_all_now() -> None:
    """The hard-exit hook (second Ctrl-C): remove every container this process started."""
    with _LIVE_LOCK:
        live = list(_LIVE.values())
    for container in live:
        _remove(container)


stop.on_hard_exit(remove_all_now)


class DockerSession:
    def __init__(self, spec: SandboxProfileSpec, run_id: str) -> None:
        self.spec = spec
        self.run_id = run_id
        self.workdir = spec.workdir
        self.container: Any = None

    async def start(self) -> DockerSession:
        client = docker_client("sandbox_profiles")

        def run() -> Any:
            container = client.containers.run(**run_kwargs(self.spec, self.run_id))
            with _LIVE_LOCK:
                _LIVE[container.id] = container
            return container

        self.container = await asyncio.shield(asyncio.to_thread(run))  # a started container is always tracked
        return self

    async def exec(self, command: str, timeout_s: float | None = None) -> ExecResult:
        timeout = timeout_s or self.spec.command_timeout_s
        start = time.monotonic()
        result = await asyncio.to_thread(self.container.exec_run, exec_argv(command, timeout),
                                         workdir=self.workdir, demux=True)
        out, err = result.output if isinstance(result.output, tuple) else (result.output, b"")
        code = result.exit_code
        timed_out = code in (124, 137)  # coreutils timeout: 124 after SIGTERM, 128+9 after its -k SIGKILL
        return ExecResult(None if timed_out else code, (out or b"").decode(errors="replace")[-65536:],
                          (err or b"").decode(errors="replace")[-65536:], time.monotonic() - start, timed_out)

    async def save(self, paths: list[str], dest: Path) -> list[str]:
        saved = []
        for path in paths:
            def fetch(p: str = path) -> bytes | None:
                try:
                    stream, _ = self.container.get_archive(p)
                except Exception:  # noqa: BLE001 - a path the agent never created is not an error
                    return None
                return b"".join(stream)

            blob = await asyncio.to_thread(fetch)
            if blob is None:
                continue
            dest.mkdir(parents=True, exist_ok=True)
            with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
                tar.extractall(dest, filter="data")
            saved.append(str(dest / Path(path).name))
        return saved

    async def aclose(self) -> None:
        container, self.container = self.container, None
        if container is not None:
            await asyncio.shield(asyncio.to_thread(_remove, container))
