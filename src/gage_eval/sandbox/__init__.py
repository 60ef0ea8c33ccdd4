"""Execution sandbox for model-written code: one fresh, resource-limited subprocess per program.

`Sandbox.run(program)` returns a `RunResult` (status passed | failed | timeout | error, exit code,
stdout/stderr tails, duration, and the `Isolation` that was applied). Limits: wall clock (process group
killed), SIGALRM run-time timer, RLIMIT_CPU / AS / FSIZE / CORE, RLIMIT_NPROC inside a user namespace;
no network through ``unshare --net`` when the machine allows it, else a Python-level socket block.
Read `gage_eval.sandbox.subprocess_runner`'s docstring for exactly what is and is not protected: this
guards against accidents of model-written code, it is not a jail for hostile code.
"""
from gage_eval.sandbox.subprocess_runner import (
    Isolation,
    Limits,
    RunResult,
    Sandbox,
    default_sandbox,
    probe_namespaces,
    run_program,
)

__all__ = ["Isolation", "Limits", "RunResult", "Sandbox", "default_sandbox", "probe_namespaces", "run_program"]
