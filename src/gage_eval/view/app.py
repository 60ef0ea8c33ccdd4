"""The FastAPI app of `gage view`: runs, live run pages, comparisons, leaderboard. Binds 127.0.0.1 only."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gage_eval.report.charts import step_chart
from gage_eval.report.compare import compare_runs
from gage_eval.report.standalone import render_report
from gage_eval.view import pages
from gage_eval.view.live import live_router
from gage_eval.view.runs import list_runs, resolve_run


def create_app(runs_dir: Path) -> FastAPI:
    app = FastAPI(title="gage view", docs_url=None, redoc_url=None, openapi_url=None)
    root = runs_dir.resolve()
    app.include_router(live_router(root))  # /live/{run_id}: the report page, fed and refreshed from the API

    @app.exception_handler(Exception)
    async def friendly(request: Request, exc: Exception) -> HTMLResponse:
        # A broken artifact must show as a message, never as a 500 page.
        return HTMLResponse(pages.error_page(f"could not show this page: {type(exc).__name__}: {exc}"), status_code=200)

    def missing(run_id: str) -> HTMLResponse:
        return HTMLResponse(pages.error_page(f"no run named '{run_id}' in {root}"), status_code=404)

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return pages.runs_page(list_runs(root))

    @app.get("/runs/{run_id}")
    def run_page(run_id: str) -> Response:
        return RedirectResponse(f"/live/{run_id}") if resolve_run(root, run_id) else missing(run_id)

    @app.get("/runs/{run_id}/report.html", response_class=HTMLResponse)
    def report_file(run_id: str) -> Response:
        path = resolve_run(root, run_id)
        return missing(run_id) if path is None else HTMLResponse(render_report(path))

    @app.get("/compare", response_class=HTMLResponse)
    def compare(runs: list[str] = Query(default=[])) -> Response:  # noqa: B008 - FastAPI idiom
        if len(runs) < 2:
            return HTMLResponse(pages.error_page("pick at least two runs to compare"))
        paths = [resolve_run(root, r) for r in runs]
        unknown = [r for r, p in zip(runs, paths) if p is None]
        if unknown:
            return missing(", ".join(unknown))
        tables = [(other, compare_runs(paths[0], path)) for other, path in zip(runs[1:], paths[1:])]
        return HTMLResponse(pages.compare_page(runs, tables))

    @app.get("/leaderboard", response_class=HTMLResponse)
    def leaderboard(metric: str | None = None) -> str:
        runs = list_runs(root)
        metrics = sorted({m for r in runs for m in r.task_metrics()})
        metric = metric if metric in metrics else (metrics[0] if metrics else None)
        return pages.leaderboard_page(runs, metric, metrics, _step_chart(runs, metric))

    return app


def _step_chart(runs: list, metric: str | None) -> str:
    points = [(r.step, r.metric(metric), r.run_id) for r in runs
              if metric and r.step is not None and r.metric(metric) is not None]
    if len(points) < 2:
        return ""
    return f"<div id='step-chart'>{step_chart({metric: points}, f'{metric} vs checkpoint step')}</div>"
