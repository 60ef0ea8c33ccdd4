"""Log-likelihood of a continuation from an OpenAI-compatible `/completions` endpoint that echoes prompts.

This is how lm-eval's `local-completions` model scores base models served by vLLM: one request per
(context, continuation) with prompt = context + continuation, `echo: true` (the reply's logprobs cover the
prompt's tokens too), `logprobs: 1` (the sampled token's logprob plus the top-1, for is_greedy) and
`temperature: 0`. `max_tokens` is 1, as lm-eval sends: the OpenAI legacy API and old vLLM accepted 0 with
echo, but vLLM's SamplingParams requires max_tokens >= 1 (0 crashed or was refused, vLLM issues #6521 and
#9336). The one generated token costs one decode step and is dropped from the score.

Which tokens are the continuation's. lm-eval tokenizes client side (a Hugging Face tokenizer, or the server's
/tokenize): it encodes context + continuation whole, takes the continuation's tokens as those after the
first len(encode(context)) ones, and sends token ids. This module needs no tokenizer: the server tokenizes
the text, and the continuation's tokens are found by character position from `text_offset`. A token that
ends after the context is the continuation's, so a token that straddles the boundary (a BPE merge across
it) counts with the continuation and is tallied in `stats["straddling_tokens"]`; lm-eval would assign such
a token by token count instead. As lm-eval's `_encode_pair` does, the context's trailing whitespace is
moved to the continuation: the boundary is the end of `context.rstrip()`, so "Answer: " + "Paris" scores
the " Paris" token exactly as "Answer:" + " Paris" does.

Offsets are matched from the end of the prompt, not from its start: a server may echo tokens that are not
in the prompt string (vLLM echoes Llama's BOS as "<s>", shifting every text_offset by 3), and the
continuation sits at the end. A reply whose echoed tokens do not reach back over the whole continuation
(no echo at all, as servers that return the generated token's logprobs only) is an error, never a silent 0.
"""
from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gage_eval.errors import BackendError, MalformedReply

_FIELDS = ("tokens", "token_logprobs", "top_logprobs", "text_offset")


def scoring_body(model: str, prompt: str) -> dict[str, Any]:
    return {"model": model, "prompt": prompt, "echo": True, "logprobs": 1, "max_tokens": 1, "temperature": 0}


def boundary(context: str) -> int:
    """Where the continuation starts in context + continuation (the context's trailing whitespace moves over)."""
    return len(context.rstrip())


def needs_request(context: str, continuation: str) -> bool:
    """An empty continuation after a context without trailing whitespace has no tokens: (0.0, True)."""
    return len(context) + len(continuation) > boundary(context)


def _fail(url: str, problem: str) -> BackendError:
    return MalformedReply(f"{url} cannot be used for loglikelihood scoring: {problem}. The endpoint must answer "
                          "/completions requests with echo=true and logprobs=1 with the prompt tokens' logprobs "
                          "(vLLM does)", retryable=False, status=200)


def score_reply(data: Any, context: str, continuation: str, url: str, stats: Counter[str]) -> tuple[float, bool]:
    """(sum of the continuation tokens' logprobs, whether each of them was the arg-max) from a reply body."""
    try:
        choice = data["choices"][0]
    except (KeyError, IndexError, TypeError):
        raise _fail(url, "the reply has no choices[0]") from None
    logprobs = choice.get("logprobs") if isinstance(choice, dict) else None
    if not isinstance(logprobs, dict):
        raise _fail(url, "the reply has no choices[0].logprobs")
    for name in _FIELDS:
        if not isinstance(logprobs.get(name), list):
            raise _fail(url, f"the reply has no choices[0].logprobs.{name}")
    tokens, values, tops, offsets = (logprobs[name] for name in _FIELDS)
    if not len(tokens) == len(values) == len(tops) == len(offsets):
        raise _fail(url, "choices[0].logprobs has lists of different lengths "
                    f"({', '.join(f'{n}: {len(logprobs[n])}' for n in _FIELDS)})")
    # The prompt's tokens come first, then the generated ones (1, as max_tokens is 1).
    generated = (data.get("usage") or {}).get("completion_tokens")
    n_prompt = len(tokens) - (generated if isinstance(generated, int) and 0 <= generated <= 1 else 1)
    if n_prompt <= 0:
        raise _fail(url, f"the reply's logprobs cover {len(tokens)} token(s), none of them the prompt's "
                    "(the server ignored echo=true)")
    # As lm-eval: greedy when the token's logprob is the highest offered (ties and equal texts included).
    greedy = [not (isinstance(top, dict) and top and value is not None and float(value) < max(
        float(v) for v in top.values())) for value, top in zip(values[:n_prompt], tops[:n_prompt])]
    return score_tokens(PromptTokens([str(t) for t in tokens[:n_prompt]], values[:n_prompt],
                                     [int(o) for o in offsets[:n_prompt]], greedy),
                        context, continuation, stats, lambda problem: _fail(url, problem), url)


