"""The shard protocol between the driver and its workers, whatever carries it (pipes or Ray).

1. `hello` → the worker's `Hello` (plain data: versions, pid, host). The driver checks the versions before
   it sends anything built from gage classes, so a worker with another gage-eval fails with a clear message
   rather than while unpickling.
2. `setup(WorkerSetup)` → the worker builds the same engine pieces a single-node run builds (backends,
   role adapters, step chains, metrics) and runs the pre-flight from where it is; it answers its warnings
   or an `ErrorInfo`.
3. `run_shard(Shard)` → a stream of `Batch`es: each finished sample as its samples.jsonl line, already
   encoded, plus the few fields the driver needs for counts, events and the failure policy.
4. `close` → a `WorkerReport` (request statistics for summary.json's runtime_health).
"""
from __future__ import annotations

import hashlib
import os
import platform
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from gage_eval.errors import BackendError, ConfigError, GageError, PreflightError


class DistributedError(GageError):
    """The distributed setup cannot work (cluster unreachable, workers lost, mismatched environments)."""

    exit_code = 1


class WorkerLost(Exception):
    """The worker process or its node is gone; its unfinished samples go back to the queue."""


@dataclass
class Hello:
    pid: int
    host: str
    versions: dict[str, str]


@dataclass
class WorkerSetup:
    cfg: Any  # PipelineConfig
    settings: Any  # RunSettings, secrets included (pickled, never logged)
    index: int
    endpoints: dict[str, dict[str, Any]]  # caller key -> config entries (launched servers, endpoint pools)
    run_dir: str


@dataclass
class Shard:
    shard_id: int
    task_id: str
    items: list[tuple[int, Any]]  # (seq, Sample)
    done: set[int] = field(default_factory=set)  # driver side: seqs whose record was written

    def unfinished(self) -> list[tuple[int, Any]]:
        return [item for item in self.items if item[0] not in self.done]

    def __getstate__(self) -> dict[str, Any]:  # the driver's bookkeeping stays with the driver
        return {"shard_id": self.shard_id, "task_id": self.task_id, "items": self.items, "done": set()}


class Finished(NamedTuple):
    seq: int
    sample_id: str
    error: dict[str, Any] | None
    metrics: dict[str, Any] | None  # only with --sample-events
    line: bytes  # the samples.jsonl line


@dataclass
class Batch:
    records: list[Finished]
    events: list[tuple[str, dict[str, Any], str | None]] = field(default_factory=list)


@dataclass
class WorkerReport:
    backends: dict[str, Any]  # caller key -> RequestStats
    cache_hits: int = 0
    cache_misses: int = 0
    cpu_s: float = 0.0  # the worker process's CPU time, start-up included


# -- versions ----------------------------------------------------------------------------------------

_CODE_DIGEST: str | None = None


def code_digest() -> str:
    """sha256 of gage_eval's Python sources: two installs of one version number can still differ (a
    development checkout), and a worker must score with exactly the driver's code."""
    global _CODE_DIGEST
    if _CODE_DIGEST is None:
        root = Path(__file__).resolve().parents[1]
        h = hashlib.sha256()
        for path in sorted(root.rglob("*.py")):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
        _CODE_DIGEST = h.hexdigest()[:16]
    return _CODE_DIGEST


def local_versions() -> dict[str, str]:
    from gage_eval import __version__
    from gage_eval.report.summary import package_versions

    return {**package_versions(), "gage-eval": __version__, "gage-eval code": code_digest()}


def hello() -> Hello:
    return Hello(os.getpid(), socket.gethostname(), local_versions())


def check_versions(driver: dict[str, str], worker: Hello, label: str) -> None:
    """Every package that shapes results must match: a worker scoring with another version would make the
    distributed summary differ from the single-node one."""
    names = sorted(set(driver) | set(worker.versions))
    diffs = [f"{n}: driver {driver.get(n, 'not installed')}, worker {worker.versions.get(n, 'not installed')}"
             for n in names if driver.get(n) != worker.versions.get(n)]
    if not diffs:
        return
    python = platform.python_version()
    raise DistributedError(
        f"{label} on host {worker.host} runs a different environment than the driver: " + "; ".join(diffs),
        fix=f"install the same versions on every node (Python {python}, "
            f"pip install 'gage-eval=={driver.get('gage-eval')}' and the packages named), or give the workers "
            "the driver's environment with execution.distributed.runtime_env")


# -- errors across the wire --------------------------------------------------------------------------

def error_info(exc: BaseException) -> dict[str, Any]:
    """An exception as plain data; PreflightError and BackendError do not survive pickling as themselves."""
    info: dict[str, Any] = {"type": type(exc).__name__, "message": getattr(exc, "message", str(exc))}
    if isinstance(exc, GageError):
        info.update(file=exc.file, path=exc.path, fix=exc.fix)
    if isinstance(exc, PreflightError):
        cause = exc.cause
        info.update(backend=exc.backend, cause={"class": type(cause).__name__, "message": cause.message,
                                                "status": cause.status, "fix": cause.fix})
    return info


def raise_error(info: dict[str, Any], label: str) -> None:
    """Re-raise a worker's error on the driver as the kind of error it was, naming the worker."""
    if info["type"] == "PreflightError":
        from gage_eval import errors

        cause = info["cause"]
        cls = getattr(errors, cause["class"], BackendError)
        exc = PreflightError(cls(cause["message"], status=cause["status"], fix=cause["fix"]), backend=info["backend"])
        exc.message += f" (checked from {label})"
        raise exc
    if info["type"] == "ConfigError":
        raise ConfigError(info["message"], file=info.get("file"), path=info.get("path"), fix=info.get("fix"))
    raise DistributedError(f"{label} failed: {info['type']}: {info['message']}",
                           fix=info.get("fix") or "see the worker's log under logs/ and fix the cause")
