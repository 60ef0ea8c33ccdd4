"""The `gage` command. Errors the user can fix print as one short message with exit code 2."""
from __future__ import annotations

import sys

import typer

from gage_eval.errors import GageError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="gage-eval: evaluate large language models with step-chain pipelines.")


def _register() -> None:
    from gage_eval.cli import config_cmds, registry_cmds, run_cmd

    run_cmd.register(app)
    config_cmds.register(app)
    registry_cmds.register(app)


def report_error(exc: GageError) -> int:
    typer.secho(f"error: {exc.render()}", fg=typer.colors.RED, err=True)
    return exc.exit_code


def main(argv: list[str] | None = None) -> None:
    _register()
    try:
        app(args=argv, standalone_mode=False)
    except GageError as exc:
        sys.exit(report_error(exc))
    except KeyboardInterrupt:
        typer.secho("interrupted: finished samples are saved; rerun with the same --run-id to resume",
                    fg=typer.colors.YELLOW, err=True)
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own exit code
        import click

        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(130)
        raise
