"""The program the sandbox runs for one LiveBench coding answer: LiveCodeBench's grading
(``lcb_runner/evaluation/testing_util.py``) around the model's code, with the tests inlined.

Call-based problems (LeetCode, ``fn_name`` set): the code is executed after LCB's import prelude and the
function (a ``Solution`` method when the code defines that class) is called with each test's JSON-decoded
lines; the result must equal the expected JSON value (tuples count as lists). Standard-input problems: the
code (its ``if __name__ == "__main__":`` block unwrapped) becomes the body of ``wrapped_function`` after the
prelude, is called with stdin (and ``open``) reading the test input, and its printed lines must equal the
expected ones after stripping, or be equal as decimals token by token. Each test has LCB's 6 s alarm; the
first failing test ends the program with an AssertionError naming it, which the sandbox reports as
"failed". Reaching the end means every test passed.

This module is the harness's source text; it is never imported by gage itself.
"""
import ast
import builtins
import io
import json
import signal
import sys
from decimal import Decimal
from types import ModuleType
from unittest.mock import mock_open, patch

PRELUDE = (
    "from string import *\nfrom re import *\nfrom datetime import *\nfrom collections import *\n"
    "from heapq import *\nfrom bisect import *\nfrom copy import *\nfrom math import *\nfrom random import *\n"
    "from statistics import *\nfrom itertools import *\nfrom functools import *\nfrom operator import *\n"
    "from io import *\nfrom sys import *\nfrom json import *\nfrom builtins import *\nfrom typing import *\n"
    "import string\nimport re\nimport datetime\nimport collections\nimport heapq\nimport bisect\nimport copy\n"
    "import math\nimport random\nimport statistics\nimport itertools\nimport functools\nimport operator\n"
    "import io\nimport sys\nimport json\nsys.setrecursionlimit(50000)\n")


class TestTimeout(Exception):  # an Exception, as LCB's: a solution's broad `except` can swallow it there too
    pass


def _alarm(signum, frame):
    raise TestTimeout()


def _compile(code, timeout):
    signal.alarm(timeout)
    try:
        module = ModuleType("tmp_sol", "")
        exec(code, module.__dict__)
        return module.Solution() if "class Solution" in code else module
    finally:
        signal.alarm(0)


def _clean_if_name(code):
    try:
        tree = ast.parse(code)
        last = tree.body[-1]
        if isinstance(last, ast.If) and ast.unparse(last.test).strip() == "__name__ == '__main__'":
            code = ast.unparse(tree.body[:-1]) + "\n" + ast.unparse(last.body)
    except Exception:
        pass
    return code


def _make_function(code):
    try:
        tree = ast.parse(code)
        imports = [s for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom))]
        others = [s for s in tree.body if not isinstance(s, (ast.Import, ast.ImportFrom))]
        function = ast.FunctionDef(name="wrapped_function", args=ast.arguments(
            posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]), body=others,
            decorator_list=[], lineno=-1)
        return PRELUDE + "\n" + ast.unparse(imports) + "\n" + ast.unparse(function)
    except Exception:
        return code


def _short(value, length=300):
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= length else text[:length // 2] + "...(truncated) ..." + text[-length // 2:]


def _fail(index, what, got=None, expected=None):
    detail = "" if got is None else f": got {_short(got)}, expected {_short(expected)}"
    raise AssertionError(f"test {index + 1}: {what}{detail}")


def _call_based(code, tests, timeout):
    solution = _compile(PRELUDE + "\n\n" + code, timeout)
    method = getattr(solution, tests["fn_name"], None)
    if method is None:
        raise AssertionError(f"the code defines no {tests['fn_name']!r}")
    for i, (raw_in, raw_out) in enumerate(zip(tests["inputs"], tests["outputs"])):
        args = [json.loads(line) for line in raw_in.split("\n")]
        expected = json.loads(raw_out)
        signal.alarm(timeout)
        try:
            got = method(*args)
            signal.alarm(0)
        except TestTimeout:
            _fail(i, "Time Limit Exceeded")
        except Exception as exc:
            signal.alarm(0)
            _fail(i, f"Runtime Error ({type(exc).__name__}: {_short(exc)})")
        finally:
            signal.alarm(0)
        if isinstance(got, tuple):
            got = list(got)
        if got != expected:
            _fail(i, "Wrong Answer", got, expected)


def _decimals(line):
    try:
        return [Decimal(token) for token in line.split()]
    except Exception:
        return None


def _lines(text):
    return [line.strip() for line in text.strip().split("\n")]


def _run_stdio(method, data):
    # LCB stacks these as decorators, which mock enters bottom-up: read/readlines/readline are patched on the
    # stdin the program saw at compile time (what `from sys import stdin` bound), then sys.stdin is replaced.
    lines = iter(data.split("\n"))
    with patch("sys.stdin.read", lambda *a: data), patch("sys.stdin.readlines", lambda *a: data.split("\n")), \
            patch("sys.stdin.readline", lambda *a: next(lines)), patch("sys.stdin", io.StringIO(data)), \
            patch("builtins.open", mock_open(read_data=data)):
        try:
            method()
        except SystemExit:
            pass


def _stdio(code, tests, timeout):
    module = _compile(_make_function(_clean_if_name(code)), timeout)
    method = getattr(module, "wrapped_function", None)
    if method is None:
        raise AssertionError("the code could not be wrapped into a function")
    for i, (data, expected) in enumerate(zip(tests["inputs"], tests["outputs"])):
        data = "\n".join(data) if isinstance(data, list) else data
        captured, saved = io.StringIO(), sys.stdout
        signal.alarm(timeout)
        sys.stdout = captured
        try:
            _run_stdio(method, data)
            signal.alarm(0)
        except TestTimeout:
            _fail(i, "Time Limit Exceeded")
        except Exception as exc:
            _fail(i, f"Runtime Error ({type(exc).__name__}: {_short(exc)})")
        finally:
            signal.alarm(0)
            sys.stdout = saved
        got_lines, expected_lines = _lines(captured.getvalue()), _lines(expected)
        if len(got_lines) != len(expected_lines):
            _fail(i, "Wrong answer: mismatched output length", captured.getvalue(), expected)
        for got, want in zip(got_lines, expected_lines):
            if got == want:
                continue
            got_numbers, want_numbers = _decimals(got), _decimals(want)
            if got_numbers is None or want_numbers is None or got_numbers != want_numbers:
                _fail(i, "Wrong Answer", got, want)


def main(code, tests, timeout):
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(50000)
    builtins.exit = sys.exit  # LCB's guard keeps exit() (the sandbox's removes it); quit() stays removed
    signal.signal(signal.SIGALRM, _alarm)
    (_call_based if tests.get("fn_name") else _stdio)(code, tests, timeout)
