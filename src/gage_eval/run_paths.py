"""Safe run paths, checked at the edge before anything is written.

A run id becomes a directory name under the output root, so it must be one plain path component: `../x`
or `/tmp/x` would write outside the output root, and control characters make names nobody can type. An
output directory that cannot be created or written (a file in the way, no permission, read-only disk) is
reported with its path and the reason instead of a traceback from deep inside the run.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from gage_eval.errors import ConfigError, GageError

# Control characters (C0, DEL, C1) and the path separators of POSIX and Windows.
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f/\\]")


def check_run_id(run_id: str | None, option: str = "--run-id") -> str | None:
    """The run id unchanged when it is one safe path component (None means: generate one); else ConfigError."""
    if not isinstance(run_id, str):  # None: generate one; other types are left to the settings' schema
        return run_id
    problem = None
    if not run_id.strip():
        problem = "is empty"
    elif run_id in (".", ".."):
        problem = "names the current or parent directory"
    elif _BAD_CHARS.search(run_id):
        bad = _BAD_CHARS.search(run_id).group()  # type: ignore[union-attr]
        problem = "contains a path separator" if bad in "/\\" else f"contains the control character {bad!r}"
    elif run_id != run_id.strip():
        problem = "starts or ends with whitespace"
    if problem:
        raise ConfigError(f"run id {run_id!r} {problem}; it must be a single folder name under the output "
                          "directory", path=option,
                          fix="use letters, digits, '-', '_' and '.', e.g. --run-id qwen_gsm8k_1 (put folders "
                              "in --output-dir instead)")
    return run_id


def ensure_writable_dir(path: Path, option: str = "--output-dir") -> Path:
    """Create `path` (with parents) and prove it is writable; ConfigError naming the path when it is not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".gage_write_probe_{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        # `file` is the folder itself: the error is about it, not about the config being run.
        raise ConfigError(f"cannot create or write this folder: {_reason(exc, path)}", file=str(path), path=option,
                          fix="choose a directory you can write to, or remove what is in the way") from None
    return path


def _reason(exc: OSError, path: Path) -> str:
    """The OS error in words, naming the blocking file when a parent is a file rather than a folder."""
    blocker = next((p for p in [path, *path.parents] if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        return f"{blocker} is a file, not a folder"
    return os.strerror(exc.errno) if exc.errno else str(exc)


def auto_run_id(root: Path, prefix: str, *, reserve: bool = True) -> str:
    """`<prefix>_<YYYYmmdd_HHMMSS>`, with `_2`, `_3`… when that folder exists under `root`.

    Two runs started in the same second must never share a folder (the second would resume the first). With
    `reserve`, the folder is created here with exist_ok=False, so two processes racing for one name cannot
    both get it."""
    if reserve:
        ensure_writable_dir(root)
    base = f"{prefix}_{datetime.now():%Y%m%d_%H%M%S}"
    for n in range(1, 10_000):
        candidate = base if n == 1 else f"{base}_{n}"
        if not reserve:
            if not (root / candidate).exists():
                return candidate
            continue
        try:
            (root / candidate).mkdir(parents=True, exist_ok=False)
            return candidate
        except FileExistsError:
            continue
    raise ConfigError(f"no free run folder name for {base} under {root}", path="--run-id",
                      fix="give --run-id explicitly")


@contextlib.contextmanager
def exclusive_lock(path: Path, busy: GageError) -> Iterator[None]:
    """Hold an advisory lock on `path` for the block; raise `busy` at once when another process holds it (a run
    directory or a sweep's output folder written by two processes would interleave their records)."""
    fh = path.open("w")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise busy from None
    try:
        yield
    finally:
        fh.close()
