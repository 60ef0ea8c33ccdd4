"""lm-eval-exact tokenisation shared by the local backends (`hf`, `vllm`).

lm-evaluation-harness' HFLM and VLLM models tokenise the same way (lm_eval/api/model.py `_encode_pair`,
`TemplateLM.loglikelihood`, and each model's `tok_encode`): a local backend that scores differently from
lm-eval would report different accuracies, so both backends take their token ids from here.
Only needs a Hugging Face tokenizer object; torch is never imported.
"""
from __future__ import annotations

from typing import Any

from gage_eval.errors import BackendError


def message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content or [] if isinstance(p, dict) and p.get("type", "text") == "text")


def template_message(m: dict[str, Any]) -> dict[str, Any]:
    """A message for a Hugging Face chat template: text content, and tool-call arguments as objects (OpenAI
    sends them as JSON text; transformers' templates expect dicts), left as text when they do not parse."""
    out = {**m, "content": message_text(m.get("content"))}
    if m.get("tool_calls"):
        import json

        calls = []
        for c in m["tool_calls"]:
            fn = dict(c.get("function") or {})
            if isinstance(fn.get("arguments"), str):
                try:
                    fn["arguments"] = json.loads(fn["arguments"])
                except ValueError:
                    pass
            calls.append({**c, "function": fn})
        out["tool_calls"] = calls
    return out


class LMEncoder:
    """Token ids for scoring pairs and generation prompts, as lm-eval computes them."""

    def __init__(self, tok: Any, add_bos_token: bool | None = None, use_chat_template: bool | None = None) -> None:
        self.tok = tok
        self.add_bos_token = add_bos_token
        self.use_chat_template = use_chat_template
        # HFLM.prefix_token_id: the context used when the context string is empty.
        self.prefix_token_id: int | None = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        self._prefix_text = None if self.prefix_token_id is None else tok.decode(self.prefix_token_id)

    def tok_encode(self, string: str, add_special_tokens: bool | None = None) -> list[int]:
        """HFLM.tok_encode: explicit flag, else add_bos_token, else the tokenizer's default; never a second BOS."""
        return list(self.tok.encode(string, **self.encode_kwargs(string, add_special_tokens)))

    def encode_kwargs(self, string: str, add_special_tokens: bool | None = None) -> dict[str, bool]:
        """The tokenizer keyword arguments of tok_encode, for callers that need more than the ids (offsets)."""
        kwargs: dict[str, bool] = {}
        if add_special_tokens is not None:
            kwargs["add_special_tokens"] = add_special_tokens
        elif self.add_bos_token is not None:
            kwargs["add_special_tokens"] = self.add_bos_token
        if add_special_tokens is None and self._prefix_text is not None and string.startswith(self._prefix_text):
            kwargs["add_special_tokens"] = False
        return kwargs

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """LM.loglikelihood + LM._encode_pair for a causal model."""
        if context == "":
            cont = self.tok_encode(continuation, add_special_tokens=False)
            if not cont:
                raise BackendError("the continuation '' encodes to no tokens; nothing to score")
            if self.prefix_token_id is None:
                raise BackendError("the tokenizer has neither a BOS nor an EOS token to stand for an empty context")
            # The prefix token conditions the first continuation token, unless it already is that token.
            return ([self.prefix_token_id], cont) if self.prefix_token_id != cont[0] else (cont[:1], cont[1:])
        n_spaces = len(context) - len(context.rstrip())
        if n_spaces > 0:  # trailing spaces belong to the continuation: " word" is usually one token
            continuation = context[-n_spaces:] + continuation
            context = context[:-n_spaces]
        whole = self.tok_encode(context + continuation)
        ctx = self.tok_encode(context)
        return ctx, whole[len(ctx):]

    def applies_chat_template(self, prompt: str | None, messages: list[dict[str, Any]]) -> bool:
        """Messages go through the chat template when there is one and use_chat_template is not false;
        a plain prompt never does."""
        return (prompt is None and bool(messages) and self.use_chat_template is not False
                and bool(getattr(self.tok, "chat_template", None)))

    def chat_text(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> str:
        """HFLM.apply_chat_template: the template with the generation prompt; a template that rejects the
        system role is retried without system messages, as lm-eval does. `tools` (OpenAI format) are given
        to the template, as transformers' tool-use convention has it."""
        import jinja2

        plain = [template_message(m) for m in messages]
        extra = {"tools": tools} if tools else {}
        try:
            return str(self.tok.apply_chat_template(plain, tokenize=False, add_generation_prompt=True,
                                                    continue_final_message=False, **extra))
        except jinja2.exceptions.TemplateError:
            plain = [m for m in plain if m.get("role") != "system"]
            return str(self.tok.apply_chat_template(plain, tokenize=False, add_generation_prompt=True,
                                                    continue_final_message=False, **extra))

    def check_renders_tools(self, tools: list[dict[str, Any]]) -> None:
        """A chat template without tool support drops the definitions silently: say so instead."""
        probe = [{"role": "user", "content": "x"}]
        if tools and self.chat_text(probe, tools) == self.chat_text(probe):
            raise BackendError("the tokenizer's chat template does not render tool definitions (it ignores "
                               "`tools`), so the model would never see them; use a model whose template supports "
                               "tools, or give the toolchain tool_doc_format: prompt", retryable=False)

    def prompt_text(self, prompt: str | None, messages: list[dict[str, Any]],
                    tools: list[dict[str, Any]] | None = None) -> str:
        if prompt is not None:
            return prompt
        if self.applies_chat_template(prompt, messages):
            return self.chat_text(messages, tools)
        if tools:
            raise BackendError("tool definitions need the tokenizer's chat template, and "
                               + ("use_chat_template is false" if self.use_chat_template is False
                                  else "the tokenizer has none"), retryable=False)
        return "\n\n".join(message_text(m.get("content")) for m in messages)

    def prompt_ids(self, prompt: str | None, messages: list[dict[str, Any]],
                   tools: list[dict[str, Any]] | None = None) -> list[int]:
        return self.encode_prompt(self.prompt_text(prompt, messages, tools))

    def encode_prompt(self, text: str) -> list[int]:
        """A generation prompt's ids; never empty (an empty prompt is conditioned on the prefix token, as
        scoring is)."""
        bos = getattr(self.tok, "bos_token", None)
        # HFLM.tok_batch_encode: a prompt that already starts with BOS (chat templates add it) gets no other.
        kwargs: dict[str, bool] = {}
        if bos is not None and text.startswith(bos):
            kwargs["add_special_tokens"] = False
        elif self.add_bos_token is not None:
            kwargs["add_special_tokens"] = self.add_bos_token
        ids = list(self.tok.encode(text, **kwargs))
        if not ids:
            if self.prefix_token_id is None:
                raise BackendError("the prompt is empty and the tokenizer has no BOS/EOS token to start from")
            ids = [self.prefix_token_id]
        return ids
