"""The sweep: generate with each model's server up (one server per model, all benchmarks), then evaluate with
no server of the evaluated model, then the leaderboard and the score-vs-step plot.

A checkpoint whose server crashes or never becomes ready is recorded as failed with the end of its log, and
the sweep goes on. Every phase of every (model, benchmark) is an engine run, so an interrupted sweep resumes
sample by sample; a finished one is not run again (plan.is_done).
"""
from __future__ import annotations

import contextlib
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gage_eval.config import config_from_dict
from gage_eval.config.paths import check_dataset_paths
from gage_eval.engine.runtime import Runtime
from gage_eval.engine.settings import RunSettings
from gage_eval.errors import BackendError, ConfigError, GageError
from gage_eval.report.summary import write_json_atomic
from gage_eval.run_paths import exclusive_lock
from gage_eval.serving.launch import LaunchConfig
from gage_eval.serving.managed import ManagedServer, ServerError, tail
from gage_eval.serving.ports import port_in_use
from gage_eval.sweep import plan as planning
from gage_eval.sweep.benchmarks import SweepBenchmark
from gage_eval.sweep.config import SweepOptions
from gage_eval.sweep.models import SweepModel
from gage_eval.sweep.plan import Unit
from gage_eval.sweep.progress import SweepProgress

PRESETS = ("vllm", "sglang", "tgi", "gage")


class SweepError(GageError):
    """The sweep cannot go on (a judge that is down, answers missing for --phase evaluate)."""

    exit_code = 1


