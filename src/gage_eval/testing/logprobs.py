"""Prompt log-probabilities for the test server's `/completions` replies to `echo: true`, shaped as vLLM's.

vLLM answers `echo: true, logprobs: k, max_tokens: m` on /v1/completions with `text` = prompt + generated
text and one logprobs entry per prompt token followed by one per generated token: `tokens` (each token's
text), `token_logprobs` (None for the first prompt token, which nothing predicts), `top_logprobs` (None
there too; otherwise {token text: logprob} holding the token itself and the top-k) and `text_offset`
(running sum of the token texts' lengths, from 0).

The "tokenizer" here is a regex: a token is a run of whitespace followed by a run of non-whitespace, so a
leading space belongs to the next word as in BPE (" Paris"), and trailing whitespace is a token of its own.
Every character belongs to exactly one token, so the tokens join back to the prompt. A token's logprob is a
deterministic function of (text before it, token), scriptable with `token_logprob(prefix, token)`; each
position also offers one alternative token, ALT_TOKEN, whose logprob is `alt_logprob(prefix)`, so a token is
the greedy (arg-max) choice exactly when its logprob is >= the alternative's.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

TOKEN_PATTERN = re.compile(r"\s*\S+|\s+")
ALT_TOKEN = " <alt>"

TokenLogprob = Callable[[str, str], float]
AltLogprob = Callable[[str], float]


def tokenize(text: str) -> list[str]:
    return TOKEN_PATTERN.findall(text)


def _unit(*parts: str) -> float:
    """A stable number in [0, 1) from strings (Python's hash() is salted per process)."""
    digest = hashlib.blake2b("\x00".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def hashed_token_logprob(prefix: str, token: str) -> float:
    return -0.05 - 4.0 * _unit("token", prefix, token)


def hashed_alt_logprob(prefix: str) -> float:
    return -0.05 - 4.0 * _unit("alt", prefix)


def echo_logprobs(prompt: str, generated: list[str], token_logprob: TokenLogprob | None = None,
                  alt_logprob: AltLogprob | None = None) -> dict[str, Any]:
    """The `choices[i].logprobs` object for an echoed prompt followed by `generated` token texts."""
    token_lp = token_logprob or hashed_token_logprob
    alt_lp = alt_logprob or hashed_alt_logprob
    out: dict[str, list[Any]] = {"tokens": [], "token_logprobs": [], "top_logprobs": [], "text_offset": []}
    text = prompt + "".join(generated)
    offset = 0
    for i, token in enumerate(tokenize(prompt) + generated):
        prefix = text[:offset]
        if i == 0:
            value, top = None, None
        else:
            value = float(token_lp(prefix, token))
            top = {token: value, ALT_TOKEN: float(alt_lp(prefix))} if token != ALT_TOKEN else {token: value}
        out["tokens"].append(token)
        out["token_logprobs"].append(value)
        out["top_logprobs"].append(top)
        out["text_offset"].append(offset)
        offset += len(token)
    return out

