"""The `gage` command. Errors the user can fix print as one short message with exit code 2."""
from __future__ import annotations

import sys

import typer

from gage_eval.cli import pipe_safe
from gage_eval.errors import GageError, RunInterrupted

# rich_markup_mode=None: plain click help, which wraps every option name and text; rich panels cut long option
# names and help text with an ellipsis in narrow or piped (non-tty, 80-column) output.
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="gage-eval: evaluate large language models with step-chain pipelines.")


def _register() -> None:
    if app.registered_commands:  # idempotent: main() may be called more than once in a process (tests, API)
        return
    from gage_eval.cli import (arena_cmd, config_cmds, eval_cmd, perf_cmd, ray_cmd, registry_cmds, run_cmd,
                               serve_cmd, support_cmd, swebench_cmd, sweep_cmd, triage_cmd, view_cmds)

    run_cmd.register(app)
    eval_cmd.register(app)
    arena_cmd.register(app)
    perf_cmd.register(app)
    view_cmds.register(app)
    config_cmds.register(app)
    registry_cmds.register(app)
    serve_cmd.register(app)
    sweep_cmd.register(app)
    swebench_cmd.register(app)
    support_cmd.register(app)
    triage_cmd.register(app)
    ray_cmd.register(app)


def report_error(exc: GageError) -> int:
    typer.secho(f"error: {exc.render()}", fg=typer.colors.RED, err=True)
    return exc.exit_code


def _short_warnings() -> None:
    """`warning: message` on stderr instead of Python's file:line and source excerpt."""
    import warnings

    warnings.formatwarning = lambda message, category, *_args, **_kw: f"warning: {message}\n"


def _graceful_sigterm() -> None:
    """Schedulers (Slurm, Kubernetes) stop jobs with SIGTERM: treat it like Ctrl-C so the run is left resumable.
    A run replaces this with engine.stop's handlers; this one covers the rest (compiling, serving a viewer).
    It raises directly: a simulated SIGINT (`_thread.interrupt_main`) is dropped when SIGINT is ignored."""
    import signal

    def on_sigterm(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)


MULTI_VALUE_OPTIONS = {"--parallel", "--datasets", "--tasks"}


def expand_multi_value(argv: list[str]) -> list[str]:
    """`--parallel 1 8 32` (EvalScope / vLLM style) -> `--parallel 1 --parallel 8 --parallel 32` for click."""
    out: list[str] = []
    current: str | None = None
    for arg in argv:
        if arg.startswith("-"):
            current = arg if arg in MULTI_VALUE_OPTIONS else None
            out.append(arg)
        elif current is not None and out[-1] != current:
            out += [current, arg]
        else:
            out.append(arg)
    return out


def subverbs(argv: list[str]) -> list[str]:
    """`gage arena play CONFIG` -> the hidden command `arena-play`: `gage arena [CONFIG]` keeps its positional
    argument, which a click group would read as a subcommand name."""
    return ["arena-play", *argv[2:]] if argv[:2] == ["arena", "play"] else argv


def main(argv: list[str] | None = None) -> None:
    _register()
    pipe_safe.install()
    _graceful_sigterm()
    _short_warnings()
    try:
        code = app(args=subverbs(expand_multi_value(sys.argv[1:] if argv is None else argv)), standalone_mode=False)
    except GageError as exc:
        sys.exit(report_error(exc))
    except KeyboardInterrupt:
        sys.exit(report_error(RunInterrupted()))
    except Exception as exc:
        # typer vendors click, so match click's exceptions by shape rather than by class.
        if type(exc).__name__ == "Abort":
            sys.exit(report_error(RunInterrupted()))
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)
