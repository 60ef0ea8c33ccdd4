"""A math-verify worker process: one JSON request per stdin line, one JSON answer per stdout line.

Started by `verify_pool` as ``python -P <this file>`` (a script, so the child imports only math_verify, not
gage_eval). It runs math_verify in its own main thread, so math_verify's SIGALRM timeouts work exactly as
when math_verify is called directly — results are identical to the reference calls — and the parent can
kill the whole process if a computation still runs past its deadline.

Request:  {"gold": str, "pred": str, "gold_extraction": [..], "pred_extraction": [..],
           "parsing_timeout": int|null, "timeout_seconds": int|null, "float_rounding": int,
           "numeric_precision": int, "strict": bool}   (extraction names: "latex", "expr")
Answer:   {"correct": bool, "gold": [str], "pred": [str], "warnings": [str]} or {"error": str}
"""
from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any


class _Collect(logging.Handler):
    """math_verify reports timeouts and parse failures only through logging: keep them for the answer."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage()[:200])


def _configs(names: list[str]) -> list[Any]:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig

    known = {"latex": LatexExtractionConfig, "expr": ExprExtractionConfig}
    return [known[n]() for n in names]


def answer(request: dict[str, Any], collect: _Collect) -> dict[str, Any]:
    from math_verify import parse, verify

    collect.messages.clear()
    gold = parse(request["gold"], _configs(request["gold_extraction"]), parsing_timeout=request["parsing_timeout"])
    pred = parse(request["pred"], _configs(request["pred_extraction"]), parsing_timeout=request["parsing_timeout"])
    correct = bool(verify(gold, pred, float_rounding=request["float_rounding"],
                          numeric_precision=request["numeric_precision"], strict=request["strict"],
                          timeout_seconds=request["timeout_seconds"])) if gold and pred else False
    return {"correct": correct, "gold": [str(x) for x in gold], "pred": [str(x) for x in pred],
            "warnings": list(collect.messages)}


def main() -> None:
    # The protocol owns the real stdout; anything a library prints goes to stderr instead.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr
    collect = _Collect()
    logging.getLogger("math_verify").addHandler(collect)
    logging.getLogger("math_verify").propagate = False
    for line in sys.stdin:
        try:
            reply = answer(json.loads(line), collect)
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which scores the sample 0
            reply = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