@dataclass
class PromptTokens:
    """A scored prompt's tokens: text, logprob (None for the first), character offset, and whether each was
    the arg-max at its position (None where the server does not say: TGI's prefill has no alternatives)."""

    texts: list[str]
    logprobs: list[float | None]
    offsets: list[int]
    greedy: list[bool | None]

    @classmethod
    def from_texts(cls, texts: list[str], logprobs: list[float | None], greedy: list[bool | None]) -> PromptTokens:
        """Offsets as the running sum of the token texts (native APIs return texts, not offsets)."""
        return cls(texts, logprobs, list(itertools.accumulate([0] + [len(t) for t in texts[:-1]])), greedy)


def score_tokens(prompt: PromptTokens, context: str, continuation: str, stats: Counter[str],
                 fail: Callable[[str], BackendError], where: str) -> tuple[float, bool]:
    """(sum of the continuation tokens' logprobs, all of them greedy) from the prompt context + continuation's
    tokens, assigned to the continuation by character position (see the module docstring); any server."""
    tokens, values, offsets = prompt.texts, prompt.logprobs, prompt.offsets
    if not tokens:
        raise fail("the reply has no prompt tokens")
    prompt_len = len(context) + len(continuation)
    # shift: how far the echoed text's end is from the prompt's end (a BOS token text, decoding quirks).
    shift = offsets[-1] + len(tokens[-1]) - prompt_len
    if shift:
        stats["offset_shifted_replies"] += 1
    start = boundary(context)
    if offsets[0] - shift > start:
        raise fail(f"the echoed prompt tokens cover only its last {prompt_len - offsets[0] + shift} "
                   f"of {prompt_len} characters, not the whole continuation")
    total, greedy = 0.0, True
    for i, token in enumerate(tokens):
        token_start = offsets[i] - shift
        token_end = token_start + len(token)
        if token_end <= start and token_start < start:
            continue  # a context token
        if token_start < start:
            stats["straddling_tokens"] += 1
        value = values[i]
        if value is None:
            raise BackendError(f"{where}: the continuation {continuation!r} starts at the prompt's first token, "
                               "which has no log-probability; score it after a non-empty context",
                               retryable=False, status=200)
        total += float(value)
        if prompt.greedy[i] is None:
            stats["greedy_unknown_tokens"] += 1
        greedy = greedy and bool(prompt.greedy[i])
    stats["scored_continuations"] += 1
    return total, greedy


def score_after_context(prompt: PromptTokens, n_context: int, context: str, continuation: str, stats: Counter[str],
                        fail: Callable[[str], BackendError], where: str) -> tuple[float, bool]:
    """As lm-eval's `_encode_pair`: the continuation's tokens are those of context + continuation after the
    first `n_context`, the token count of `context.rstrip()` alone (its trailing whitespace moves to the
    continuation). Needs no token texts, so it holds where servers decode each token on its own and a
    SentencePiece token loses its leading space ("▁Paris" -> "Paris", SGLang's and TGI's per-token texts
    for Llama tokenizers), which would shift character offsets. When the whole prompt has no more tokens
    than the context (a BPE merge swallowed the boundary), character positions decide instead."""
    if len(prompt.texts) <= n_context:
        stats["split_by_characters"] += 1
        return score_tokens(prompt, context, continuation, stats, fail, where)
    values = prompt.logprobs[n_context:]
    if any(v is None for v in values):
        raise BackendError(f"{where}: the continuation {continuation!r} starts at the prompt's first token, which "
                           "has no log-probability; score it after a non-empty context", retryable=False, status=200)
    greedy = prompt.greedy[n_context:]
    stats["greedy_unknown_tokens"] += sum(g is None for g in greedy)
    stats["scored_continuations"] += 1
    return sum(float(v) for v in values), all(bool(g) for g in greedy)  # type: ignore[arg-type]
