"""Run a PipelineConfig: single-task or multi-task (spec §3.3), with resume, artifacts and health stats."""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from gage_eval.config.models import PipelineConfig
from gage_eval.config.templates import canonical_digest
from gage_eval.datasets import iter_samples
from gage_eval.engine import stop
from gage_eval.engine.build import (
    aggregations,
    build_adapters,
    build_callers,
    build_prompts,
    plan_tasks,
)
from gage_eval.engine.failures import (
    COMPLETED,
    DEFAULT_MAX_FAILURE_RATE,
    FAILED,
    INTERRUPTED,
    settle_status,
)
from gage_eval.engine.model_call import ModelCaller, RequestStats
from gage_eval.engine.replay import ReplaySource
from gage_eval.engine.preflight import preflight_backends
from gage_eval.engine.response_cache import ResponseCache
from gage_eval.engine.resume import load_and_compact
from gage_eval.engine.sample_loop import FailFast, LoopLimits, SampleLoop
from gage_eval.engine.selection import SampleSelection, load_selection
from gage_eval.engine.settings import RunSettings
from gage_eval.engine.writer import SamplesWriter
from gage_eval.errors import ConfigError, GageError, PreflightError
from gage_eval.observability.gauges import Gauge
from gage_eval.observability.http_sink import HttpSink
from gage_eval.observability.progress import LoopStats, make_progress
from gage_eval.observability.prometheus import MetricsExporter
from gage_eval.observability.trace import EventSink, EventTrace, FileSink
from gage_eval.redact import redact
from gage_eval.registry import registry
from gage_eval.report.summary import (
    aggregate_samples,
    package_versions,
    write_json_atomic,
)
from gage_eval.roles.base import RoleResources
from gage_eval.roles.dock_roles import accepts_run_dir
from gage_eval.run_paths import auto_run_id, check_run_id, ensure_writable_dir, exclusive_lock
from gage_eval.serving.engine_hook import start_launched_servers
from gage_eval.steps.chain import StepChain

if TYPE_CHECKING:
    from gage_eval.distributed.driver import DistributedRun

log = logging.getLogger("gage_eval")

_SCHEDULING_KEYS = {"concurrency", "prefetch_factor", "max_inflight", "max_samples", "failure_policy", "reporting"}


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    status: str  # completed | completed_with_failures | failed | interrupted (engine/failures.py)
    summary: dict[str, Any]

    @property
    def metrics(self) -> dict[str, Any]:
        return self.summary.get("metrics", {})


def results_digest(cfg: PipelineConfig) -> str:
    """Digest of what determines results; scheduling knobs may change between resumed attempts."""
    data = cfg.model_dump(mode="json", exclude={"execution", "observability"})
    for task in data.get("tasks", []):
        for key in _SCHEDULING_KEYS:
            task.pop(key, None)
    for adapter in data.get("role_adapters", []):
        # Whether a game arena shows its board page (and on which port) changes no result: `gage arena play` may
        # resume a run that `gage run` started.
        if adapter.get("role_type") == "arena" and isinstance(adapter.get("params"), dict):
            adapter["params"].pop("visualizer", None)
    return canonical_digest(redact(data))


def _check_same_config(run_dir: Path, digest: str, cfg: PipelineConfig) -> None:
    meta = run_dir / "run_meta.json"
    if meta.exists():
        previous = orjson.loads(meta.read_bytes()).get("results_digest")
        if previous and previous != digest:
            raise ConfigError(f"run directory {run_dir} holds results of a different config "
                              f"({_config_changes(run_dir, cfg)})", path="--run-id",
                              fix="use a new --run-id, or delete the directory to start over")


