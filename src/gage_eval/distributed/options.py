"""Whether and how a run is distributed: CLI flags over `execution.distributed`, checked before anything starts."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gage_eval.config.models import DistributedSpec, PipelineConfig
from gage_eval.engine.settings import RunSettings
from gage_eval.errors import ConfigError

_SPEC = "execution.distributed"


@dataclass
class DistributedOptions:
    ray_address: str | None  # None: plain processes on this machine
    workers: int | None  # None with Ray: one per CPU of the cluster (or per endpoint of the largest pool)
    shard_size: int | None
    endpoints: dict[str, list[str]] = field(default_factory=dict)  # caller key -> base URLs
    scoring_only: bool = False
    runtime_env: dict[str, Any] | None = None
    restarts: int | None = None

    @property
    def transport(self) -> str:
        return "ray" if self.ray_address else "processes"

    def endpoints_for(self, index: int) -> dict[str, dict[str, Any]]:
        """Worker `index`'s base URLs: the pools are dealt round-robin, so N replicas get N workers' load."""
        return {key: {"base_url": urls[index % len(urls)]} for key, urls in self.endpoints.items()}


def _caller_keys(cfg: PipelineConfig, spec: DistributedSpec) -> dict[str, list[str]]:
    """Pool keys are backend ids, or adapter ids for inline backends (their caller key is inline:<id>)."""
    inline = {a.adapter_id for a in cfg.role_adapters if a.backend is not None}
    backend_ids = {b.backend_id for b in cfg.backends}
    return {(key if key in backend_ids or key not in inline else f"inline:{key}"): urls
            for key, urls in spec.endpoints.items()}


def resolve(cfg: PipelineConfig, settings: RunSettings) -> DistributedOptions | None:
    """None for a single-node run; otherwise the checked options (ConfigError naming the option)."""
    spec = cfg.execution.distributed or DistributedSpec()
    address = settings.ray_address or spec.ray_address
    workers = settings.workers or spec.workers
    where_address = "--ray-address" if settings.ray_address else f"{_SPEC}.ray_address"
    if address is not None and not address.strip():
        raise ConfigError("the Ray address is empty", path=where_address,
                          fix="give local, auto, ray://HOST:10001 or HOST:6379")
    if address is None and workers is None:
        if spec.scoring_only or spec.endpoints:
            key = "scoring_only" if spec.scoring_only else "endpoints"
            raise ConfigError(f"{_SPEC}.{key} is set but the run is not distributed", path=f"{_SPEC}.{key}",
                              fix="add --workers N (processes on this machine) or --ray-address ADDRESS")
        return None
    if spec.scoring_only and address is None:
        raise ConfigError("scoring_only spreads metrics as Ray tasks and needs a Ray cluster",
                          path=f"{_SPEC}.scoring_only",
                          fix="add --ray-address local (or auto, ray://HOST:10001), or drop scoring_only to run "
                              "whole samples on --workers processes")
    if spec.scoring_only and workers is not None:
        raise ConfigError("with scoring_only the samples run here and only metrics go to Ray: there are no workers",
                          path="--workers" if settings.workers else f"{_SPEC}.workers",
                          fix="drop the worker count, or drop scoring_only to run whole samples on workers")
    if spec.scoring_only and spec.endpoints:
        raise ConfigError("endpoint pools are dealt to workers, but with scoring_only the samples run here",
                          path=f"{_SPEC}.endpoints", fix="drop scoring_only, or drop the endpoints")
    extra = sorted(set(spec.runtime_env or {}) - {"env_vars"})
    if address is None and extra:
        raise ConfigError(f"runtime_env {', '.join(extra)} needs Ray: worker processes on this machine share the "
                          "driver's Python environment and take only env_vars", path=f"{_SPEC}.runtime_env",
                          fix="add --ray-address, or keep only runtime_env.env_vars")
    endpoints = _caller_keys(cfg, spec)
    largest = max((len(urls) for urls in endpoints.values()), default=0)
    if workers is not None and largest > workers:
        raise ConfigError(f"{largest} endpoints in a pool but only {workers} workers: "
                          f"{largest - workers} endpoints would get no requests",
                          path="--workers" if settings.workers else f"{_SPEC}.workers",
                          fix=f"use at least {largest} workers (a multiple of each pool's size spreads load evenly)")
    return DistributedOptions(address, workers or (largest or None), spec.shard_size, endpoints, spec.scoring_only,
                              spec.runtime_env, spec.max_worker_restarts)
