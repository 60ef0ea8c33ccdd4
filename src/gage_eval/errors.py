"""User-facing errors. Each carries enough context to fix the problem without a traceback."""
from __future__ import annotations

import contextlib
import copy
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
    """A model backend call failed. `retryable` marks transient faults (429, 5xx, timeouts).

    `reason` is the failure class people read in the failure table and summary.json (`connection refused`,
    `HTTP 401`, `non-JSON reply`, ...): one generic class would hide why a run failed. Subclasses set it;
    `fix` says what to do about it, where the backend knows (e.g. which environment variable holds the key).
    """

    reason = "backend error"

    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None,
                 status: int | None = None, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status
        self.fix = fix

    def clone(self) -> BackendError:
        """A fresh copy to raise again (re-raising one instance from many tasks chains their tracebacks)."""
        return copy.copy(self).with_traceback(None)


class BackendConnectionError(BackendError):
    """The connection failed or broke (DNS, reset, closed without a reply)."""

    reason = "connection error"


class ConnectionRefused(BackendConnectionError):
    """Nothing listens at the address: the server is down or the URL's host/port is wrong."""

    reason = "connection refused"


class BackendTimeout(BackendError):
    reason = "timeout"
    during_connect = False  # no connection at all, rather than a slow reply


class HTTPStatusError(BackendError):
    """The server answered with an error status; 5xx statuses form one class (they share a cause and a fix)."""

    @property  # type: ignore[override]
    def reason(self) -> str:
        status = self.status or 0
        return "HTTP 5xx" if status >= 500 else f"HTTP {status}"


class NonJSONReply(BackendError):
    """The server answered, but not with JSON: usually a web page (wrong URL, proxy or login page)."""

    reason = "non-JSON reply"


class MalformedReply(BackendError):
    """JSON, but not the OpenAI shape (no `choices`)."""

    reason = "malformed reply"


class RunFailed(GageError):
    """A run another command depends on failed (e.g. a live arena model's generations): exit code 1."""

    exit_code = 1


class PreflightError(GageError):
    """A backend failed its check before any sample was sent: the run stops at once (exit code 1)."""

    exit_code = 1

    def __init__(self, cause: BackendError, *, backend: str) -> None:
        super().__init__(f"backend '{backend}' failed its pre-flight check ({cause.reason}): {cause.message}",
                         fix=cause.fix)
        self.cause = cause
        self.backend = backend
        self.reason = cause.reason


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
