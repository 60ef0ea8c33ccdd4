"""Live Prometheus /metrics: real HTTP scrapes of readings taken from real ModelCaller / LoopStats objects."""
from __future__ import annotations

import asyncio
import socket
import urllib.request

import pytest

pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families

from gage_eval.backends.base import GenerationRequest
from gage_eval.backends.dummy import DummyBackend, DummySettings
from gage_eval.engine.model_call import ModelCaller, RetryPolicy
from gage_eval.errors import GageError
from gage_eval.observability.progress import LoopStats
from gage_eval.observability.prometheus import LATENCY_BUCKETS, MetricsExporter


def scrape(exporter: MetricsExporter) -> dict[str, list]:
    with urllib.request.urlopen(exporter.url, timeout=5) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = resp.read().decode()
    return {fam.name: fam.samples for fam in text_string_to_metric_families(text)}


def value(families: dict[str, list], sample_name: str, **labels: str) -> float:
    family = next(v for k, v in families.items() if sample_name.startswith(k))
    hits = [s.value for s in family if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(hits) == 1, (sample_name, labels, family)
    return hits[0]


async def _calls(caller: ModelCaller, n: int) -> None:
    await asyncio.gather(*(caller.generate(GenerationRequest(messages=[{"role": "user", "content": f"a b c {i}"}]))
                           for i in range(n)))


def test_metrics_endpoint_reports_samples_requests_tokens_and_latency() -> None:
    caller = ModelCaller(DummyBackend(DummySettings(latency_ms=20)), RetryPolicy())
    asyncio.run(_calls(caller, 12))
    stats = LoopStats("qa", total=100, done=12, failed=3, skipped=5, inflight=4, queue_depth=7)
    with MetricsExporter(port=0, run_id="r1") as exporter:
        assert exporter.port > 0 and exporter._server.server_address[0] == "127.0.0.1"
        exporter.update("qa", stats, {"echo": caller})
        fams = scrape(exporter)
        assert value(fams, "gage_samples_done_total", task_id="qa", run_id="r1") == 12
        assert value(fams, "gage_samples_failed_total", task_id="qa") == 3
        assert value(fams, "gage_samples_resumed_total", task_id="qa") == 5
        assert value(fams, "gage_samples_inflight", task_id="qa") == 4
        assert value(fams, "gage_queue_depth", task_id="qa") == 7
        assert value(fams, "gage_samples_expected", task_id="qa") == 100
        assert value(fams, "gage_requests_total", backend="echo") == 12
        assert value(fams, "gage_tokens_total", backend="echo", kind="completion") == 12 * 4
        assert value(fams, "gage_request_latency_seconds_count", backend="echo") == 12
        total_s = value(fams, "gage_request_latency_seconds_sum", backend="echo")
        assert 12 * 0.019 <= total_s < 12 * 1.0
        # 20 ms requests land in the (0.01, 0.025] bucket or above, never below 10 ms.
        assert value(fams, "gage_request_latency_seconds_bucket", backend="echo", le="0.01") == 0
        assert value(fams, "gage_request_latency_seconds_bucket", backend="echo", le="+Inf") == 12

        # Later readings: counters move forward, latencies already binned are not counted twice.
        asyncio.run(_calls(caller, 8))
        stats.done += 8
        exporter.update("qa", stats, {"echo": caller})
        exporter.update("qa", stats, {"echo": caller})
        fams = scrape(exporter)
        assert value(fams, "gage_samples_done_total", task_id="qa") == 20
        assert value(fams, "gage_request_latency_seconds_count", backend="echo") == 20
        buckets = [value(fams, "gage_request_latency_seconds_bucket", backend="echo", le=str(b))
                   for b in LATENCY_BUCKETS]
        assert buckets == sorted(buckets)  # cumulative


def test_tasks_of_a_multi_task_run_are_separate_series() -> None:
    with MetricsExporter(port=0) as exporter:
        exporter.update("t1", LoopStats("t1", done=4), {})
        exporter.update("t2", LoopStats("t2", done=9), {})
        fams = scrape(exporter)
        assert value(fams, "gage_samples_done_total", task_id="t1") == 4
        assert value(fams, "gage_samples_done_total", task_id="t2") == 9
        assert value(fams, "gage_last_update_timestamp_seconds") > 0


def test_port_in_use_is_a_clear_error_and_stop_frees_the_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(GageError) as err:
            MetricsExporter(port=busy.getsockname()[1]).start()
        assert "--metrics-port" in err.value.render()
    exporter = MetricsExporter(port=0).start()
    port = exporter.port
    exporter.stop()
    again = MetricsExporter(port=port).start()  # the port was released
    again.stop()
