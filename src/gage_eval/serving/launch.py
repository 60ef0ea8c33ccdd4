"""`launch:` settings of a managed model server, and the command line each preset runs.

A preset is the usual way to start a serving engine; `command` is any other server, as a template with
`{model_path}`, `{port}`, `{host}` and `{served_model_name}` placeholders. Commands are split with shlex and
run without a shell, so the stop signal reaches the server itself and not a wrapping `sh`.
"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Preset = Literal["vllm", "sglang", "tgi", "gage"]
PLACEHOLDERS = ("model_path", "port", "host", "served_model_name")


class LaunchConfig(BaseModel):
    """`backends[].launch`: the server gage starts before the run and stops after it."""

    model_config = ConfigDict(extra="forbid")

    preset: Preset | None = None
    command: str | None = None  # template; see PLACEHOLDERS
    model_path: str | None = None  # --model-path overrides it
    port: int | Literal["auto"] = "auto"
    host: str = "127.0.0.1"
    served_model_name: str | None = None  # default: the model path, as vLLM names it
    ready_timeout_s: float = Field(default=600.0, gt=0)
    stop_grace_s: float = Field(default=30.0, ge=0)
    env: dict[str, str] = Field(default_factory=dict)
    args: list[str] = Field(default_factory=list)  # appended to the preset's or command's arguments
    name: str | None = None  # log file logs/server-<name>.log; default: the backend id
    # vllm knobs (sglang/tgi take the equivalent ones where they have them)
    gpu_memory_utilization: float | None = Field(default=None, gt=0, le=1)
    tensor_parallel_size: int | None = Field(default=None, ge=1)
    max_model_len: int | None = Field(default=None, ge=1)
    # gage knobs
    batch_size: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_of(self) -> LaunchConfig:
        if (self.preset is None) == (self.command is None):
            raise ValueError("give exactly one of preset (vllm | sglang | tgi | gage) or command (a template with "
                             "{model_path} and {port})")
        if self.command is not None and "{port}" not in self.command:
            raise ValueError("command must contain {port}: gage picks or checks the port and waits on it")
        if self.port != "auto" and not 1 <= int(self.port) <= 65535:
            raise ValueError("port must be 1-65535 or 'auto'")
        return self

    def model_name(self) -> str:
        return self.served_model_name or self.model_path or "model"


def _opt(flag: str, value: Any) -> list[str]:
    return [] if value is None else [flag, str(value)]


def preset_argv(cfg: LaunchConfig, model_path: str, port: int) -> list[str]:
    name = cfg.model_name()
    if cfg.preset == "vllm":
        return ["vllm", "serve", model_path, "--host", cfg.host, "--port", str(port),
                *_opt("--gpu-memory-utilization", cfg.gpu_memory_utilization),
                *_opt("--tensor-parallel-size", cfg.tensor_parallel_size),
                *_opt("--max-model-len", cfg.max_model_len), "--served-model-name", name]
    if cfg.preset == "sglang":
        return [sys.executable, "-m", "sglang.launch_server", "--model-path", model_path, "--host", cfg.host,
                "--port", str(port), *_opt("--mem-fraction-static", cfg.gpu_memory_utilization),
                *_opt("--tp-size", cfg.tensor_parallel_size), *_opt("--context-length", cfg.max_model_len),
                "--served-model-name", name]
    if cfg.preset == "tgi":
        return ["text-generation-launcher", "--model-id", model_path, "--hostname", cfg.host, "--port", str(port),
                *_opt("--cuda-memory-fraction", cfg.gpu_memory_utilization),
                *_opt("--num-shard", cfg.tensor_parallel_size), *_opt("--max-total-tokens", cfg.max_model_len)]
    # gage: the CPU server over the hf backend, with the same interpreter (and so the same install) as gage.
    return [sys.executable, "-m", "gage_eval", "serve", model_path, "--host", cfg.host, "--port", str(port),
            "--served-model-name", name, *_opt("--batch-size", cfg.batch_size),
            *_opt("--max-model-len", cfg.max_model_len)]


def build_argv(cfg: LaunchConfig, model_path: str, port: int) -> list[str]:
    if cfg.preset is not None:
        return preset_argv(cfg, model_path, port) + list(cfg.args)
    values = {"model_path": model_path, "port": port, "host": cfg.host, "served_model_name": cfg.model_name()}
    # Placeholders are filled per argument after splitting, so a path with spaces stays one argument.
    argv = [part.format(**values) for part in shlex.split(cfg.command or "")]
    return argv + list(cfg.args)


def model_path_problem(model_path: str | None) -> str | None:
    """Why the model path cannot be served, or None. Hub ids ('org/name') are left to the server."""
    if not model_path:
        return "no model_path is given"
    looks_local = model_path.startswith((".", "/", "~")) or model_path.count("/") > 1
    if looks_local and not Path(model_path).expanduser().exists():
        return f"model path '{model_path}' does not exist"
    return None
