"""Registry: built-in kinds, import paths in configs, entry-point plugins, env mapping at the CLI edge."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import gage_eval
from gage_eval.config.metric_forms import normalize_metric_entry
from gage_eval.engine.settings import settings_from_env_and_flags
from gage_eval.errors import ConfigError
from gage_eval.registry import DEFAULT_KINDS, Registry, registry
from tests.conftest import pipeline

ROOT = Path(__file__).resolve().parents[1]


def test_sixteen_kinds_and_builtins_discovered_lazily() -> None:
    assert len(DEFAULT_KINDS) == 16
    probe = ("import sys, gage_eval; from gage_eval.registry import registry; "
             "before = 'gage_eval.backends.openai_http' in sys.modules; registry.get('metrics', 'exact_match'); "
             "print(before, 'gage_eval.backends.openai_http' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]
    assert {"support", "inference", "judge", "auto_eval", "arena"} <= {e.name for e in registry.entries("pipeline_steps")}


def test_asset_decorator_and_unknown_names() -> None:
    local = Registry()
    local._discovered = True

    @local.asset("metrics", "my_metric", desc="d", tags=("x",))
    def my_metric(ctx):  # noqa: ANN001, ANN202
        return 1.0

    entry = next(local.entries("metrics"))
    assert (entry.name, entry.desc, entry.tags) == ("my_metric", "d", ("x",))
    with pytest.raises(ConfigError, match="did you mean 'my_metric'"):
        local.get("metrics", "my_metrc")
    with pytest.raises(ConfigError, match="unknown registry kind"):
        local.get("metric", "x")


@pytest.mark.parametrize("entry,expected", [
    ("exact_match", {"metric_id": "exact_match", "implementation": "exact_match", "params": {}}),
    ({"regex_match": {"pattern": "^A$", "ignore_case": True}},
     {"metric_id": "regex_match", "implementation": "regex_match", "params": {"pattern": "^A$", "ignore_case": True}}),
    ("exact_match(case_sensitive=true, strip_whitespace=false)",
     {"metric_id": "exact_match", "implementation": "exact_match",
      "params": {"case_sensitive": True, "strip_whitespace": False}}),
    ("regex_match(pattern='a, b', n=3, x=null, aggregation=median)",
     {"metric_id": "regex_match", "implementation": "regex_match", "params": {"pattern": "a, b", "n": 3, "x": None},
      "aggregation": "median"}),
    ({"metric_id": "em_cs", "implementation": "exact_match", "params": {"case_sensitive": True}},
     {"metric_id": "em_cs", "implementation": "exact_match", "params": {"case_sensitive": True}}),
])
def test_four_metric_forms(entry, expected) -> None:
    assert normalize_metric_entry(entry) == expected


def test_import_path_metric_in_config(qa_file: Path, tmp_path: Path) -> None:
    cfg = pipeline(qa_file, metrics=[{"metric_id": "len", "implementation": "tests.plugin_mod:answer_length",
                                      "params": {"scale": 2}}])
    result = gage_eval.run(cfg, output_dir=tmp_path, run_id="imp", progress="off", max_samples=2)
    assert result.summary["metrics"]["len"]["value"] == pytest.approx(2 * len("say 0"))
    with pytest.raises(ConfigError, match="no attribute"):
        gage_eval.run(pipeline(qa_file, metrics=[{"metric_id": "x", "implementation": "tests.plugin_mod:nope"}]),
                      output_dir=tmp_path, run_id="imp2", progress="off")


def test_entry_point_plugin_registers_assets(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "acme_gage").mkdir(parents=True)
    (site / "acme_gage" / "__init__.py").write_text(textwrap.dedent("""
        from gage_eval.metrics.base import SimpleMetric
        from gage_eval.registry import registry

        @registry.asset("metrics", "acme_always_one", desc="plugin metric")
        class AlwaysOne(SimpleMetric):
            def compute_value(self, context):
                return 1.0
    """))
    dist = site / "acme_gage-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-gage\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[gage_eval.plugins]\nacme = acme_gage\n")
    proc = subprocess.run([sys.executable, "-m", "gage_eval", "list", "metrics"], capture_output=True, text=True,
                          env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert "acme_always_one" in proc.stdout and "plugin metric" in proc.stdout


def test_env_vars_map_to_settings_and_flags_win() -> None:
    env = {"GAGE_EVAL_SAVE_DIR": "/tmp/out", "GAGE_EVAL_THREADS": "12", "GAGE_EVAL_MAX_SAMPLES": "5",
           "GAGE_EVAL_PREFETCH_FACTOR": "3", "GAGE_EVAL_MAX_INFLIGHT": "40",
           "GAGE_EVAL_REPORT_HTTP_URL": "http://127.0.0.1:9/x", "GAGE_EVAL_ENABLE_BUFFERED_WRITER": "1",
           "GAGE_EVAL_SUMMARY_GENERATORS": "judge_usage,unparsed_answers"}
    s = settings_from_env_and_flags({"concurrency": 4, "max_samples": None}, env)
    assert (str(s.output_dir), s.concurrency, s.max_samples, s.prefetch_factor, s.max_inflight) == \
        ("/tmp/out", 4, 5, 3, 40)
    assert s.http_report_url == "http://127.0.0.1:9/x" and s.buffered_writer is True
    assert s.summary_generators == ["judge_usage", "unparsed_answers"]
    with pytest.raises(ConfigError, match="GAGE_EVAL_THREADS"):
        settings_from_env_and_flags({}, {"GAGE_EVAL_THREADS": "lots"})
