"""Prompt log-probabilities of the `hf` backend, for `/v1/completions` with `echo: true` in `gage serve`.

The reply has vLLM's shape (see backends/openai_logprobs.py, which reads it): one entry per prompt token
with its text, its logprob (None for the first token, which nothing predicts), its top alternatives and its
character offset, then the greedy next token when max_tokens is 1. The prompt is tokenized exactly as the
hf backend's scoring tokenizes context + continuation (HFRuntime.encode_kwargs: BOS rules included), and
the forward pass is the same right-padded, mask-free one as HFRuntime.score, so a client that sums the
continuation's tokens gets the in-process backend's log-likelihood.
Runs in the backend's worker thread, like everything that touches the model.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gage_eval.errors import BackendError


@dataclass
class EchoTokens:
    ids: list[int]
    texts: list[str]  # consecutive slices of the prompt (special tokens such as BOS are '')
    offsets: list[int]


@dataclass
class EchoResult:
    prompt: EchoTokens
    logprobs: list[float | None]
    tops: list[dict[str, float] | None]
    generated: list[tuple[str, float, dict[str, float]]] = field(default_factory=list)  # (text, logprob, top)

    def as_openai(self, prompt_text: str) -> dict[str, Any]:
        p = self.prompt
        tokens, values, tops, offsets = list(p.texts), list(self.logprobs), list(self.tops), list(p.offsets)
        for text, value, top in self.generated:
            tokens.append(text)
            values.append(value)
            tops.append(top)
            offsets.append(len(prompt_text))
        return {"tokens": tokens, "token_logprobs": values, "top_logprobs": tops, "text_offset": offsets}


def encode_with_offsets(rt: Any, text: str) -> EchoTokens:
    if not getattr(rt.tok, "is_fast", False):
        raise BackendError("echo with logprobs needs a fast (Rust) tokenizer to map tokens to characters",
                           retryable=False)
    enc = rt.tok(text, return_offsets_mapping=True, **rt.encode_kwargs(text))
    ids, texts, offsets = list(enc["input_ids"]), [], []
    end = 0
    for start, stop in enc["offset_mapping"]:
        begin = max(int(start), end)  # byte-level pieces of one character share its span: give it once
        stop = max(int(stop), begin)
        texts.append(text[begin:stop])
        offsets.append(begin)
        end = stop
    if not ids:
        raise BackendError("the prompt encodes to no tokens; nothing to score", retryable=False)
    return EchoTokens(ids, texts, offsets)


def _text(rt: Any, token_id: int) -> str:
    cache: dict[int, str] = rt.__dict__.setdefault("_echo_token_texts", {})  # vocabularies are small enough
    if token_id not in cache:
        cache[token_id] = rt.tok.decode([token_id])
    return cache[token_id]


def _tops(rt: Any, logp: Any, k: int, own: list[tuple[int, str, float]]) -> list[dict[str, float]]:
    """Per position: the top-k alternatives {token text: logprob}, plus the position's own token. One topk for
    all positions; a token is decoded only when it is not the position's own token (usually greedy ones are)."""
    values, ids = (t.tolist() for t in rt.torch.topk(logp, k, dim=-1))
    out = []
    for row_values, row_ids, (own_id, own_text, own_value) in zip(values, ids, own):
        top: dict[str, float] = {}
        for value, tid in zip(row_values, row_ids):
            key = own_text if tid == own_id else _text(rt, tid)
            top[key] = max(top.get(key, float("-inf")), float(value))
        if own_id >= 0:
            top.setdefault(own_text, own_value)
        out.append(top)
    return out


def score_prompts(rt: Any, jobs: list[tuple[EchoTokens, int, int]]) -> list[EchoResult]:
    """(tokens, top-k, max_tokens 0 or 1) per prompt -> its EchoResult; one forward pass for the batch."""
    torch = rt.torch
    for tokens, _, _ in jobs:
        if len(tokens.ids) > rt.max_length:
            raise BackendError(f"the prompt has {len(tokens.ids)} tokens, more than the model's max_length "
                               f"({rt.max_length})", retryable=False)
    results = []
    with torch.inference_mode():  # no autograd bookkeeping at all: ~4% faster than no_grad
        logits = rt.forward_right_padded([tokens.ids for tokens, _, _ in jobs])  # as HFRuntime.score
        for row, (tokens, k, max_tokens) in enumerate(jobs):
            n = len(tokens.ids)
            logp = torch.log_softmax(logits[row, :n], dim=-1, dtype=torch.float32)
            target = torch.tensor(tokens.ids[1:], dtype=torch.long, device=logp.device)
            picked = torch.gather(logp[:-1], 1, target.unsqueeze(-1)).squeeze(-1).tolist() if n > 1 else []
            values: list[float | None] = [None, *picked]
            tops: list[dict[str, float] | None] = [None]
            tops += _tops(rt, logp[:-1], k, [(tokens.ids[i], tokens.texts[i], picked[i - 1]) for i in range(1, n)])
            generated = []
            if max_tokens >= 1:
                next_id = int(logp[n - 1].argmax())
                text = _text(rt, next_id)
                top = _tops(rt, logp[n - 1:], k, [(next_id, text, float(logp[n - 1, next_id]))])[0]
                generated.append((text, float(logp[n - 1, next_id]), top))
            results.append(EchoResult(tokens, values, tops, generated))
    return results