class Sweep:
    def __init__(self, opts: SweepOptions, models: list[SweepModel], benches: list[SweepBenchmark],
                 secrets: dict[str, str], progress: SweepProgress | None = None) -> None:
        self.opts = opts
        self.models = models
        self.benches = benches
        self.secrets = secrets
        self.progress = progress or SweepProgress(opts.progress)
        self.root = opts.output_dir
        self.units = planning.units(opts, models, benches)
        self.state = self._load_state()
        self.servers_started = 0

    # ---- state (sweep.json) --------------------------------------------------------------------------
    def _load_state(self) -> dict[str, Any]:
        path = self.root / "sweep.json"
        with contextlib.suppress(OSError, ValueError):
            import json

            return json.loads(path.read_text())
        return {"models": {}, "units": {}}

    def _save(self) -> None:
        self.state["benchmarks"] = [b.name for b in self.benches]
        self.state["order"] = [m.name for m in self.models]
        for m in self.models:
            self.state["models"].setdefault(m.name, {}).update(step=m.step, source=m.source or m.api_base)
        write_json_atomic(self.root / "sweep.json", self.state)

    def _record(self, unit: Unit, phase: str, **info: Any) -> None:
        self.state["units"].setdefault(unit.run_id, {"model": unit.model.name, "benchmark": unit.bench.name})[
            phase] = info
        self._save()

    # ---- checks before anything starts ---------------------------------------------------------------
    def check(self) -> None:
        """Bad input fails here, before any server starts: datasets, judge settings, API keys, the port."""
        first = [u for u in self.units if u.model is self.models[0]]
        for unit in first:
            for build in (planning.generate_pipeline, planning.evaluate_pipeline):
                if build is planning.evaluate_pipeline and not self._judge_ready(unit):
                    continue
                check_dataset_paths(config_from_dict(build(unit, self.opts)))
        if self.opts.phase != "generate" and any(b.judged for b in self.benches) and not self.opts.judge.api_base:
            judged = ", ".join(b.name for b in self.benches if b.judged)
            raise ConfigError(f"{judged} {'is' if ',' not in judged else 'are'} scored by a judge, and no judge "
                              "is given", path="--judge-api-base",
                              fix="pass --judge-api-base URL --judge-model NAME (any OpenAI-compatible server), "
                                  "or leave those benchmarks out of --benchmarks, or use --phase generate")
        for name in self._key_names():
            if name not in self.secrets:
                raise ConfigError(f"environment variable {name} (api_key_env) is not set", path="api_key_env",
                                  fix=f"export {name}=<key> before running; the key is never written to disk")

    def _judge_ready(self, unit: Unit) -> bool:
        return not unit.bench.judged or bool(self.opts.judge.api_base)

    def _key_names(self) -> set[str]:
        names = {m.api_key_env for m in self.models if m.api_key_env}
        if self.opts.judge.api_key_env and self.opts.phase != "generate":
            names.add(self.opts.judge.api_key_env)
        return names

    def _check_port(self) -> None:
        port = self.opts.serve.port
        if port == 0 or not port_in_use("127.0.0.1", port):
            return
        # The server of a sweep that was killed a moment ago may still be shutting down (it gets SIGTERM when
        # its parent dies): wait for that one, and only that one.
        pid = self.state.get("server_pid")
        deadline = time.monotonic() + 30
        while pid and _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        for _ in range(10):
            if not port_in_use("127.0.0.1", port):
                return
            time.sleep(0.2)
        raise ConfigError(f"port {port} is already in use: the sweep serves each checkpoint there", path="--port",
                          fix="stop what listens there, or choose a free port with --port")

    async def check_judge(self) -> None:
        from gage_eval.registry import registry

        judge = self.opts.judge
        config = {"base_url": judge.api_base, "model": judge.model_name or "judge"}
        if judge.api_key_env:
            config["api_key"] = self.secrets[judge.api_key_env]
        backend = registry.get("backends", "openai_http").from_config(config, "judge")
        try:
            await backend.preflight()
        except BackendError as exc:
            raise SweepError(f"the judge at {judge.api_base} cannot be used: {exc.reason}: {exc.message}",
                             path="--judge-api-base", fix=exc.fix or "start the judge server, or fix "
                             "--judge-api-base / --judge-model; generated answers are kept, so rerun with "
                             "--phase evaluate once it is up") from None
        finally:
            await backend.aclose()

    # ---- run -----------------------------------------------------------------------------------------
    async def run(self) -> dict[str, Any]:
        self.root.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        with exclusive_lock(self.root / ".sweep.lock", ConfigError(
                f"another gage sweep is writing to {self.root}", path="--output-dir",
                fix="wait for it to finish, or choose another --output-dir")):
            self.state["started_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
            self.check()
            if self.opts.phase == "all" and any(b.judged for b in self.benches):
                await self.check_judge()  # a judge that is down is found now, not after hours of generation
            self.progress.start()
            try:
                if self.opts.phase in ("generate", "all"):
                    await self.generate_phase()
                if self.opts.phase in ("evaluate", "all"):
                    await self.evaluate_phase()
            finally:
                await self.progress.stop()
                self.state["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
                self.state["wall_s"] = round(time.monotonic() - t0, 2)
                self.state["servers_started"] = self.servers_started
                self._save()
        from gage_eval.sweep.outputs import write_outputs

        self.state["outputs"] = [str(p) for p in write_outputs(self.root, self.models, self.benches, self.state)]
        self._save()
        return self.state

    async def generate_phase(self) -> None:
        todo = {m.name: [u for u in self.units if u.model is m and not planning.is_done(
            u, "generate", planning.generate_pipeline(u, self.opts), self.opts.skip_existing)] for m in self.models}
        for unit in self.units:
            if unit not in todo[unit.model.name]:
                self._record(unit, "generate", status=planning.summary_status(unit.gen_dir), skipped=True)
        launched = [m for m in self.models if m.launched and todo[m.name]]
        if launched:
            self._check_port()
        for m in self.models:
            self.progress.plan("generate", [u.bench.name for u in todo[m.name]])
        self.progress.servers_left = len(launched)
        for model in self.models:
            units = todo[model.name]
            if not units:
                self.progress.note(f"[{model.name}] answers exist for every benchmark: no server started")
                continue
            if model.launched:
                await self._generate_on_server(model, units)
            else:
                for unit in units:
                    await self._run_unit(unit, "generate", {})

    async def _generate_on_server(self, model: SweepModel, units: list[Unit]) -> None:
        serve = self.opts.serve
        preset = serve.server if serve.server in PRESETS else None
        launch = LaunchConfig(preset=preset, command=None if preset else serve.server, model_path=model.source,
                              port=serve.port or "auto", served_model_name=model.name, ready_timeout_s=serve.ready_timeout_s,
                              gpu_memory_utilization=serve.gpu_mem if preset in ("vllm", "sglang", "tgi") else None,
                              tensor_parallel_size=serve.tp_size if preset in ("vllm", "sglang", "tgi") else None,
                              max_model_len=serve.max_model_len, args=list(serve.args), env=dict(serve.env))
        server = ManagedServer(launch, name=model.name, log_dir=self.root / "logs", config_path="--serve")
        info = self.state["models"].setdefault(model.name, {})
        self.progress.checkpoint = model.name
        self.progress.note(f"[{model.name}] starting the {serve.server if preset else 'command'} server on port "
                           f"{serve.port}")
        t0 = time.monotonic()
        try:
            server.start()
            self.servers_started += 1
            self.state["server_pid"] = server.pid
            self._save()
            await server.wait_ready()
        except ServerError as exc:
            server.stop()
            self.progress.server_skipped()
            info.update(status="server_failed", error=exc.message, log=str(server.log_path),
                        log_tail=tail(server.log_path, 30))
            self._save()
            self.progress.note(f"[{model.name}] server failed: {exc.message.splitlines()[0]} — skipping this "
                               f"checkpoint (log: {server.log_path})")
            return
        self.progress.server_started(time.monotonic() - t0)
        info.update(status="ok", error=None, log=str(server.log_path), log_tail=None,
                    server_start_s=round(time.monotonic() - t0, 2))
        try:
            for unit in units:
                await self._run_unit(unit, "generate", {"model": server.base_url})
                code = server.proc.poll() if server.proc else None
                if code is not None:
                    info.update(status="server_failed", error=f"the server exited with code {code} during "
                                f"generation", log_tail=tail(server.log_path, 30))
                    self.progress.note(f"[{model.name}] server died (exit code {code}); skipping the rest of "
                                       "this checkpoint")
                    return
        finally:
            server.stop()
            self.state.pop("server_pid", None)
            self._save()

    async def evaluate_phase(self) -> None:
        missing = [u for u in self.units if not planning.generated(u)
                   and self.state["models"].get(u.model.name, {}).get("status") != "server_failed"]
        if self.opts.phase == "evaluate" and missing:
            lines = "\n".join(f"  {u.label}: {_why_missing(u)}" for u in missing)
            raise SweepError(f"no generated answers for {len(missing)} of {len(self.units)} (model, benchmark):\n"
                             f"{lines}", path="--phase evaluate",
                             fix="run `gage sweep ... --phase generate` (or --phase all) first; it resumes where "
                                 "it stopped")
        todo = [u for u in self.units if planning.generated(u) and not planning.is_done(
            u, "evaluate", planning.evaluate_pipeline(u, self.opts), self.opts.skip_existing)]
        for unit in self.units:
            if unit not in todo:
                self._record(unit, "evaluate", status=planning.summary_status(unit.eval_dir),
                             skipped=True, **({} if planning.generated(unit) else {"missing": _why_missing(unit)}))
        if any(u.bench.judged for u in todo):
            await self.check_judge()
        self.progress.plan("evaluate", [u.bench.name for u in todo])
        for unit in todo:
            await self._run_unit(unit, "evaluate", {})

    async def _run_unit(self, unit: Unit, phase: str, servers: dict[str, str]) -> None:
        build = planning.generate_pipeline if phase == "generate" else planning.evaluate_pipeline
        pipeline = build(unit, self.opts)
        run_dir = unit.run_dir(phase)
        settings = RunSettings(output_dir=run_dir.parent, run_id=run_dir.name, concurrency=self.opts.concurrency,
                               progress="off", running_servers=servers, max_failure_rate=1.0,
                               secrets={k: v for k, v in self.secrets.items() if k in self._key_names()})
        self.progress.begin(unit.model.name, unit.bench.name, phase, run_dir, unit.settings.limit)
        t0 = time.monotonic()
        try:
            result = await Runtime(config_from_dict(pipeline), settings).run()
        except GageError as exc:
            self.progress.end(unit.bench.name, phase, 0, 0)
            self._record(unit, phase, status="failed", error=exc.render())
            self.progress.note(f"[{unit.model.name}] {phase} {unit.bench.name} failed: {exc.message}")
            return
        summary = result.summary
        new = sum(int(t.get("new_samples") or 0) for t in summary.get("tasks") or [])
        self.progress.end(unit.bench.name, phase, int(summary.get("sample_count") or 0), new)
        run = summary["run"]
        self._record(unit, phase, status=run["status"], error=run.get("error"), samples=summary["sample_count"],
                     failed=summary["failures"]["total"], wall_s=round(time.monotonic() - t0, 2))
        if run["status"] in planning.FINISHED:
            planning.mark_done(unit, phase, pipeline, summary)
        if phase == "evaluate" and run["status"] in planning.FINISHED and unit.bench.write_files:
            from gage_eval.sweep.reference_files import FileContext

            unit.bench.write_files(FileContext(unit.eval_dir, unit.files_dir, unit.model.name))
        status = run["status"] + (f" ({summary['failures']['total']} failed)" if summary["failures"]["total"] else "")
        self.progress.note(f"[{unit.model.name}] {phase} {unit.bench.name}: {status}, "
                           f"{summary['sample_count']} samples, {time.monotonic() - t0:.1f}s")


def _why_missing(unit: Unit) -> str:
    status = planning.summary_status(unit.gen_dir)
    if status is None:
        return "not generated" if not (unit.gen_dir / "samples.jsonl").exists() else "generation was interrupted"
    return f"generation {status}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie child counts as gone
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1]
        return state != "Z"
    return True


def run_sweep(opts: SweepOptions, models: list[SweepModel], benches: list[SweepBenchmark],
              secrets: dict[str, str]) -> dict[str, Any]:
    from gage_eval.engine import event_loop

    return event_loop.run(Sweep(opts, models, benches, secrets).run())

