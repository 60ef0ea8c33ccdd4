"""`sglang`: an SGLang server through its native `POST /generate` (not its OpenAI-compatible /v1 routes).

Generation sends `{"text", "sampling_params": {max_new_tokens, temperature, top_p, stop, n, ...}}`; SGLang
trims stop strings itself, and `finish_reason` is an object (`{"type": "length" | "stop", ...}`). With
`stream: true` the route streams `data:` events whose `text` is the whole text so far (SGLang's default;
`--incremental-streaming-output` servers are not supported), ended by `data: [DONE]`.

Log-likelihood: one request per question, the context and its continuations batched as a list of texts
`[context.rstrip(), context + c, ...]`, with `return_logprob: true, logprob_start_len: 0, top_logprobs_num: 1,
return_text_in_logprobs: true` and `max_new_tokens: 0` (SGLang accepts 0, >= 0 is its check, and its own
frontend's `select` scores choices that way: no token is generated). `meta_info.input_token_logprobs` holds
`[logprob, token_id, token_text]` per prompt token (None for the first). Which tokens are the continuation's:
those after the context's token count, as lm-eval's `_encode_pair` (and so its sglang model) splits them —
not by character position as openai_http does, because SGLang decodes each token on its own
(`tokenizer.batch_decode(ids)`) and a SentencePiece token then loses its leading space, so the token texts
do not add up to the prompt for Llama-family models. The context's count comes free from the same batch
(SGLang's radix cache shares the prefix). Where a BPE merge swallows the boundary (the whole has no more
tokens than the context) character positions decide. is_greedy: each token's logprob against the best of
`input_top_logprobs` at its position.
"""
from __future__ import annotations

import time
from typing import Any

from gage_eval.backends.base import GenerationRequest, GenerationResponse
from gage_eval.backends.native_http import NativeHTTPBackend, cut_at_stop, prompt_text, stop_list
from gage_eval.backends.openai_logprobs import PromptTokens, boundary, needs_request, score_after_context
from gage_eval.registry import registry

_RENAMED = {"max_tokens": "max_new_tokens", "max_completion_tokens": "max_new_tokens"}
# Not sampling parameters; `seed` is not one in SGLang releases before `sampling_seed` (an unknown key is a 400),
# and the response cache keys on it anyway (ask-until-parsed varies it to get a fresh answer).
_NOT_SAMPLING = {"logprobs", "top_logprobs", "seed"}


def _finish(meta: dict[str, Any]) -> str | None:
    reason = meta.get("finish_reason")
    kind = reason.get("type") if isinstance(reason, dict) else reason
    return "length" if kind == "length" else "stop" if kind else None


@registry.asset("backends", "sglang", desc="SGLang server, native /generate API: generation, streaming, "
                "log-likelihoods", tags=("http", "remote"))
class SGLangBackend(NativeHTTPBackend):
    type_name = "sglang"
    api_name = "SGLang"
    capabilities = frozenset({"generate", "loglikelihood", "stream"})

    def _body(self, request: GenerationRequest) -> dict[str, Any]:
        params = {**self.s.generation, **{k: v for k, v in request.params.items() if v is not None}}
        sampling = {_RENAMED.get(k, k): v for k, v in params.items() if k not in _NOT_SAMPLING}
        body: dict[str, Any] = {"text": prompt_text(request), "sampling_params": sampling}
        if params.get("logprobs"):
            body.update(return_logprob=True, top_logprobs_num=int(params.get("top_logprobs") or 1),
                        return_text_in_logprobs=True)
        return body

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        start = time.perf_counter()
        body = self._body(request)
        stops = stop_list(body["sampling_params"])
        if self.s.stream and int(body["sampling_params"].get("n") or 1) == 1:
            last: dict[str, Any] = {}
            async for event in self.events("/generate", {**body, "stream": True}, done_marker=True):
                last = event  # cumulative: the last event holds the whole text and the final meta_info
            replies = [last]
            url = f"{self.root}/generate"
        else:
            data, url = await self.post("/generate", body)
            replies = data if isinstance(data, list) else [data]
        if not replies or not all(isinstance(r, dict) and isinstance(r.get("text"), str) for r in replies):
            raise self.malformed(url, "no text")
        texts = [cut_at_stop(r["text"], stops) for r in replies]
        meta = replies[0].get("meta_info") or {}
        usage = {"prompt_tokens": int(meta.get("prompt_tokens") or 0),
                 "completion_tokens": sum(int((r.get("meta_info") or {}).get("completion_tokens") or 0)
                                          for r in replies)}
        return GenerationResponse(text=texts[0], texts=texts, usage=usage, finish_reason=_finish(meta),
                                  logprobs=meta.get("output_token_logprobs"),
                                  latency_ms=(time.perf_counter() - start) * 1000)

    async def loglikelihood(self, context: str, continuations: list[str]) -> list[tuple[float, bool]]:
        scored = [c for c in continuations if needs_request(context, c)]
        results: dict[str, tuple[float, bool]] = {}
        if scored:
            # context.rstrip() rides in the same batch (prefix-cached) to count its tokens: see the module doc.
            head = context[: boundary(context)]
            texts = ([head] if head else []) + [context + c for c in scored]
            body = {"text": texts, "sampling_params": {"max_new_tokens": 0, "temperature": 0},
                    "return_logprob": True, "logprob_start_len": 0, "top_logprobs_num": 1,
                    "return_text_in_logprobs": True}
            data, url = await self.post("/generate", body)
            if not isinstance(data, list) or len(data) != len(texts):
                raise self.malformed(url, f"a batch of {len(texts)} texts was not answered with a list of "
                                     f"{len(texts)} replies")
            n_context = len(self._prompt_tokens(data[0], url).texts) if head else 0
            for continuation, reply in zip(scored, data[len(texts) - len(scored):]):
                results[continuation] = score_after_context(
                    self._prompt_tokens(reply, url), n_context, context, continuation, self.scoring_stats,
                    lambda problem: self.malformed(url, problem), url)
        return [results.get(c, (0.0, True)) for c in continuations]

    def _prompt_tokens(self, reply: Any, url: str) -> PromptTokens:
        meta = reply.get("meta_info") if isinstance(reply, dict) else None
        rows = meta.get("input_token_logprobs") if isinstance(meta, dict) else None
        if not isinstance(rows, list) or not rows or not all(isinstance(r, list) and len(r) >= 3 for r in rows):
            raise self.malformed(url, "meta_info.input_token_logprobs is missing (the server must honour "
                                 "return_logprob with logprob_start_len: 0)")
        tops = meta.get("input_top_logprobs") or [None] * len(rows)
        greedy: list[bool | None] = []
        for row, top in zip(rows, tops):
            best = max((float(t[0]) for t in top or [] if t and t[0] is not None), default=None)
            greedy.append(None if best is None or row[0] is None else float(row[0]) >= best)
        return PromptTokens.from_texts([str(r[2] or "") for r in rows], [r[0] for r in rows], greedy)
