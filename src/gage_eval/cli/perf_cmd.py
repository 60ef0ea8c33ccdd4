"""`gage perf`: stress-test an OpenAI-compatible serving endpoint."""
from __future__ import annotations

import math
import os
from datetime import datetime
from pathlib import Path
from typing import Optional

import typer

from gage_eval.engine import event_loop
from gage_eval.errors import ConfigError


def _load_tokenizer(name: str | None):  # noqa: ANN202 - transformers is optional
    if not name:
        return None
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise ConfigError("--tokenizer needs the transformers package", path="--tokenizer",
                          fix="pip install 'gage-eval[hf]' or drop --tokenizer (token counts then come from usage)"
                          ) from None
    try:
        return AutoTokenizer.from_pretrained(name)
    except Exception as exc:  # noqa: BLE001 - many loader failure types
        raise ConfigError(f"cannot load tokenizer '{name}': {str(exc).splitlines()[0][:200]}", path="--tokenizer",
                          fix="give a local tokenizer folder (no hub access here)") from None


async def _preflight(url: str, model: str, api: str, headers: dict[str, str], console: object) -> None:
    """Fail fast with one clear reason (nothing listens, wrong key, a web page) instead of N identical failures;
    the same check `gage run` makes of its HTTP backends (backends/http_probe.py)."""
    from gage_eval.backends.http_probe import ProbeTarget, api_root_of, probe_openai
    from gage_eval.errors import BackendError, PreflightError

    target = ProbeTarget(api_root=api_root_of(url), post_url=url, model=model, chat=api == "openai-chat",
                         headers=headers, key_hint="the variable named by --api-key-env")
    try:
        warnings = await probe_openai(target)
    except BackendError as exc:
        raise PreflightError(exc, backend=url) from None
    for warning in warnings:
        console.print(f"[yellow]warning: {warning}[/yellow]")  # type: ignore[attr-defined]


