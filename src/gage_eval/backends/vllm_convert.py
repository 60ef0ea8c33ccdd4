"""Pure conversions between gage requests and vLLM's data: no vLLM import, so they are tested without it.

Scoring follows lm-evaluation-harness' vLLM model (lm_eval/models/vllm_causallms.py) step by step:
`_loglikelihood_tokens` truncates context + continuation from the left to `max_length - 1` tokens (vLLM must
generate at least one token) and asks for `prompt_logprobs=1, max_tokens=1, temperature=0`; `_parse_logprobs`
sums the continuation tokens' prompt logprobs and calls the continuation greedy when every one of its tokens
is the most likely token at its position.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gage_eval.errors import BackendError

# Request params that map one to one onto vLLM SamplingParams fields of the same name.
_FLOAT_PARAMS = ("top_p", "min_p", "repetition_penalty", "presence_penalty", "frequency_penalty")
SCORING_PARAMS: dict[str, Any] = {"temperature": 0.0, "prompt_logprobs": 1, "max_tokens": 1, "detokenize": False}


def sampling_kwargs(params: Mapping[str, Any], defaults: Mapping[str, Any],
                    max_new_tokens: int) -> tuple[dict[str, Any], int]:
    """(keyword arguments for vllm.SamplingParams, how many copies of each output the caller wants).

    Greedy requests with n > 1 are asked once and copied n times, as the hf backend does: greedy decoding
    gives n identical answers, and vLLM would spend n times the compute on them.
    """
    merged = {**defaults, **{k: v for k, v in params.items() if v is not None}}
    try:
        max_tokens = int(params.get("max_new_tokens") or params.get("max_tokens") or merged.get("max_new_tokens")
                         or merged.get("max_tokens") or max_new_tokens)
        temperature = float(merged.get("temperature") or 0.0)
        n = max(1, int(merged.get("n") or 1))
        kwargs: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature}
        for name in _FLOAT_PARAMS:
            if merged.get(name) is not None:
                kwargs[name] = float(merged[name])
        if merged.get("top_k") is not None:
            kwargs["top_k"] = int(merged["top_k"])
        if merged.get("seed") is not None:
            kwargs["seed"] = int(merged["seed"])
        stop = merged.get("stop") or ()
        stop = [stop] if isinstance(stop, str) else [str(s) for s in stop if s]
        if stop:
            kwargs["stop"] = stop
        if merged.get("logprobs"):
            top = merged.get("top_logprobs")  # OpenAI style (logprobs: true, top_logprobs: k) or vLLM's k
            if top is None:
                top = 0 if merged["logprobs"] is True else merged["logprobs"]
            kwargs["logprobs"] = int(top)
    except (TypeError, ValueError) as exc:
        raise BackendError(f"vllm backend: invalid generation parameter: {exc}", retryable=False) from None
    if max_tokens < 1:
        raise BackendError(f"vllm backend: max_tokens must be at least 1, got {max_tokens}", retryable=False)
    if temperature > 0:
        kwargs["n"] = n
        return kwargs, 1
    return kwargs, n


def scoring_input(ctx: Sequence[int], cont: Sequence[int], max_length: int) -> tuple[list[int], int]:
    """(prompt token ids, context length within them): lm-eval's left truncation to max_length - 1."""
    max_ctx_len = max_length - 1
    inp = list(ctx) + list(cont)
    inp = inp[-max_ctx_len:]
    ctxlen = len(ctx) - max(0, len(ctx) + len(cont) - max_ctx_len)
    return inp, ctxlen


def logprob_value(entry: Any) -> float:
    """vLLM's Logprob object, or a plain float (older vLLM and JSON dumps)."""
    return float(getattr(entry, "logprob", entry))


def parse_prompt_logprobs(tokens: Sequence[int], prompt_logprobs: Sequence[Mapping[int, Any] | None],
                          ctxlen: int) -> tuple[float, bool]:
    """lm-eval VLLM._parse_logprobs: (sum of the continuation's logprobs, whether each is the top token)."""
    if len(prompt_logprobs) != len(tokens):
        raise BackendError(f"vllm returned {len(prompt_logprobs)} prompt logprobs for {len(tokens)} prompt tokens")
    total, greedy = 0.0, True
    for token, entry in zip(tokens[ctxlen:], prompt_logprobs[ctxlen:]):
        if entry is None:  # only the first position has none, and ctxlen >= 1 skips it
            raise BackendError("vllm returned no logprob for a continuation token")
        values = {int(t): logprob_value(lp) for t, lp in entry.items()}
        if token not in values:
            raise BackendError(f"vllm's prompt logprobs lack the prompt token {token}")
        total += values[token]
        if greedy and max(values, key=values.__getitem__) != token:
            greedy = False
    return total, greedy
