"""Live Prometheus `/metrics` for a running evaluation (`gage run --metrics-port N`).

The runtime pushes absolute readings (LoopStats, ModelCaller.stats) every monitor tick; a custom
collector turns the latest snapshot into metric families at scrape time. That keeps the engine free
of prometheus_client objects and lets every run use its own registry (no global state, so tests and
back-to-back runs in one process never collide on metric names).
"""
from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gage_eval.errors import GageError

if TYPE_CHECKING:
    from typing_extensions import Self

    from gage_eval.engine.model_call import ModelCaller
    from gage_eval.observability.progress import LoopStats

# Seconds; spans cached responses (ms) to slow reasoning models (minutes).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


@dataclass
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    total_s: float = 0.0
    consumed: int = 0  # how many entries of the caller's latency list are already counted

    def absorb(self, latencies_ms: list[float]) -> None:
        # ModelCaller appends to latencies_ms (capped for memory), so only the tail is new.
        for ms in latencies_ms[self.consumed:]:
            s = ms / 1000.0
            self.counts[bisect.bisect_left(LATENCY_BUCKETS, s)] += 1
            self.total_s += s
        self.consumed = len(latencies_ms)

    def buckets(self) -> list[tuple[str, int]]:
        out, running = [], 0
        for bound, n in zip((*map(str, LATENCY_BUCKETS), "+Inf"), self.counts):
            running += n
            out.append((bound, running))
        return out


class _Collector:
    def __init__(self, exporter: MetricsExporter) -> None:
        self._exporter = exporter

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        tasks, backends, hists, updated = self._exporter.snapshot()
        run = self._exporter.run_id or ""

        def family(kind: type, name: str, doc: str, labels: list[str]) -> Any:
            return kind(name, doc, labels=["run_id", *labels])

        task_metrics = [
            (CounterMetricFamily, "gage_samples_done", "samples finished without error", "done"),
            (CounterMetricFamily, "gage_samples_failed", "samples recorded with an error", "failed"),
            (CounterMetricFamily, "gage_samples_resumed", "samples skipped: done by an earlier attempt", "skipped"),
            (GaugeMetricFamily, "gage_samples_inflight", "samples between queue and samples.jsonl", "inflight"),
            (GaugeMetricFamily, "gage_queue_depth", "loaded samples waiting for a worker", "queue_depth"),
            (GaugeMetricFamily, "gage_samples_per_second", "finished samples per second since task start", "rate"),
            (GaugeMetricFamily, "gage_samples_expected", "samples the task will run (max_samples), if known", "total"),
        ]
        for kind, name, doc, key in task_metrics:
            fam = family(kind, name, doc, ["task_id"])
            for task_id, values in tasks.items():
                if values.get(key) is not None:
                    fam.add_metric([run, task_id], values[key])
            yield fam
        backend_metrics = [
            (CounterMetricFamily, "gage_requests", "model requests sent (each retry counts)", "requests"),
            (CounterMetricFamily, "gage_request_retries", "model requests retried", "retries"),
            (CounterMetricFamily, "gage_request_errors", "model requests that raised", "errors"),
            (CounterMetricFamily, "gage_cache_hits", "responses served from the response cache", "cache_hits"),
            (GaugeMetricFamily, "gage_requests_inflight", "model requests awaiting a response", "inflight"),
        ]
        for kind, name, doc, key in backend_metrics:
            fam = family(kind, name, doc, ["backend"])
            for backend, values in backends.items():
                fam.add_metric([run, backend], values[key])
            yield fam
        tokens = family(CounterMetricFamily, "gage_tokens", "tokens reported by the backends", ["backend", "kind"])
        for backend, values in backends.items():
            tokens.add_metric([run, backend, "prompt"], values["prompt_tokens"])
            tokens.add_metric([run, backend, "completion"], values["completion_tokens"])
        yield tokens
        latency = family(HistogramMetricFamily, "gage_request_latency_seconds",
                         "latency of successful model requests", ["backend"])
        for backend, hist in hists.items():
            latency.add_metric([run, backend], hist.buckets(), hist.total_s)
        yield latency
        last = GaugeMetricFamily("gage_last_update_timestamp_seconds", "when the runtime last pushed readings",
                                 labels=["run_id"])
        last.add_metric([run], updated)
        yield last


class MetricsExporter:
    """Serve /metrics on host:port (loopback by default) from a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 9464, run_id: str | None = None) -> None:
        self.host = host
        self.port = port
        self.run_id = run_id
        self._lock = threading.Lock()
        self._tasks: dict[str, dict[str, float | None]] = {}
        self._backends: dict[str, dict[str, int]] = {}
        self._hists: dict[str, _Histogram] = {}
        self._updated = 0.0
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def start(self) -> Self:
        try:
            from prometheus_client import CollectorRegistry, start_http_server
        except ImportError:
            raise GageError("--metrics-port needs the prometheus_client package",
                            fix="pip install prometheus_client, or drop --metrics-port") from None
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector(self))  # type: ignore[arg-type]
        try:
            self._server, self._thread = start_http_server(self.port, addr=self.host, registry=registry)
        except OSError as exc:
            raise GageError(f"cannot serve metrics on {self.host}:{self.port}: {exc.strerror or exc}",
                            path="--metrics-port", fix="choose a free port (0 picks one)") from None
        self.port = self._server.server_port  # resolves port 0
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def update(self, task_id: str, stats: LoopStats, callers: dict[str, ModelCaller]) -> None:
        """Take a reading; cheap enough for every 0.1 s monitor tick (only new latencies are binned)."""
        task = {"done": stats.done, "failed": stats.failed, "skipped": stats.skipped, "inflight": stats.inflight,
                "queue_depth": stats.queue_depth, "rate": stats.rate(),
                "total": float(stats.total) if stats.total is not None else None}
        backends = {}
        for backend_id, caller in callers.items():
            s = caller.stats
            backends[backend_id] = {"requests": s.requests, "retries": s.retries, "errors": s.errors,
                                    "cache_hits": s.cache_hits, "inflight": s.inflight,
                                    "prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens}
        with self._lock:
            self._tasks[task_id] = task
            self._backends.update(backends)
            for backend_id, caller in callers.items():
                self._hists.setdefault(backend_id, _Histogram()).absorb(caller.stats.latencies_ms)
            self._updated = time.time()

    def snapshot(self) -> tuple[dict[str, dict[str, float | None]], dict[str, dict[str, int]],
                                dict[str, _Histogram], float]:
        with self._lock:
            hists = {k: _Histogram(list(h.counts), h.total_s, h.consumed) for k, h in self._hists.items()}
            return ({k: dict(v) for k, v in self._tasks.items()}, {k: dict(v) for k, v in self._backends.items()},
                    hists, self._updated)