def _config_changes(run_dir: Path, cfg: PipelineConfig) -> str:
    """The changed keys, old → new, from the config.json the earlier attempt wrote."""
    from gage_eval.engine.config_diff import describe_changes

    try:
        old = orjson.loads((run_dir / "config.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return "its config.json is missing or unreadable, so the changed keys cannot be listed"
    return "changed: " + describe_changes(old, cfg.model_dump(mode="json", by_alias=True), _SCHEDULING_KEYS)


def distributed_run(cfg: PipelineConfig, settings: RunSettings, run_dir: Path, trace: EventTrace
                    ) -> DistributedRun | None:
    """None for a single-node run; the distributed package is imported only when a run asks for it."""
    if settings.workers is None and settings.ray_address is None and cfg.execution.distributed is None:
        return None
    from gage_eval.distributed import options
    from gage_eval.distributed.driver import DistributedRun

    opts = options.resolve(cfg, settings)
    return DistributedRun(opts, cfg, settings, run_dir, trace) if opts is not None else None


def _pick(*values: Any) -> Any:
    """The first value that is set: CLI flag, then config, then default."""
    return next(v for v in values if v is not None)


def log_outcome(logger: logging.Logger, run_id: str, run: dict[str, Any], failures: dict[str, Any]) -> None:
    """logs/run.log says why a run failed, not only the terminal."""
    for cls in failures.get("classes") or []:
        logger.warning("%d failed samples: %s (first: %s)", cls["count"], cls["reason"], cls["first_message"])
    error = run.get("error")
    if error:
        logger.error("run %s %s: %s: %s%s", run_id, run["status"], error.get("type"), error.get("message"),
                     f" — fix: {error['fix']}" if error.get("fix") else "")
    else:
        logger.info("run %s %s", run_id, run["status"])


class Runtime:
    def __init__(self, cfg: PipelineConfig, settings: RunSettings) -> None:
        self.cfg = cfg
        self.settings = settings
        name = cfg.metadata.name if cfg.metadata.name != "unnamed" else "run"
        self.run_id = check_run_id(settings.run_id) or auto_run_id(settings.output_dir, name)
        self.run_dir = settings.output_dir / self.run_id
        self.exporter: MetricsExporter | None = None
        self._callers: dict[str, ModelCaller] = {}
        self.preflight_warnings: list[str] = []
        self.replay: ReplaySource | None = None
        self.selection: SampleSelection | None = load_selection(settings.only_samples) \
            if settings.only_samples else None
        self.dist: DistributedRun | None = None
        self.queue_gauge = Gauge("queue_depth")
        self.inflight_gauge = Gauge("inflight")

    def _sinks(self) -> list[EventSink]:
        sinks: list[EventSink] = [FileSink(self.run_dir / "events.jsonl")]
        url = self.settings.http_report_url or self.cfg.observability.http_url
        if url:
            sinks.append(HttpSink(url, self.run_dir / "events_http_failover.jsonl",
                                  timeout_s=self.cfg.observability.http_timeout_s))
        return sinks

    async def run(self) -> RunResult:
        ensure_writable_dir(self.run_dir)
        ensure_writable_dir(self.run_dir / "logs")
        digest = results_digest(self.cfg)
        with exclusive_lock(self.run_dir / ".lock", GageError(
                f"run directory {self.run_dir} is in use by another gage process",
                fix="wait for it to finish, or choose another --run-id")):
            _check_same_config(self.run_dir, digest, self.cfg)
            handler = logging.FileHandler(self.run_dir / "logs" / "run.log")
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            log.addHandler(handler)
            log.setLevel(logging.INFO)
            try:
                # SIGINT / SIGTERM cancel this task (and stop model threads) instead of being missed.
                with stop.stop_on_signals(asyncio.current_task()):  # type: ignore[arg-type]
                    return await self._run(digest)
            finally:
                log.removeHandler(handler)
                handler.close()

    async def _run(self, digest: str) -> RunResult:
        settings, cfg = self.settings, self.cfg
        samples_path = self.run_dir / "samples.jsonl"
        resume = load_and_compact(samples_path)
        # cwd: where relative dataset paths were resolved, so `gage triage` can print a rerun command that works.
        write_json_atomic(self.run_dir / "run_meta.json", {
            "run_id": self.run_id, "results_digest": digest, "cwd": str(Path.cwd()),
            **({"rerun_of": self.selection.source_run} if self.selection and self.selection.source_run else {})})
        write_json_atomic(self.run_dir / "config.json", redact(cfg.model_dump(mode="json", by_alias=True)))
        trace = EventTrace(self.run_id, self._sinks())
        started, t0 = datetime.now(timezone.utc), time.monotonic()
        trace.emit("run_start", {"config": cfg.metadata.name, "results_digest": digest, "resumed_samples": resume.kept,
                                 "dropped_failed": resume.dropped_failed, "dropped_corrupt": resume.dropped_corrupt})
        log.info("run %s started (resumed %d samples)", self.run_id, resume.kept)
        cache = ResponseCache(settings.cache_path or settings.output_dir / ".cache" / "responses.sqlite") \
            if settings.use_cache else None
        callers: dict[str, ModelCaller] = {}
        adapters: dict[str, Any] = {}
        writer = SamplesWriter(samples_path, buffered=settings.buffered_writer, threshold=settings.buffer_threshold)
        task_reports: list[dict[str, Any]] = []
        status, error = COMPLETED, None
        servers = contextlib.AsyncExitStack()  # managed model servers (backends[].launch), stopped in `finally`
        self.replay = None
        dist: DistributedRun | None = None
        remote_stats: dict[str, Any] = {}
        remote_cache = (0, 0)
        try:
            dist = self.dist = distributed_run(cfg, settings, self.run_dir, trace)
            plans = plan_tasks(cfg, settings)
            if cfg.replay is not None:
                self.replay = ReplaySource(cfg.replay, settings.base_dir)
                servers.callback(self.replay.close)
                trace.emit("replay", self.replay.describe())
            endpoints = await start_launched_servers(cfg, settings, self.run_dir / "logs", servers)
            if dist is not None and dist.runs_samples:  # the workers build backends and run the pre-flight
                self.preflight_warnings = await dist.start(endpoints)
            else:
                callers = self._callers = build_callers(cfg, settings, cache, endpoints)
                if _pick(settings.preflight, cfg.execution.preflight, True):
                    self.preflight_warnings = await preflight_backends(callers, cache_on=cache is not None)
                pool_size = max(p.concurrency for p in plans)
                adapters = build_adapters(cfg, RoleResources(callers, build_prompts(cfg), pool_size, self.run_dir,
                                                             extra={"base_dir": settings.base_dir}))
                if dist is not None:
                    dist.spread_scoring(plans)
            if settings.metrics_port is not None:
                self.exporter = MetricsExporter("127.0.0.1", settings.metrics_port, run_id=self.run_id).start()
                log.info("Prometheus metrics on %s", self.exporter.url)
            for plan in plans:
                task_reports.append(await self._run_task(plan, adapters, writer, trace, resume))
        except PreflightError as exc:  # the run stops before any sample; the CLI reports it from summary.json
            status, error = FAILED, {"type": "PreflightError", "reason": exc.reason, "backend": exc.backend,
                                     "message": exc.message, "fix": exc.fix}
        except FailFast as exc:
            status, error = FAILED, {"type": "FailFast", "reason": exc.error.get("reason"), "message": str(exc),
                                     "sample_id": exc.sample_id,
                                     "fix": exc.error.get("fix") or "see the sample's error in samples.jsonl"}
        except asyncio.CancelledError:
            status, error = INTERRUPTED, {"type": "Interrupted", "message": "stopped by the user",
                                          "fix": "rerun the same command with the same --run-id to resume"}
            raise
        except GageError as exc:
            status, error = FAILED, {"type": type(exc).__name__, "message": exc.render(), "fix": exc.fix}
            raise
        except Exception as exc:
            status, error = FAILED, {"type": type(exc).__name__, "message": str(exc), "fix": None}
            raise
        finally:
            writer.close()
            try:
                if dist is not None:
                    remote_stats, remote_cache = await dist.finish(graceful=status == COMPLETED)
                for adapter in adapters.values():
                    await adapter.aclose()
                for caller in callers.values():
                    await caller.backend.aclose()
            finally:
                await servers.aclose()
            if self.exporter is not None:
                self.exporter.stop()
            backend_stats = {k: c.stats for k, c in callers.items()} | remote_stats
            cache_counts = (cache.hits, cache.misses) if cache else None
            if dist is not None and dist.runs_samples and settings.use_cache:
                cache_counts = remote_cache
            summary = self._write_summary(status, error, started, time.monotonic() - t0, digest, task_reports,
                                          backend_stats, cache_counts)
            run = summary["run"]
            status = run["status"]
            trace.emit("run_end", {"status": status, "error": run["error"], "sample_count": summary["sample_count"],
                                   "failed": summary["failures"]["total"], "failure_rate": run["failure_rate"]})
            log_outcome(log, self.run_id, run, summary["failures"])
            await trace.aclose()
            if cache:
                cache.close()
        return RunResult(self.run_id, self.run_dir, status, summary)

    async def _run_task(self, plan: Any, adapters: dict[str, Any], writer: SamplesWriter, trace: EventTrace,
                        resume: Any) -> dict[str, Any]:
        remote = self.dist is not None and self.dist.runs_samples
        chain = None if remote else StepChain(plan.steps, adapters, plan.metrics, plan.failure_policy, trace,
                                              self.replay)
        # With params.limit_per (e.g. MMLU's --limit per subject) the total is not known before the data is read.
        # So is a fractional limit's (a share of a dataset whose size is known once it is read).
        per_group = plan.dataset.params.get("limit_per") is not None or isinstance(plan.max_samples, float)
        stats = LoopStats(plan.task_id, total=None if per_group else plan.max_samples)
        limits = LoopLimits(plan.concurrency, plan.prefetch_factor, plan.max_inflight)
        base_dir = self.settings.base_dir

        selection = self.selection

        def samples():
            if selection is None:
                return iter_samples(plan.dataset, base_dir=base_dir, config_path=plan.dataset_path,
                                    max_samples=plan.max_samples)
            # The listed ids wherever they are in the dataset; a whole-number max_samples counts the selected ones
            # (a fraction of the dataset means nothing for a hand-picked list).
            chosen = selection.filter(plan.task_id, iter_samples(plan.dataset, base_dir=base_dir,
                                                                 config_path=plan.dataset_path))
            limit = plan.max_samples if isinstance(plan.max_samples, int) else None
            return itertools.islice(chosen, limit)

        loop: SampleLoop | Any
        if remote:
            loop = self.dist.loop(plan, samples, writer, resume, stats)  # type: ignore[union-attr]
        else:
            loop = SampleLoop(plan.task_id, samples, chain, writer, trace, resume, limits, stats,
                              sample_events=self.settings.sample_events)
        trace.emit("task_start", {"task_id": plan.task_id, "dataset_id": plan.dataset.dataset_id,
                                  "concurrency": plan.concurrency, "already_done": resume.count(plan.task_id)})
        progress = make_progress(self.settings.progress or self.cfg.observability.progress,
                                 self.cfg.observability.progress_interval_s)
        progress.start(stats)
        monitor = asyncio.ensure_future(self._monitor(loop, stats, progress, trace))
        t0, cpu0 = time.monotonic(), time.process_time()
        try:
            await loop.run()
        finally:
            monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await monitor
            writer.flush()
            progress.update(stats, final=True)
            progress.stop()
        elapsed = time.monotonic() - t0
        report = {"task_id": plan.task_id, "dataset_id": plan.dataset.dataset_id, "wall_s": elapsed,
                  "new_samples": stats.done + stats.failed, "resumed_samples": stats.skipped,
                  "samples_per_s": (stats.done + stats.failed) / elapsed if elapsed > 0 else None,
                  "concurrency": plan.concurrency, "failure_policy": plan.failure_policy,
                  "cpu_s": time.process_time() - cpu0,  # this process (a distributed run: the driver's share)
                  "aggregations": aggregations(plan)}
        trace.emit("task_end", {k: v for k, v in report.items() if k != "aggregations"})
        return report

    async def _monitor(self, loop: Any, stats: LoopStats, progress: Any, trace: EventTrace) -> None:
        tick = 0
        while True:
            await asyncio.sleep(0.1)
            tick += 1
            stats.queue_depth = loop.queue_depth()
            self.queue_gauge.observe(stats.queue_depth)
            self.inflight_gauge.observe(stats.inflight)
            progress.update(stats)
            if self.exporter is not None:
                self.exporter.update(stats.task_id, stats, self._callers)
            if tick % 50 == 0:  # every 5 s: a telemetry event for dashboards
                trace.emit("progress", {"task_id": stats.task_id, "done": stats.done, "failed": stats.failed,
                                        "skipped": stats.skipped, "inflight": stats.inflight,
                                        "queue_depth": stats.queue_depth, "samples_per_s": stats.rate()})

    def _write_summary(self, status: str, error: Any, started: datetime, wall_s: float, digest: str,
                       task_reports: list[dict[str, Any]], backend_stats: dict[str, RequestStats],
                       cache_counts: tuple[int, int] | None) -> dict[str, Any]:
        generators = {}
        # Unparsed answers and judge costs are always reported: silently dropped verdicts are how scores go wrong.
        defaults = ["unparsed_answers"] + (["judge_usage"] if any("judge" in a.role_type
                                                                   for a in self.cfg.role_adapters) else [])
        specs = [(n, {}) for n in defaults + self.settings.summary_generators]
        # A game arena's section (ratings, per-player results, replays) needs the arena's own settings.
        specs += [("game_arena", {"adapter_id": a.adapter_id, "arena": a.params}) for a in self.cfg.role_adapters
                  if a.role_type == "arena"]
        specs += [(g.name, g.params) for g in self.cfg.summary_generators]
        counts = Counter(name for name, _ in specs)
        for name, params in specs:
            # The same section twice (e.g. per-subject breakdowns of MMLU and CMMLU in one quick-mode run) is
            # told apart by its task, and by its grouping field when that is not the subject (MMMU's discipline).
            which = params.get("task_id") or params.get("adapter_id")
            key = name if counts[name] == 1 or not which else f"{name}:{which}"
            field = params.get("field")
            if counts[name] > 1 and isinstance(field, str) and field != "metadata.subject":
                key = f"{key}:{field.rsplit('.', 1)[-1]}"
            if key not in generators or params:
                factory = registry.get("summary_generators", name, config_path="summary_generators")
                if accepts_run_dir(factory):  # sections that write files of their own (predictions.jsonl)
                    params = {**params, "run_dir": self.run_dir}
                generators[key] = factory(**params)
        aggs = {r["task_id"]: r["aggregations"] for r in task_reports}
        body = aggregate_samples(self.run_dir / "samples.jsonl", aggs, generators)
        tasks = [{**{k: v for k, v in r.items() if k != "aggregations"}, **body["tasks"].get(r["task_id"], {})}
                 for r in task_reports]
        extra = self.cfg.metadata.model_extra or {}  # which builtin template versions this run compiled from
        threshold = _pick(self.settings.max_failure_rate, self.cfg.execution.max_failure_rate,
                          DEFAULT_MAX_FAILURE_RATE)
        status, error, verdict = settle_status(status, error, body["sample_count"], body["failures"], threshold)
        summary = {
            "run": {"run_id": self.run_id, "status": status, "error": error, **verdict,
                    "preflight_warnings": self.preflight_warnings, "config_name": self.cfg.metadata.name,
                    **({"only_samples": self.selection.report()} if self.selection else {}),
                    "template": extra.get("template"), "templates": extra.get("templates"),
                    # the run evaluates this checkpoint step (gage sweep; `gage view` plots score vs step)
                    **({"checkpoint_step": extra["checkpoint_step"]} if "checkpoint_step" in extra else {}),
                    **({"replay": self.replay.describe()} if self.replay is not None else {}),
                    "results_digest": digest, "started_at": started.isoformat(timespec="seconds"),
                    "resources": {"gpus": self.settings.gpus, "cpus": self.settings.cpus,
                                  "model_path": self.settings.model_path},
                    "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "versions": package_versions()},
            "tasks": tasks,
            "metrics": body["metrics"],
            "sample_count": body["sample_count"],
            "failures": body["failures"],
            "timings": {"wall_s": wall_s, "tasks": {r["task_id"]: r["wall_s"] for r in task_reports},
                        "cpu_s": time.process_time(), **self._worker_timings()},
            "runtime_health": {
                "queue_depth": self.queue_gauge.summary(), "inflight": self.inflight_gauge.summary(),
                "backends": {k: stats.as_dict() for k, stats in backend_stats.items()},
                "response_cache": {"hits": cache_counts[0], "misses": cache_counts[1]} if cache_counts else None},
            "summary_generators": body["generators"],
        }
        write_json_atomic(self.run_dir / "summary.json", summary)
        # Imported here: the report's modules (jinja2, charts with numpy) cost start-up time a run does not need.
        from gage_eval.report.results_table import write_results_markdown
        from gage_eval.report.standalone import write_report

        for report in task_reports:
            self._task_sinks(report["task_id"], summary)
        try:
            write_report(self.run_dir)
        except Exception as exc:  # noqa: BLE001 - a report problem must never cost the run its results
            log.warning("report.html not written: %s (regenerate with `gage report %s`)", exc, self.run_dir)
        try:
            write_results_markdown(self.run_dir, summary)
        except Exception as exc:  # noqa: BLE001 - as above: results.md is a view of summary.json
            log.warning("results.md not written: %s (regenerate with `gage report %s`)", exc, self.run_dir)
        return summary

    def _worker_timings(self) -> dict[str, Any]:
        pool = self.dist.pool if self.dist is not None else None
        return {"workers_cpu_s": pool.workers_cpu_s} if pool is not None else {}

    def _task_sinks(self, task_id: str, summary: dict[str, Any]) -> None:
        task = next((t for t in self.cfg.tasks if t.task_id == task_id), None)
        if task is None or task.reporting is None:
            return
        metrics = next((t.get("metrics", {}) for t in summary["tasks"] if t["task_id"] == task_id), {})
        for i, sink in enumerate(task.reporting.sinks):
            cls = registry.get("reporting_sinks", sink.type, config_path=f"tasks[{task_id}].reporting.sinks[{i}].type")
            cls(**(sink.model_extra or {})).task_end(task_id, metrics)
