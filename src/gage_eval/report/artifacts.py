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

from gage_eval.report.samples import SampleScanner

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
    notes: list[str] = field(default_factory=list)  # informational, e.g. "in progress"

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def samples_path(self) -> Path:
        return self.path / "samples.jsonl"

    def models(self) -> list[dict[str, str]]:
        out = []
        backends = (self.config or {}).get("backends")
        for backend in backends if isinstance(backends, list) else []:
            if not isinstance(backend, dict):
                continue
            conf = backend.get("config") if isinstance(backend.get("config"), dict) else {}
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
        metadata = (self.config or {}).get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        return {"run_id": self.run_id, "status": self.status, "error": None,
                "config_name": metadata.get("name"), "template": metadata.get("template"),
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


def _dicts(value: Any, *, of_dicts: bool = False) -> bool:
    return isinstance(value, dict) and (not of_dicts or all(isinstance(v, dict) for v in value.values()))


def summary_shape_problem(summary: dict[str, Any]) -> str | None:
    """What in summary.json does not have the engine's shape (hand-edited or from another tool), if anything."""
    checks = {"run": lambda v: isinstance(v, dict), "metrics": lambda v: _dicts(v, of_dicts=True),
              "failures": lambda v: isinstance(v, dict), "timings": lambda v: isinstance(v, dict),
              "runtime_health": lambda v: isinstance(v, dict) and _dicts(v.get("backends") or {}, of_dicts=True),
              "tasks": lambda v: isinstance(v, list) and all(
                  isinstance(t, dict) and _dicts(t.get("metrics") or {}, of_dicts=True) for t in v)}
    for key, ok in checks.items():
        if key in summary and summary[key] is not None and not ok(summary[key]):
            return key
    return None


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
        text = Path("/proc/locks").read_text()
    except OSError:
        return None
    try:
        st = lock.stat()
    except OSError:
        return False  # every `gage run` creates the lock file first
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
        payload = (info.last_event or {}).get("payload")
        return str((payload.get("status") if isinstance(payload, dict) else None) or "finished")
    return "incomplete"


def load_run(run_dir: Path) -> RunInfo:
    info = RunInfo(run_id=run_dir.name, path=run_dir)
    if not run_dir.is_dir():
        info.missing.append("run directory")
        info.status = "missing"
        return info
    info.summary = _read_json(run_dir / "summary.json", info)
    bad = summary_shape_problem(info.summary) if info.summary is not None else None
    if bad:
        info.warnings.append(f"summary.json has an unexpected '{bad}' section; it is ignored")
        info.summary = None
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
        if info.running:  # summary.json is written when the run ends: nothing is wrong
            info.missing.remove("summary.json")
            info.notes.append("run in progress: metrics below are computed from the samples recorded so far "
                              "and update as samples finish")
        else:
            info.warnings.insert(0, "summary.json is missing (the run was killed or has not finished): metrics "
                                    "below are computed from the samples recorded so far")
    return info


def effective_summary(info: RunInfo, scan: SampleScanner) -> dict[str, Any]:
    """summary.json, or a partial one from the samples the scanner has read."""
    if info.summary is not None:
        return info.summary
    return {"run": info.run_section(), **scan.partial_summary(), "timings": {}, "runtime_health": {}, "partial": True}


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