def register(app: typer.Typer) -> None:
    @app.command("perf")
    def perf(
        url: str = typer.Option(..., "--url", help="e.g. http://127.0.0.1:8000/v1/chat/completions"),
        model: str = typer.Option(..., "--model"),
        api: str = typer.Option("openai-chat", "--api", help="openai-chat | openai-completions"),
        parallel: list[int] = typer.Option([1], "--parallel", help="one or more concurrency levels"),
        number: Optional[int] = typer.Option(None, "--number", help="requests per level"),
        duration: Optional[float] = typer.Option(None, "--duration", help="seconds per level"),
        rate: str = typer.Option("inf", "--rate", help="Poisson arrivals per second; inf = closed loop"),
        max_tokens: Optional[int] = typer.Option(256, "--max-tokens"),
        min_tokens: Optional[int] = typer.Option(None, "--min-tokens", help="also sends ignore_eos"),
        stream: bool = typer.Option(True, "--stream/--no-stream"),
        dataset: str = typer.Option("random", "--dataset", help="random | line_by_line | openqa | sharegpt | custom"),
        dataset_path: Optional[Path] = typer.Option(None, "--dataset-path"),
        min_prompt_length: int = typer.Option(32, "--min-prompt-length"),
        max_prompt_length: int = typer.Option(256, "--max-prompt-length"),
        tokenizer: Optional[str] = typer.Option(None, "--tokenizer", help="local tokenizer for exact token counts"),
        api_key_env: Optional[str] = typer.Option(None, "--api-key-env", help="environment variable with the key"),
        header: list[str] = typer.Option([], "--header", help="extra header 'Name: value' (repeatable)"),
        seed: int = typer.Option(0, "--seed"),
        warmup: int = typer.Option(1, "--warmup", help="warm-up requests per level, excluded from statistics"),
        timeout: float = typer.Option(600.0, "--timeout", help="seconds per request"),
        percentiles: str = typer.Option("50,90,95,99", "--percentiles"),
        output_dir: Path = typer.Option(Path("runs/perf"), "--output-dir"),
        run_id: Optional[str] = typer.Option(None, "--run-id"),
        no_preflight: bool = typer.Option(False, "--no-preflight", help="skip the check of --url (connect, "
                                          "/v1/models or one token) before the load"),
    ) -> None:
        """Measure TTFT, TPOT, ITL, latency and throughput per concurrency level (vLLM's metric names)."""
        from rich.console import Console

        from gage_eval.perf.client import PerfTarget
        from gage_eval.perf.prompts import build_requests
        from gage_eval.cli.pipe_safe import PipeSafeStdout
        from gage_eval.perf.report import print_level, summary_table, write_outputs
        from gage_eval.perf.runner import LoadPlan, run_levels

        if api not in ("openai-chat", "openai-completions"):
            raise ConfigError(f"unknown --api '{api}'", path="--api", fix="use openai-chat or openai-completions")
        if number is None and duration is None:
            number = 100
        try:
            rate_value = math.inf if rate.lower() == "inf" else float(rate)
            pcts = tuple(int(p) for p in percentiles.split(","))
        except ValueError:
            raise ConfigError("--rate must be a number or inf and --percentiles integers", path="--rate",
                              fix="e.g. --rate 20 --percentiles 50,90,99") from None
        headers = {}
        for h in header:
            name, sep, value = h.partition(":")
            if not sep:
                raise ConfigError(f"bad header '{h}'", path="--header", fix="use 'Name: value'")
            headers[name.strip()] = value.strip()
        if api_key_env:  # read at the CLI edge only; never printed or written
            if not os.environ.get(api_key_env):
                raise ConfigError(f"environment variable {api_key_env} is not set", path="--api-key-env",
                                  fix=f"export {api_key_env}=<key>")
            headers["Authorization"] = f"Bearer {os.environ[api_key_env]}"
        from gage_eval.run_paths import auto_run_id, check_run_id, ensure_writable_dir

        # Checked before the load test so that minutes of measurements are never lost to an unwritable folder.
        # Only the root is made now: a run stopped by the pre-flight leaves no empty result folder behind.
        ensure_writable_dir(output_dir)
        out = output_dir / (check_run_id(run_id) or auto_run_id(output_dir, "perf", reserve=False))
        tok = _load_tokenizer(tokenizer)
        requests = build_requests(dataset, max(number or 0, 64), path=dataset_path, seed=seed,
                                  min_prompt_len=min_prompt_length, max_prompt_len=max_prompt_length, tokenizer=tok)
        target = PerfTarget(url=url, model=model, api=api, stream=stream, max_tokens=max_tokens,
                            min_tokens=min_tokens, extra_body={}, timeout_s=timeout)
        plan = LoadPlan(parallel=parallel, number=number, duration_s=duration, rate=rate_value, warmup=warmup,
                        seed=seed, percentiles=pcts)
        # `gage perf ... | head` closes stdout early: printing stops, the measurement and its files do not.
        stdout = PipeSafeStdout()
        # Piped or logged output is read as a whole: wide enough for the summary table on one line per level.
        console = Console(file=stdout, width=None if stdout.isatty() else 170)
        count = (lambda text: len(tok(text, add_special_tokens=False)["input_ids"])) if tok is not None else None
        meta = {"url": url, "model": model, "api": api, "stream": stream, "dataset": dataset, "parallel": parallel,
                "number": number, "duration": duration, "rate": rate, "max_tokens": max_tokens,
                "min_tokens": min_tokens, "seed": seed, "warmup": warmup,
                "tokenizer": tokenizer or "none (server usage, else chunk count)",
                "created_at": datetime.now().isoformat(timespec="seconds")}
        done: list = []

        def level_done(result) -> None:  # noqa: ANN001 - LevelResult, imported lazily
            done.append(result)
            write_outputs(out, meta, done)  # files first: finished levels survive whatever happens next
            print_level(result, console, pcts)

        async def go():  # noqa: ANN202
            if not no_preflight:
                await _preflight(url, model, api, headers, console)
            return await run_levels(target, requests, plan, headers, on_level=level_done, count_tokens=count)

        results = event_loop.run(go())
        paths = write_outputs(out, meta, results)
        console.print(summary_table(results))
        console.print(f"wrote {', '.join(str(p) for p in paths.values())}", soft_wrap=True)
        if all(r.stats["completed"] == 0 for r in results):
            raise typer.Exit(1)
