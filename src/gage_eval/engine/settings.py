"""Typed run settings. The CLI builds them (from flags and the spec's environment variables);
components receive them and never read the environment themselves."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gage_eval.config.models import SampleLimit
from gage_eval.errors import ConfigError
from gage_eval.run_paths import check_run_id

# Defaults when neither the config nor the CLI sets them.
DEFAULT_CONCURRENCY = 8
DEFAULT_PREFETCH = 2


class RunSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    output_dir: Path = Path("runs")
    run_id: str | None = None
    dataset_id: str | None = None
    concurrency: int | None = Field(default=None, ge=1)
    max_samples: SampleLimit | None = None
    prefetch_factor: int | None = Field(default=None, ge=1)
    max_inflight: int | None = Field(default=None, ge=1)
    failure_policy: Literal["fail_fast", "graceful", "best_effort"] | None = None
    use_cache: bool = False
    cache_path: Path | None = None  # default: <output_dir>/.cache/responses.sqlite
    http_report_url: str | None = None
    buffered_writer: bool = False
    buffer_threshold: int = Field(default=256, ge=1)
    progress: Literal["auto", "rich", "plain", "off"] | None = None
    gpus: int = Field(default=0, ge=0)
    cpus: int | None = Field(default=None, ge=1)
    model_path: str | None = None
    max_attempts: int = Field(default=5, ge=1)
    retry_base_delay_s: float = Field(default=0.5, ge=0)
    sample_events: bool = False
    preflight: bool | None = None  # None: the config's execution.preflight, else on
    max_failure_rate: float | None = Field(default=None, ge=0, le=1)  # None: execution.max_failure_rate, else 0
    metrics_port: int | None = Field(default=None, ge=0, le=65535)  # Prometheus /metrics during the run
    workers: int | None = Field(default=None, ge=1)  # distributed run: worker count (processes, or Ray actors)
    ray_address: str | None = None  # distributed run on Ray: local | auto | ray://HOST:10001 | HOST:6379
    base_dir: Path | None = None  # directory of the config file, for relative dataset paths
    # backend id -> base URL of its `launch:` server, already started by the caller (gage sweep keeps one server
    # per checkpoint up across several runs): the run uses it instead of starting its own. Where the server runs
    # is not part of the results, so the run directory still resumes when the port changes.
    running_servers: dict[str, str] = Field(default_factory=dict)
    only_samples: Path | None = None  # rerun just these sample ids (engine/selection.py)
    summary_generators: list[str] = Field(default_factory=list)
    secrets: dict[str, str] = Field(default_factory=dict, repr=False, exclude=True)


ENV_MAP: dict[str, str] = {
    "GAGE_EVAL_SAVE_DIR": "output_dir",
    "GAGE_EVAL_THREADS": "concurrency",
    "GAGE_EVAL_MAX_SAMPLES": "max_samples",
    "GAGE_EVAL_PREFETCH_FACTOR": "prefetch_factor",
    "GAGE_EVAL_MAX_INFLIGHT": "max_inflight",
    "GAGE_EVAL_REPORT_HTTP_URL": "http_report_url",
    "GAGE_EVAL_ENABLE_BUFFERED_WRITER": "buffered_writer",
    "GAGE_EVAL_BUFFER_THRESHOLD": "buffer_threshold",
    "GAGE_EVAL_MAX_FAILURE_RATE": "max_failure_rate",
}


def check_sample_limit(value: object, option: str) -> None:
    """A limit of 0 samples is refused: it would run nothing and still report "completed" (a typo or an unset
    variable, not a wish). Seeing what would run is what `--dry-run` (gage eval) and `gage validate` are for."""
    if value is not None and str(value).strip() in ("0", "0.0", "0."):
        raise ConfigError(f"{option} 0 would evaluate no samples", path=option,
                          fix=f"give {option} N with N >= 1, or leave it out to evaluate everything; to see the "
                              "compiled pipeline without running use `gage eval ... --dry-run` or `gage validate`")


def settings_from_env_and_flags(flags: Mapping[str, object], environ: Mapping[str, str] | None = None
                                ) -> RunSettings:
    """Flags win over environment variables; unset flags (None) fall back to the environment."""
    environ = os.environ if environ is None else environ
    data: dict[str, object] = {}
    source: dict[str, str] = {}  # field -> where its value came from, for the error message
    for var, field in ENV_MAP.items():
        if environ.get(var) not in (None, ""):
            data[field], source[field] = environ[var], f"${var}"
    if "GAGE_EVAL_SUMMARY_GENERATORS" in environ:
        data["summary_generators"] = [g for g in environ["GAGE_EVAL_SUMMARY_GENERATORS"].split(",") if g]
        source["summary_generators"] = "$GAGE_EVAL_SUMMARY_GENERATORS"
    for key, value in flags.items():
        if value is not None:
            data[key], source[key] = value, f"--{key.replace('_', '-')}"
    check_run_id(data.get("run_id"), source.get("run_id", "--run-id"))  # type: ignore[arg-type]
    check_sample_limit(data.get("max_samples"), source.get("max_samples", "--max-samples"))
    try:
        return RunSettings.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        name = str(err["loc"][0])
        origin = source.get(name, f"--{name.replace('_', '-')}")
        raise ConfigError(f"invalid value {data.get(name)!r} for {name} from {origin}: {err['msg']}", path=origin,
                          fix=f"set {origin} to a valid value (see `gage run --help`)") from None
