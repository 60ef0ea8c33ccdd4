"""The shard protocol over Ray: one actor per worker (its own process, event loop, backends and concurrency),
finished records streamed back through Ray's streaming generators.

Connecting checks what can be checked before any sample is sent: Ray installed, the address reachable
(a TCP check with a short timeout, not Ray's long retry loop), enough CPUs for the workers, and then each
worker's environment (gage-eval importable, same versions) through the protocol's hello.
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

from gage_eval.distributed.pool import WorkerHandle
from gage_eval.distributed.protocol import (
    Batch,
    DistributedError,
    Hello,
    Shard,
    WorkerLost,
    WorkerReport,
    WorkerSetup,
    raise_error,
)
from gage_eval.errors import ConfigError

log = logging.getLogger("gage_eval")

ADDRESS_FIX = ("start a cluster with `gage ray up` (or `ray start --head`) and pass its address: auto on a cluster "
               "node, ray://HEAD:10001 from elsewhere, or local for a throwaway one on this machine")


def import_ray(where: str) -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("Ray is not installed", path=where, fix="pip install 'gage-eval[ray]'") from None
    return ray


def _host_port(address: str) -> tuple[str, int] | None:
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        return (parts.hostname, parts.port) if parts.hostname and parts.port else None
    except ValueError:
        return None


def _unreachable(host: str, port: int, timeout_s: float = 3.0) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except ConnectionRefusedError:
        return "connection refused (nothing listens there)"
    except socket.timeout:
        return f"no answer within {timeout_s:g} s"
    except OSError as exc:
        return exc.strerror or str(exc)


@contextlib.contextmanager
def _keep_signal_handlers() -> Iterator[None]:
    """ray.init installs a SIGTERM handler that exits the process; the run's own handlers (engine/stop.py) must
    stay, so that SIGTERM stops a distributed run like any other: samples kept, status interrupted, exit 130."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            if handler is not None and signal.getsignal(sig) is not handler:
                signal.signal(sig, handler)


def connect(address: str, workers: int | None, where: str) -> bool:
    """Connect this process to Ray (or start a local cluster); True when this call started the connection."""
    ray = import_ray(where)
    if ray.is_initialized():  # a notebook or test already connected: use that cluster
        return False
    with _keep_signal_handlers():
        return _init(ray, address, workers, where)


def _init(ray: Any, address: str, workers: int | None, where: str) -> bool:
    options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING,
                               "include_dashboard": False}
    if address == "local":
        ray.init(address="local", num_cpus=workers or os.cpu_count() or 1, **options)
        return True
    if address != "auto":
        target = _host_port(address)
        if target is None:
            raise ConfigError(f"'{address}' is not a Ray address", path=where,
                              fix="use local, auto, ray://HOST:PORT (Ray Client, port 10001) or HOST:PORT (the GCS)")
        problem = _unreachable(*target)
        if problem:
            raise DistributedError(f"cannot reach the Ray cluster at {address}: {problem}", fix=ADDRESS_FIX)
        options.pop("include_dashboard")  # a setting of clusters this call starts, refused when connecting
    else:
        options.pop("include_dashboard")
    _use_token_auth_if_available()
    try:
        ray.init(address=address, **options)
    except Exception as exc:  # noqa: BLE001 - ConnectionError, RuntimeError, grpc errors: all mean "not there"
        raise DistributedError(f"cannot connect to the Ray cluster at {address}: {type(exc).__name__}: "
                               f"{str(exc).splitlines()[0] if str(exc) else ''}", fix=ADDRESS_FIX) from None
    return True


def _use_token_auth_if_available() -> None:
    """Ray (2.5x+) starts clusters with token authentication by default but connects to one without it unless
    RAY_AUTH_MODE=token is set; with a token at hand (~/.ray/auth_token, RAY_AUTH_TOKEN) use it, as Ray's own
    `ray start` does."""
    try:
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available,
        )
    except ImportError:  # older Ray: no token authentication
        return
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)


def cluster_cpus() -> int:
    import ray

    return int(ray.cluster_resources().get("CPU", 0))


def check_capacity(workers: int) -> None:
    cpus = cluster_cpus()
    if cpus < workers:
        raise DistributedError(f"the Ray cluster has {cpus} CPUs but {workers} workers were asked for (one CPU each)",
                               fix=f"use --workers {max(1, cpus)} or fewer, or add nodes to the cluster")


def startup_error(exc: BaseException, index: int) -> DistributedError:
    text = str(exc)
    if "No module named 'gage_eval" in text:
        return DistributedError(
            f"Ray worker {index} cannot import gage_eval: gage-eval is not installed in the workers' Python "
            "environment (or is an older version without gage_eval.distributed)",
            fix="pip install the driver's gage-eval version on every node (`pip install 'gage-eval[ray]'`), or "
                "give it to the workers with execution.distributed.runtime_env: {pip: [...]}")
    first = next((line for line in text.splitlines() if line.strip()), type(exc).__name__)
    return DistributedError(f"Ray worker {index} failed to start: {first}",
                            fix="see the Ray worker logs (/tmp/ray/session_latest/logs on the worker's node)")


class RayWorker(WorkerHandle):
    def __init__(self, index: int, actor: Any) -> None:
        self.index = index
        self.actor = actor

    async def hello(self) -> Hello:
        from ray.exceptions import RayError

        try:
            return await self.actor.hello.remote()
        except RayError as exc:
            self.alive = False
            raise startup_error(exc, self.index) from None

    async def setup(self, setup: WorkerSetup) -> list[str]:
        from ray.exceptions import RayError

        try:
            kind, value = await self.actor.setup.remote(setup)
        except RayError as exc:
            self.alive = False
            raise startup_error(exc, self.index) from None
        if kind == "error":
            raise_error(value, self.label)
        return value

    async def run_shard(self, shard: Shard) -> AsyncIterator[Batch]:
        from ray.exceptions import RayActorError, RayError

        if not self.alive:
            raise WorkerLost(f"{self.label} is gone")
        try:
            await self.actor.start_shard.remote(shard)
            while True:
                kind, value = await self.actor.next_batch.remote(shard.shard_id)
                if kind == "end":
                    return
                if kind == "error":
                    raise_error(value, self.label)
                yield value
        except RayActorError as exc:  # the actor's process or node died (ActorDiedError, ActorUnavailableError)
            self.alive = False
            detail = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
            raise WorkerLost(f"{self.label}: {detail}") from None
        except RayError as exc:
            raise DistributedError(f"{self.label} failed: {type(exc).__name__}: {str(exc).splitlines()[0]}",
                                   fix="see the Ray worker logs (/tmp/ray/session_latest/logs)") from None

    async def close(self) -> WorkerReport | None:
        return await self.actor.close.remote() if self.alive else None

    async def kill(self) -> None:
        import ray

        try:
            ray.kill(self.actor, no_restart=True)
        except Exception:  # noqa: BLE001 - already dead
            pass
        self.alive = False


def spawner(runtime_env: dict[str, Any] | None):
    import ray

    from gage_eval.distributed.ray_actor import ShardActor

    actor_cls = ray.remote(ShardActor)

    async def spawn(index: int) -> RayWorker:
        options: dict[str, Any] = {"num_cpus": 1, "max_restarts": 0, "name": None}
        if runtime_env:
            options["runtime_env"] = runtime_env
        return RayWorker(index, actor_cls.options(**options).remote())
    return spawn
