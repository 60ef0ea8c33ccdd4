"""Read a run directory as it is: finished, still running, killed, or damaged.

Nothing here raises on bad artifacts; what is missing or unreadable is collected in `missing` and
`warnings` so the report and the viewer can show what there is and say what is not.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from gage_eval.report.summary import aggregate_samples

ARTIFACT_NAMES = ("summary.json", "samples.jsonl", "events.jsonl", "run_meta.json", "config.json")
_RECENT_S = 60.0


@dataclass
class RunInfo:
    run_id: str
    path: Path
    summary: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    last_event: dict[str, Any] | None = None
    first_event: dict[str, Any] | None = None
    status: str = "unknown"
    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def samples_path(self) -> Path:
        return self.path / "samples.jsonl"

    def models(self) -> list[dict[str, str]]:
        out = []
        for backend in (self.config or {}).get("backends") or []:
            if not isinstance(backend, dict):
                continue
            conf = backend.get("config") or {}
            model = next((str(conf[k]) for k in ("model", "model_name", "model_path", "served_model_name")
                          if conf.get(k)), "")
            out.append({"backend_id": str(backend.get("backend_id", "?")), "type": str(backend.get("type", "?")),
                        "model": model or (f"mode={conf['mode']}" if conf.get("mode") else "")})
        return out

    def run_section(self) -> dict[str, Any]:
        """summary.run, or what events and run_meta.json tell about a run without a summary."""
        if self.summary and isinstance(self.summary.get("run"), dict):
            return self.summary["run"]
        start = (self.first_event or {}) if (self.first_event or {}).get("event") == "run_start" else {}
        return {"run_id": self.run_id, "status": self.status, "error": None,
                "config_name": ((self.config or {}).get("metadata") or {}).get("name"),
                "template": ((self.config or {}).get("metadata") or {}).get("template"),
                "results_digest": (self.meta or {}).get("results_digest"),
                "started_at": start.get("created_at"), "finished_at": None, "versions": {}}

    def task_ids(self) -> list[str]:
        return [str(t.get("task_id")) for t in (self.summary or {}).get("tasks") or [] if isinstance(t, dict)]


def _read_json(path: Path, info: RunInfo) -> dict[str, Any] | None:
    if not path.exists():
        info.missing.append(path.name)
        return None
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        info.warnings.append(f"{path.name} is unreadable ({exc}); it is ignored")
        return None
    if not isinstance(data, dict):
        info.warnings.append(f"{path.name} does not hold a JSON object; it is ignored")
        return None
    return data


def _edge_events(path: Path) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """First and last complete events, without reading a long events.jsonl whole."""
    def parse(lines: list[bytes]) -> dict[str, Any] | None:
        for line in lines:
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(event, dict):
                return event
        return None

    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
            fh.seek(max(0, path.stat().st_size - 65536))
            tail = fh.read()
    except OSError:
        return None, None
    first = parse([ln for ln in head.split(b"\n")[:-1]])
    last = parse(list(reversed(tail.split(b"\n")[:-1])))
    return first, last


def _flock_held(lock: Path) -> bool | None:
    """Whether a live process holds the engine's run lock; None where /proc/locks cannot tell.

    Reading /proc/locks rather than trying the lock ourselves matters: a probe that took the lock even
    for a moment could make a starting `gage run` fail with "run directory in use".
    """
    try:
        st = lock.stat()
        text = Path("/proc/locks").read_text()
    except OSError:
        return None
    # Match the inode only: on overlay filesystems /proc/locks may name another device number.
    suffix = f":{st.st_ino}"
    return any(f.endswith(suffix) for line in text.splitlines() if "FLOCK" in line for f in line.split()[5:6])


def _status(info: RunInfo) -> str:
    if info.summary and isinstance(info.summary.get("run"), dict) and info.summary["run"].get("status"):
        return str(info.summary["run"]["status"])
    held = _flock_held(info.path / ".lock")
    if held is None:
        mtimes = [p.stat().st_mtime for p in (info.samples_path, info.path / "events.jsonl") if p.exists()]
        held = bool(mtimes) and time.time() - max(mtimes) < _RECENT_S
    if held:
        return "running"
    if (info.last_event or {}).get("event") == "run_end":
        return str((info.last_event.get("payload") or {}).get("status") or "finished")  # type: ignore[union-attr]
    return "incomplete"


def load_run(run_dir: Path) -> RunInfo:
    info = RunInfo(run_id=run_dir.name, path=run_dir)
    if not run_dir.is_dir():
        info.missing.append("run directory")
        info.status = "missing"
        return info
    info.summary = _read_json(run_dir / "summary.json", info)
    info.config = _read_json(run_dir / "config.json", info)
    info.meta = _read_json(run_dir / "run_meta.json", info)
    if (run_dir / "events.jsonl").exists():
        info.first_event, info.last_event = _edge_events(run_dir / "events.jsonl")
    else:
        info.missing.append("events.jsonl")
    if not info.samples_path.exists():
        info.missing.append("samples.jsonl")
    info.status = _status(info)
    if info.summary is None and "summary.json" in info.missing:
        why = "the run is still in progress" if info.running else "the run was killed or has not finished"
        info.warnings.insert(0, f"summary.json is missing ({why}): metrics below are computed from the "
                                "samples recorded so far")
    return info


def effective_summary(info: RunInfo) -> dict[str, Any]:
    """summary.json, or a partial one aggregated from samples.jsonl (default `mean` aggregation)."""
    if info.summary is not None:
        return info.summary
    body = aggregate_samples(info.samples_path, {}, {})
    tasks = [{"task_id": tid, **t} for tid, t in body["tasks"].items()]
    return {"run": info.run_section(), "tasks": tasks, "metrics": body["metrics"],
            "sample_count": body["sample_count"], "failures": body["failures"], "timings": {},
            "runtime_health": {}, "partial": True}


def is_run_dir(path: Path) -> bool:
    return path.is_dir() and any((path / name).exists() for name in ARTIFACT_NAMES)


def discover_runs(runs_dir: Path) -> list[Path]:
    """Run directories directly under `runs_dir` (or `runs_dir` itself), newest first."""
    if is_run_dir(runs_dir):
        return [runs_dir]
    try:
        found = [p for p in runs_dir.iterdir() if not p.name.startswith(".") and is_run_dir(p)]
    except OSError:
        return []
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)
