"""One move out of a model's free-text answer.

In order: reasoning blocks (<think>...</think>) and code fences are dropped; an explicit marker wins (the last
`Move: X`, `{"move": "X"}`, `\\boxed{X}` or `Answer: X`); else an answer that is a single move; else the one
distinct move-like token in the text. Several different move-like tokens without a marker are refused rather
than guessed. Legality is the environment's business, checked after parsing.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from gage_eval.games.env import GameEnv

Parser = Callable[[str, GameEnv], "ParseResult"]

_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)
_FENCE = re.compile(r"```[a-zA-Z]*")
_MARKERS = (
    re.compile(r"\"move\"\s*:\s*\"([^\"]{1,12})\"", re.I),
    re.compile(r"\\boxed\{\s*([^{}]{1,12}?)\s*\}"),
    re.compile(r"\b(?:final\s+)?(?:move|answer|action)\s*(?:is)?\s*[:=]?\s*\**\s*[`'\"]?([A-Za-z0-9+#=\-]{1,8})", re.I),
)
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9+#=\-]{0,7}")
_TRIM = " \t\r\n.,;:!?*`'\"()[]"


class ParseResult:
    __slots__ = ("move", "error")

    def __init__(self, move: str | None, error: str | None = None) -> None:
        self.move, self.error = move, error


def _clean(text: str) -> str:
    text = _THINK.sub(" ", text)
    if "<think>" in text.lower():  # an unclosed reasoning block: only what follows it could be the answer
        text = text[text.lower().rindex("<think>") + 7:]
    return _FENCE.sub(" ", text)


def default_parser(text: str, env: GameEnv) -> ParseResult:
    body = _clean(text or "")
    for pattern in _MARKERS:
        found = [m.group(1).strip(_TRIM) for m in pattern.finditer(body)]
        found = [f for f in found if env.normalize(f) is not None]
        if found:
            return ParseResult(env.normalize(found[-1]))
    whole = body.strip(_TRIM)
    if whole and env.normalize(whole) is not None:
        return ParseResult(env.normalize(whole))
    candidates = list(dict.fromkeys(m for t in _TOKEN.findall(body) if (m := env.normalize(t.strip(_TRIM)))))
    if len(candidates) == 1:
        return ParseResult(candidates[0])
    if not candidates:
        return ParseResult(None, f"no move found in the answer; write it as {env.move_syntax}")
    shown = ", ".join(candidates[:5])
    return ParseResult(None, f"the answer names several moves ({shown}); give exactly one, as 'Move: <move>'")


def build_parser(impl: str, where: str) -> Parser:
    if impl == "default":
        return default_parser
    from gage_eval.errors import ConfigError
    from gage_eval.registry import import_object

    if ":" not in impl:
        raise ConfigError(f"unknown parser '{impl}'", path=f"{where}.impl",
                          fix="use default, or 'package.module:function' taking (text, env) and returning the move")
    func = import_object(impl, f"{where}.impl")

    def plugin(text: str, env: GameEnv) -> ParseResult:
        out = func(text, env)
        if isinstance(out, ParseResult):
            return out
        move = env.normalize(str(out)) if out else None
        return ParseResult(move, None if move else f"no move found in the answer; write it as {env.move_syntax}")
    return plugin
