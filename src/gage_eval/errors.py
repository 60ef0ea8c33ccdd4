"""User-facing errors. Each carries enough context to fix the problem without a traceback."""
from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterable, Iterator


class GageError(Exception):
    """Base class for errors reported to the user as a short message (exit code 2)."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, path: str | None = None,
                 fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.path = path
        self.fix = fix

    def render(self) -> str:
        where = ": ".join(part for part in (self.file, self.path) if part)
        head = f"{where}: {self.message}" if where else self.message
        return f"{head}\n  fix: {self.fix}" if self.fix else head

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.render()


class RunInterrupted(GageError):
    """Ctrl-C or SIGTERM: finished samples are on disk and the run can be resumed."""

    exit_code = 130

    def __init__(self) -> None:
        super().__init__("interrupted: finished samples are saved",
                         fix="rerun the same command with the same --run-id to resume")


class ConfigError(GageError):
    """The configuration is invalid (syntax, schema, references, digests)."""


class DatasetError(GageError):
    """A dataset file or record cannot be read or does not match the expected schema."""


class BackendError(Exception):
    """A model backend call failed. `retryable` marks transient faults (429, 5xx, timeouts)."""

    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


@contextlib.contextmanager
def attach_config_file(path: object) -> Iterator[None]:
    """Errors raised while building from a config name that config when they name no file of their own."""
    try:
        yield
    except GageError as exc:
        if exc.file is None:
            exc.file = str(path)
        raise


def close_match_hint(value: str, known: Iterable[str], *, label: str = "known values", limit: int = 20) -> str:
    """`did you mean 'x'? known values: a, b, c` — the close match first, then (up to `limit`) the choices."""
    known = sorted({str(k) for k in known})
    if not known:
        return f"{label}: (none defined)"
    value = str(value)
    folded = {k.lower(): k for k in known}
    close = [folded[value.lower()]] if value.lower() in folded else difflib.get_close_matches(value, known, n=1)
    listing = ", ".join(known[:limit]) + (f", ... ({len(known) - limit} more)" if len(known) > limit else "")
    hint = f"did you mean '{close[0]}'? " if close and close[0] != value else ""
    return f"{hint}{label}: {listing}"
