"""Symbolic answer comparison for AMPS_Hard and integrals_with_game, in a worker process.

sympy's ``simplify`` can run for minutes on a model's expression; LiveBench runs it in a child process with
a 60 s timeout. Here one long-lived worker (``python -m gage_eval.benchmarks.livebench.equivalence``, JSON
lines on stdin/stdout) does every comparison, so sympy is imported once; a comparison that outlives its
timeout kills the worker (the next comparison starts a fresh one) and counts as not equivalent.

Parsing follows LiveBench: ``sympy.parsing.latex.parse_latex(x, backend="lark")`` (every reading of an
ambiguous expression), then the same with doubled backslashes undone, then latex2sympy (LiveBench uses the
``latex2sympy2`` package; here ``latex2sympy2_extended``, which math-verify brings).
"""
from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
from typing import Any

DEFAULT_TIMEOUT_S = 60.0


def _parse_amps(text: str) -> list[Any]:
    from sympy.parsing.latex import parse_latex

    try:
        parsed = parse_latex(text, backend="lark")
    except Exception:  # noqa: BLE001 - any parse failure moves on to the next parser, as in LiveBench
        try:
            parsed = parse_latex(text.replace("\\\\", "\\"), backend="lark")
        except Exception:  # noqa: BLE001
            try:
                from latex2sympy2_extended import latex2sympy

                try:
                    return [latex2sympy(text)]
                except Exception:  # noqa: BLE001
                    return [latex2sympy(text.replace("\\\\", "\\"))]
            except Exception:  # noqa: BLE001
                return []
    try:
        import lark
    except ImportError:
        return [parsed]
    return list(parsed.children) if isinstance(parsed, lark.Tree) else [parsed]


def amps_equivalent(truth: str, answer: str) -> bool:
    """LiveBench's AMPS_Hard ``is_equiv``: some reading of each parses, and their difference simplifies to 0
    (or to something of absolute value below 0.001)."""
    import sympy

    for left in _parse_amps(truth):
        for right in _parse_amps(answer):
            try:
                simplified = sympy.simplify(left - right)
            except Exception:  # noqa: BLE001
                continue
            try:
                if simplified == 0 or bool(sympy.Abs(simplified) < 0.001):
                    return True
            except Exception:  # noqa: BLE001, S112 - a symbolic inequality has no truth value: not equal
                continue
    return False


def _integrals_normalize(text: str) -> str:
    text = text.strip().replace("\\\\", "\\")
    for old, new in (("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\left", ""), ("\\right", ""),
                     ("\\bigl", ""), ("\\bigr", ""), ("\\Bigl", ""), ("\\Bigr", ""), ("\\cdot", "*"),
                     ("\\,", ""), ("\\;", ""), ("\n", ""), (" ", "")):
        text = text.replace(old, new)
    return text


def _parse_number(text: str) -> Any:
    """LiveBench's integrals_with_game ``parse_answer``: a/b, an integer, a decimal, \\frac{a}{b}, then LaTeX."""
    import re

    import sympy
    from sympy.parsing.latex import parse_latex

    text = _integrals_normalize(text)
    if "/" in text and "\\" not in text:
        parts = text.split("/")
        if len(parts) == 2:
            try:
                return sympy.Rational(int(parts[0]), int(parts[1]))
            except (ValueError, TypeError, ZeroDivisionError):
                pass
    try:
        return sympy.Integer(int(text))
    except (ValueError, TypeError):
        pass
    try:
        return sympy.Rational(text).limit_denominator(10000000)
    except (ValueError, TypeError, sympy.SympifyError):
        pass
    match = re.match(r"\\frac\{(\d+)\}\{(\d+)\}", text)
    if match:
        try:
            return sympy.Rational(int(match.group(1)), int(match.group(2)))
        except (ValueError, TypeError, ZeroDivisionError):
            pass
    for backend in ("antlr", "lark"):
        try:
            parsed = parse_latex(text, backend=backend)
        except Exception:  # noqa: BLE001, S112
            continue
        return parsed.children[0] if hasattr(parsed, "children") else parsed
    return None


def integrals_equivalent(truth: str, answer: str) -> bool | None:
    """None when the ground truth does not parse (LiveBench then scores 0); else whether the answer parses to a
    value whose difference from it simplifies to 0 (or below 1e-5 in absolute value)."""
    import sympy

    expected = _parse_number(truth)
    if expected is None:
        return None
    given = _parse_number(answer)
    if given is None:
        return False
    try:
        simplified = sympy.simplify(expected - given)
        return bool(simplified == 0 or sympy.Abs(simplified).evalf() < 1e-5)
    except Exception:  # noqa: BLE001
        return False


def integrals_normalized(text: str) -> str:
    return _integrals_normalize(text)


_FUNCTIONS = {"amps": amps_equivalent, "integrals": integrals_equivalent}


def serve() -> None:
    """The worker's loop: one JSON request per line in, one reply per line out."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr  # sympy / parser chatter must never corrupt the protocol
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = {"status": "ok", "value": _FUNCTIONS[request["fn"]](*request["args"])}
        except Exception as exc:  # noqa: BLE001 - reported to the caller, who records it on the sample
            reply = {"status": "error", "value": f"{type(exc).__name__}: {exc}"[:300]}
        out.write(json.dumps(reply) + "\n")
        out.flush()


class SympyWorker:
    """The parent side: `call` sends one comparison and waits at most `timeout_s` for its answer."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        atexit.register(self.close)

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(  # noqa: S603 - our own module, with this interpreter
                [sys.executable, "-m", "gage_eval.benchmarks.livebench.equivalence"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        return self._proc

    def call(self, fn: str, *args: Any, timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[str, Any]:
        """("ok", value) | ("timeout", None) | ("error", message)."""
        with self._lock:
            proc = self._ensure()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write((json.dumps({"fn": fn, "args": list(args)}) + "\n").encode())
                proc.stdin.flush()
            except OSError as exc:
                self._kill()
                return "error", f"the sympy worker is gone: {exc}"
            ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
            if not ready:
                self._kill()
                return "timeout", None
            line = proc.stdout.readline()
            if not line:
                self._kill()
                return "error", "the sympy worker exited"
            reply = json.loads(line)
            return reply["status"], reply.get("value")

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        with self._lock:
            self._kill()


_worker: SympyWorker | None = None


def worker() -> SympyWorker:
    global _worker
    if _worker is None:
        _worker = SympyWorker()
    return _worker


if __name__ == "__main__":
    serve()
