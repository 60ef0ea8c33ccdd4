"""Live run pages for `gage view`, built on the same template as the standalone report.

A FastAPI router, so the viewer app adds it with one `app.include_router(live_router(runs_dir))`:
  GET /live/{run_id}                       the report page; rows are polled while the run is going
  GET /api/live/{run_id}/rows?start&epoch  rows appended since `start` (complete lines only)
  GET /api/live/{run_id}/samples/{n}       one full record, read back by its byte span
  GET /api/live/{run_id}/samples/{n}/media/{k}  the k-th image / audio file that record references
One SampleScanner per run is kept and polled incrementally, so a 100k-sample run costs one pass.
"""
from __future__ import annotations

import mimetypes
import threading
from html import escape
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from gage_eval.report.artifacts import is_run_dir, load_run
from gage_eval.report.samples import ROW_FIELDS, SampleScanner
from gage_eval.datasets.media import local_path, sniff
from gage_eval.report.standalone import asset, environment, report_context
from gage_eval.sample import MEDIA_PARTS, part_url

POLL_MS = 1000
_STATIC = {"report.css": ("report.css", "text/css"), "report.js": ("report.js", "text/javascript")}


class _Scanners:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_path: dict[Path, SampleScanner] = {}

    def get(self, run_dir: Path) -> SampleScanner:
        with self._lock:
            scan = self._by_path.get(run_dir)
            if scan is None:
                scan = self._by_path[run_dir] = SampleScanner(run_dir / "samples.jsonl")
        with scan.lock:
            scan.poll()
        return scan


def _resolve(root: Path, run_id: str) -> Path | None:
    """Direct children of the runs directory only: ids with separators or dots never leave it."""
    if not run_id or run_id in (".", "..") or "/" in run_id or "\\" in run_id:
        return None
    path = root / run_id
    return path if is_run_dir(path) else None


def _not_found(run_id: str, root: Path) -> JSONResponse:
    return JSONResponse({"detail": f"no run named '{run_id}' in {root}"}, status_code=404)


def _progress(partial: dict[str, Any]) -> dict[str, Any]:
    keep = ("value", "stderr", "ci95", "count")
    return {"sample_count": partial["sample_count"], "failed": partial["failures"]["total"],
            "metrics": {t["task_id"]: {name: {k: agg.get(k) for k in keep} for name, agg in t["metrics"].items()}
                        for t in partial["tasks"]}}


def live_router(runs_dir: Path) -> APIRouter:
    root = runs_dir.resolve()
    scanners = _Scanners()
    progress_cache: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}
    router = APIRouter()

    @router.get("/live/static/{name}")
    def static(name: str) -> Response:
        if name not in _STATIC:
            return Response(status_code=404)
        file, media = _STATIC[name]
        # Loaded once per browser session, not inlined into every page (the static report inlines them).
        return Response(asset(file), media_type=media, headers={"Cache-Control": "max-age=3600"})

    @router.get("/live/{run_id}", response_class=HTMLResponse)
    def run_page(run_id: str) -> Response:
        run_dir = _resolve(root, run_id)
        if run_dir is None:
            return HTMLResponse(f"<p>no run named '{run_id}'</p>", status_code=404)
        info = load_run(run_dir)
        try:
            ctx = report_context(info, scanners.get(run_dir))
            ctx["page"].update(mode="server", api=f"/api/live/{run_id}", live=info.running, pollMs=POLL_MS)
            html = environment().get_template("report.html.j2").render(**ctx, mode="server",
                                                                        static_base="/live/static")
        except Exception as exc:  # noqa: BLE001 - artifacts of any shape: say what broke, never a 500
            notes = "".join(f"<li>{escape(w)}</li>" for w in [*info.warnings, f"{type(exc).__name__}: {exc}"])
            html = (f"<!doctype html><title>{escape(run_id)}</title><h1>{escape(run_id)}</h1>"
                    f"<p>This run's artifacts could not be shown in full.</p><ul>{notes}</ul>"
                    f"<p>missing: {escape(', '.join(info.missing) or 'nothing')}</p>")
        return HTMLResponse(html)

    @router.get("/api/live/{run_id}/rows")
    def rows(run_id: str, start: int = 0, epoch: int = -1) -> Response:
        run_dir = _resolve(root, run_id)
        if run_dir is None:
            return _not_found(run_id, root)
        scan = scanners.get(run_dir)
        info = load_run(run_dir)
        with scan.lock:
            begin = start if epoch == scan.epoch else 0  # the file was compacted: resend everything
            body: dict[str, Any] = {"epoch": scan.epoch, "rows": scan.rows[max(0, begin):], "total": len(scan.rows),
                                    "fields": list(ROW_FIELDS), "status": info.status,
                                    "complete": not info.running, "warnings": scan.warnings()}
            if info.summary is None:  # in progress (or killed): the figures the page shows, from this scan
                key = (scan.epoch, len(scan.rows))  # recomputed only when samples came in (O(n) per metric)
                cached = progress_cache.get(run_dir)
                if cached is None or cached[0] != key:
                    cached = progress_cache[run_dir] = (key, _progress(scan.partial_summary()))
                body["progress"] = cached[1]
        return JSONResponse(body)

    def read_record(run_id: str, index: int, epoch: int) -> tuple[Path, dict[str, Any] | None] | Response:
        run_dir = _resolve(root, run_id)
        if run_dir is None:
            return _not_found(run_id, root)
        scan = scanners.get(run_dir)
        with scan.lock:
            return run_dir, scan.record(index) if epoch in (-1, scan.epoch) else None

    @router.get("/api/live/{run_id}/samples/{index}")
    def sample(run_id: str, index: int, epoch: int = -1) -> Response:
        found = read_record(run_id, index, epoch)
        if isinstance(found, Response):
            return found
        record = found[1]
        if record is None:
            return JSONResponse({"detail": f"sample #{index + 1} is not available (the file changed; reload)"},
                                status_code=404)
        return JSONResponse(record)

    @router.get("/api/live/{run_id}/samples/{index}/media/{k}")
    def media(run_id: str, index: int, k: int, epoch: int = -1) -> Response:
        found = read_record(run_id, index, epoch)
        if isinstance(found, Response):
            return found
        run_dir, record = found
        path = media_file(run_dir, record, k) if record is not None else None
        if path is None:
            return JSONResponse({"detail": f"sample #{index + 1} has no stored media #{k + 1}"}, status_code=404)
        return FileResponse(path, media_type=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                            headers={"Cache-Control": "max-age=3600"})

    return router


def media_file(run_dir: Path, record: dict[str, Any], k: int) -> Path | None:
    """The file behind a record's k-th media part: its copy in the run's media store, else the local file its
    URL names. Only files a record of this run references are ever served."""
    parts = [p for m in (record.get("sample") or {}).get("messages") or [] if isinstance(m, dict)
             and isinstance(m.get("content"), list) for p in m["content"] if isinstance(p, dict)
             and p.get("type") in MEDIA_PARTS]
    if not 0 <= k < len(parts):
        return None
    stored = (parts[k].get("media") or {}).get("file")
    if isinstance(stored, str):
        candidate = (run_dir / stored).resolve()
        if candidate.is_file() and run_dir.resolve() in candidate.parents:
            return candidate
    raw = local_path(part_url(parts[k]))
    candidate = Path(raw) if raw else None
    if candidate is None or not candidate.is_absolute() or not candidate.is_file():
        return None
    with candidate.open("rb") as fh:  # only media files: a record naming any other file gets nothing
        return candidate if sniff(fh.read(32)) is not None else None
