"""`tgi`: a Hugging Face text-generation-inference server through its native `/generate` API.

Generation sends `{"inputs", "parameters": {max_new_tokens, stop, temperature, top_p, do_sample, seed,
details: true}}` to `/generate` (or `/generate_stream` with `stream: true`, `data:` events with one token
each and `generated_text` in the last). TGI's router refuses what OpenAI servers accept: temperature 0
(greedy is `do_sample: false`, no temperature), top_p of 1 (dropped: it means no top-p), max_new_tokens of
0. It keeps the matched stop sequence in `generated_text`; it is cut here, as OpenAI-compatible servers do.
n > 1 is sent as n requests (TGI's best_of returns one text).

Log-likelihood: one request per continuation with `inputs` = context + continuation, and one with the context
alone (`context.rstrip()`), all concurrent, each with `max_new_tokens: 1` (TGI requires >= 1; the generated
token is not in `prefill` and is ignored), `details: true, decoder_input_details: true`; `details.prefill`
lists the prompt's tokens `{id, text, logprob}` (None for the first). The continuation's tokens are those
after the context's token count, as lm-eval's `_encode_pair` splits them (see backends/sglang.py for why not
character positions: TGI too decodes each prefill token on its own). is_greedy cannot be known: TGI returns
no alternatives for prefill tokens (`top_n_tokens` covers generated tokens only), so it is reported False and
each such token tallied in `scoring_stats["greedy_unknown_tokens"]`.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

from gage_eval.backends.base import GenerationRequest, GenerationResponse
from gage_eval.backends.native_http import (
    NativeHTTPBackend,
    cut_at_stop,
    prompt_text,
    stop_list,
)
from gage_eval.backends.openai_logprobs import PromptTokens, boundary, needs_request, score_after_context
from gage_eval.backends.sse import truncated_stream
from gage_eval.registry import registry

_RENAMED = {"max_tokens": "max_new_tokens", "max_completion_tokens": "max_new_tokens",
            "logprobs": "details", "top_logprobs": "top_n_tokens"}
_DROPPED = {"n", "presence_penalty"}  # no TGI equivalent (frequency_penalty exists)


def tgi_parameters(params: dict[str, Any]) -> dict[str, Any]:
    out = {_RENAMED.get(k, k): v for k, v in params.items() if v is not None and k not in _DROPPED}
    temperature = out.get("temperature")
    if temperature is not None and temperature <= 0:
        out.pop("temperature")
        out["do_sample"] = False
    elif temperature is not None:
        out.setdefault("do_sample", True)
    if out.get("top_p") is not None and out["top_p"] >= 1:
        out.pop("top_p")
    if isinstance(out.get("stop"), str):
        out["stop"] = [out["stop"]]
    out["max_new_tokens"] = max(1, int(out.get("max_new_tokens") or 256))
    out["details"] = True
    return out


@registry.asset("backends", "tgi", desc="Hugging Face text-generation-inference, native /generate API: generation, "
                "streaming, log-likelihoods", tags=("http", "remote"))
class TGIBackend(NativeHTTPBackend):
    type_name = "tgi"
    api_name = "TGI"
    capabilities = frozenset({"generate", "loglikelihood", "stream"})

    async def _one(self, inputs: str, parameters: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """(generated_text, details) of one request."""
        body = {"inputs": inputs, "parameters": parameters}
        if self.s.stream:
            url, text, details = f"{self.root}/generate_stream", None, {}
            async for event in self.events("/generate_stream", body):
                text = event.get("generated_text") if event.get("generated_text") is not None else text
                details = event.get("details") or details
            if text is None:  # TGI's last event carries generated_text: without it the stream was cut short
                raise truncated_stream(url)
            return text, details
        data, url = await self.post("/generate", body)
        if isinstance(data, list) and len(data) == 1:  # TGI's compat route `/` answers a list of one
            data = data[0]
        if not isinstance(data, dict) or not isinstance(data.get("generated_text"), str):
            raise self.malformed(url, "no generated_text")
        return data["generated_text"], data.get("details") or {}

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        start = time.perf_counter()
        params = {**self.s.generation, **request.params}
        parameters = tgi_parameters(params)
        stops = stop_list(parameters)
        n = int(params.get("n") or 1)
        replies = await asyncio.gather(*(self._one(prompt_text(request), parameters) for _ in range(n)))
        texts = [cut_at_stop(text, stops) for text, _ in replies]
        details = replies[0][1]
        reason = details.get("finish_reason")
        usage = {"prompt_tokens": len(details.get("prefill") or []),
                 "completion_tokens": sum(int(d.get("generated_tokens") or 0) for _, d in replies)}
        return GenerationResponse(text=texts[0], texts=texts, usage=usage,
                                  finish_reason="length" if reason == "length" else "stop" if reason else None,
                                  logprobs=details.get("tokens") if params.get("logprobs") else None,
                                  latency_ms=(time.perf_counter() - start) * 1000)

    async def loglikelihood(self, context: str, continuations: list[str]) -> list[tuple[float, bool]]:
        head = context[: boundary(context)]
        scored = [c for c in continuations if needs_request(context, c)]
        if not scored:
            return [(0.0, True)] * len(continuations)
        # The context alone is sent too, concurrently, to count its tokens: see the module docstring.
        prompts = await asyncio.gather(*(self._prefill(text) for text in [head] * bool(head) +
                                         [context + c for c in scored]))
        n_context = len(prompts[0][0].texts) if head else 0
        results = {c: score_after_context(tokens, n_context, context, c, self.scoring_stats,
                                          lambda problem, url=url: self.malformed(url, problem), url)
                   for c, (tokens, url) in zip(scored, prompts[len(prompts) - len(scored):])}
        return [results.get(c, (0.0, True)) for c in continuations]

    async def _prefill(self, inputs: str) -> tuple[PromptTokens, str]:
        body = {"inputs": inputs, "parameters": {"max_new_tokens": 1, "do_sample": False, "details": True,
                                                 "decoder_input_details": True}}
        data, url = await self.post("/generate", body)
        prefill = ((data.get("details") or {}).get("prefill")) if isinstance(data, dict) else None
        if not isinstance(prefill, list) or not prefill or not all(isinstance(t, dict) for t in prefill):
            raise self.malformed(url, "details.prefill is missing (the server must honour decoder_input_details: true)")
        return PromptTokens.from_texts([str(t.get("text") or "") for t in prefill], [t.get("logprob") for t in prefill],
                                       [None] * len(prefill)), url
