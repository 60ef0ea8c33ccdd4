"""Registry: 17 kinds (the spec's 16 and `tools`), lazy discovery, import paths in configs, entry-point plugins; env settings at the CLI edge."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import gage_eval
from gage_eval.engine.settings import ENV_MAP, settings_from_env_and_flags
from gage_eval.errors import ConfigError
from gage_eval.registry import DEFAULT_KINDS, Registry, import_object, registry
from tests.conftest import pipeline

ROOT = Path(__file__).resolve().parents[1]
SPEC_KINDS = {"backends", "roles", "metrics", "context_impls", "judge_impls", "dataset_hubs", "dataset_loaders",
              "dataset_preprocessors", "doc_converters", "prompts", "model_hubs", "templates", "reporting_sinks",
              "summary_generators", "observability_plugins", "pipeline_steps", "tools"}


def test_seventeen_kinds_and_lazy_discovery() -> None:
    assert set(DEFAULT_KINDS) == SPEC_KINDS and len(DEFAULT_KINDS) == 17
    probe = ("import sys, gage_eval; from gage_eval.registry import registry; "
             "before = [m for m in sys.modules if m.startswith(('gage_eval.backends', 'gage_eval.metrics'))]; "
             "registry.get('metrics', 'exact_match'); "
             "print(len(before), 'gage_eval.backends.openai_http' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", "True"]  # nothing imported by `import gage_eval`; everything on the first lookup
    names = {kind: {e.name for e in registry.entries(kind)} for kind in ("backends", "roles", "metrics",
                                                                        "dataset_loaders", "pipeline_steps")}
    assert {"dummy", "openai_http"} <= names["backends"]
    assert {"dut_model", "helper_model", "judge_model", "context_provider", "judge_extend"} <= names["roles"]
    assert {"exact_match", "latency"} <= names["metrics"] and {"jsonl", "hf_hub"} <= names["dataset_loaders"]
    assert {"support", "inference", "judge", "auto_eval", "arena"} <= names["pipeline_steps"]
    manifest = registry.manifest()
    assert set(manifest) == SPEC_KINDS
    assert {"name": "dummy", "module": "gage_eval.backends.dummy"}.items() <= \
        next(e for e in manifest["backends"] if e["name"] == "dummy").items()


def test_asset_decorator_lookup_and_unknown_names() -> None:
    local = Registry()
    local._discovered = True

    @local.asset("metrics", "my_metric", desc="d", tags=("x",))
    def my_metric(ctx):
        return 1.0

    local.register("backends", "b", object, desc="a backend")
    entry = next(local.entries("metrics"))
    assert (entry.name, entry.desc, entry.tags, entry.obj) == ("my_metric", "d", ("x",), my_metric)
    assert local.get("metrics", "my_metric") is my_metric and local.has("metrics", "my_metric")
    with pytest.raises(ConfigError) as info:
        local.get("metrics", "my_metrc", config_path="metrics[3].implementation")
    assert info.value.message == "unknown metric 'my_metrc'" and info.value.path == "metrics[3].implementation"
    assert "did you mean 'my_metric'" in info.value.fix and "package.module:attribute" in info.value.fix
    with pytest.raises(ConfigError, match="unknown registry kind 'metric'") as info:
        local.get("metric", "x")
    assert "did you mean 'metrics'" in info.value.fix
    with pytest.raises(ConfigError, match="unknown registry kind"):
        local.asset("metric", "x")


def test_user_registration_wins_over_lazily_imported_builtins() -> None:
    local = Registry()
    sentinel = object()
    local.register("metrics", "exact_match", sentinel)  # before discovery, like a user module imported early
    local._loading_builtins = True  # what discover() does while importing the built-in modules
    local.register("metrics", "exact_match", "builtin")
    local.register("metrics", "new_builtin", "builtin")
    local._loading_builtins = False
    local._discovered = True
    assert local.get("metrics", "exact_match") is sentinel and local.get("metrics", "new_builtin") == "builtin"


def test_import_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.plugin_mod import answer_length

    assert import_object("tests.plugin_mod:answer_length") is answer_length
    assert registry.get("metrics", "tests.plugin_mod:answer_length") is answer_length
    assert import_object("os.path:join") is os.path.join  # dotted modules
    assert import_object("gage_eval.registry:Registry.get") is Registry.get  # dotted attributes
    (tmp_path / "explodes_on_import.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for path, text, fix in [
        ("tests.plugin_mod:answer_lenght", "has no attribute 'answer_lenght'", "did you mean 'answer_length'"),
        ("tests.no_such_module:f", "cannot import module 'tests.no_such_module'", "sys.path"),
        ("explodes_on_import:f", "RuntimeError: boom", "fix the error in explodes_on_import"),
        ("tests.plugin_mod:", "is not an import path", "package.module:attribute"),
    ]:
        with pytest.raises(ConfigError) as info:
            registry.get("metrics", path, config_path="metrics[0].implementation")
        assert info.value.path == "metrics[0].implementation"
        assert text in info.value.message and fix in info.value.fix


def test_import_path_metric_in_a_config(qa_file: Path, tmp_path: Path) -> None:
    metrics = [{"metric_id": "len", "implementation": "tests.plugin_mod:answer_length", "params": {"scale": 2}},
               "tests.plugin_mod:answer_length(scale=0.5)"]
    result = gage_eval.run(pipeline(qa_file, metrics=metrics), output_dir=tmp_path, run_id="imp", progress="off",
                           max_samples=2)
    assert result.summary["metrics"]["len"]["value"] == pytest.approx(2 * len("say 0"))
    assert result.summary["metrics"]["tests.plugin_mod:answer_length"]["value"] == pytest.approx(0.5 * len("say 0"))
    with pytest.raises(ConfigError) as info:
        gage_eval.run(pipeline(qa_file, metrics=["exact_match", {"metric_id": "x",
                                                                  "implementation": "tests.plugin_mod:nope"}]),
                      output_dir=tmp_path, run_id="imp2", progress="off")
    assert info.value.path == "metrics[1].implementation" and "no attribute" in info.value.message


def test_entry_point_plugins_from_a_real_dist_info(tmp_path: Path) -> None:
    """Three plugins in the `gage_eval.plugins` group: a module that registers on import, a callable that gets
    the registry, and a broken one that must warn without breaking the others."""
    site = tmp_path / "site"
    (site / "acme_gage").mkdir(parents=True)
    (site / "acme_gage" / "__init__.py").write_text(textwrap.dedent("""
        from gage_eval.metrics.base import SimpleMetric
        from gage_eval.registry import registry

        @registry.asset("metrics", "acme_always_one", desc="plugin metric")
        class AlwaysOne(SimpleMetric):
            def compute_value(self, context):
                return 1.0

        def register(reg):
            reg.register("summary_generators", "acme_summary", lambda *a, **k: {}, desc="from a callable")
    """))
    (site / "acme_broken.py").write_text("import not_installed_dependency\n")
    dist = site / "acme_gage-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-gage\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[gage_eval.plugins]\nacme = acme_gage\nacme_reg = acme_gage:register\n"
                                           "broken = acme_broken\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "gage_eval", "list"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "acme_always_one" in proc.stdout and "plugin metric" in proc.stdout
    assert "acme_summary" in proc.stdout and "from a callable" in proc.stdout
    assert "warning: plugin 'broken' (acme_broken, package acme-gage) failed to load: ModuleNotFoundError" \
        in proc.stderr and "Traceback" not in proc.stderr


# --- environment variables (spec §4.7.2), read only at the CLI edge --------------------------------------------

SPEC_ENV = {"GAGE_EVAL_SAVE_DIR": ("/tmp/out", "output_dir", Path("/tmp/out")),
            "GAGE_EVAL_THREADS": ("12", "concurrency", 12),
            "GAGE_EVAL_MAX_SAMPLES": ("5", "max_samples", 5),
            "GAGE_EVAL_PREFETCH_FACTOR": ("3", "prefetch_factor", 3),
            "GAGE_EVAL_MAX_INFLIGHT": ("40", "max_inflight", 40),
            "GAGE_EVAL_REPORT_HTTP_URL": ("http://127.0.0.1:9/x", "http_report_url", "http://127.0.0.1:9/x"),
            "GAGE_EVAL_ENABLE_BUFFERED_WRITER": ("1", "buffered_writer", True)}


def test_every_spec_env_var_maps_to_a_setting() -> None:
    assert set(SPEC_ENV) <= set(ENV_MAP)
    settings = settings_from_env_and_flags({}, {k: raw for k, (raw, _, _) in SPEC_ENV.items()})
    for _raw, field, value in SPEC_ENV.values():
        assert getattr(settings, field) == value, field
    gens = settings_from_env_and_flags({}, {"GAGE_EVAL_SUMMARY_GENERATORS": "judge_usage,,unparsed_answers"})
    assert gens.summary_generators == ["judge_usage", "unparsed_answers"]


def test_flags_win_over_env_and_unset_flags_fall_back() -> None:
    env = {k: raw for k, (raw, _, _) in SPEC_ENV.items()}
    s = settings_from_env_and_flags({"concurrency": 4, "output_dir": Path("mine"), "max_samples": None}, env)
    assert (s.concurrency, s.output_dir, s.max_samples, s.max_inflight) == (4, Path("mine"), 5, 40)
    defaults = settings_from_env_and_flags({}, {"GAGE_EVAL_THREADS": ""})  # empty means unset
    assert defaults.concurrency is None and defaults.output_dir == Path("runs") and defaults.buffered_writer is False


@pytest.mark.parametrize("var,value,field", [("GAGE_EVAL_THREADS", "lots", "concurrency"),
                                             ("GAGE_EVAL_MAX_SAMPLES", "-1", "max_samples"),
                                             ("GAGE_EVAL_ENABLE_BUFFERED_WRITER", "maybe", "buffered_writer")])
def test_invalid_env_value_is_a_config_error(var: str, value: str, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_env_and_flags({}, {var: value})
    assert field in info.value.message and var in info.value.fix


def test_components_do_not_read_the_environment() -> None:
    """Only the CLI edge (engine/settings.py) knows the GAGE_EVAL_* variables."""
    readers = [p.relative_to(ROOT) for p in (ROOT / "src/gage_eval").rglob("*.py")
               if "GAGE_EVAL_" in p.read_text() and p.name != "settings.py" and "cli" not in p.parts]
    assert readers == []
