"""Torch side of the `hf` backend: loading, lm-eval-exact scoring and batched generation.

Everything here is synchronous and runs in a worker thread. torch and transformers are imported only
inside `HFRuntime` (never at module import), so `import gage_eval` and `gage list` stay torch-free.
Tokenisation and scoring mirror lm-evaluation-harness' `HFLM` (lm_eval/models/huggingface.py and
lm_eval/api/model.py) step by step; comments name the lm-eval function each piece reproduces.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gage_eval.backends.lm_tokens import LMEncoder
from gage_eval.backends.media_wire import has_media
from gage_eval.engine import stop
from gage_eval.errors import BackendError, ConfigError

if TYPE_CHECKING:
    from gage_eval.backends.hf import HFSettings

# lm_eval.models.utils: tokenizers without a known limit report this sentinel as model_max_length.
TOKENIZER_INFINITY = 1000000000000000019884624838656
DEFAULT_MAX_LENGTH = 2048
INSTALL_FIX = ("pip install 'gage-eval[hf]' (it pins torch==2.13.0; for a GPU install the CUDA build of that "
               "torch version first, from https://pytorch.org)")


def import_torch() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise ConfigError(f"the hf backend needs torch and transformers, which cannot be imported: {exc}",
                          path="type", fix=INSTALL_FIX) from None
    return torch, transformers


@dataclass(frozen=True)
class GenOptions:
    max_new_tokens: int
    temperature: float = 0.0
    top_p: float | None = None
    top_k: int | None = None
    repetition_penalty: float | None = None
    stop: tuple[str, ...] = ()
    n: int = 1
    seed: int | None = None

    @property
    def do_sample(self) -> bool:
        return self.temperature > 0

    def batch_key(self) -> tuple[Any, ...] | None:
        """Requests with equal keys can share one left-padded `generate` call. Sampling is never batched:
        a per-request seed can only be honoured by running the request alone."""
        if self.do_sample:
            return None
        return (self.max_new_tokens, self.repetition_penalty, self.stop)


@dataclass
class GenOutput:
    texts: list[str]
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


class HFRuntime:
    """A loaded tokenizer + causal LM. Not thread-safe: the backend calls it from one thread at a time."""

    def __init__(self, s: HFSettings) -> None:
        self.torch, self.transformers = torch, transformers = import_torch()
        self.s = s
        self.device = self._resolve_device(s.device)
        self.tok = self._load_tokenizer()
        self.model = self._load_model()
        if s.use_chat_template and not getattr(self.tok, "chat_template", None):
            raise ConfigError(f"use_chat_template is true but the tokenizer of '{s.tokenizer_path or s.model_path}' "
                              "has no chat template", path="config.use_chat_template",
                              fix="set use_chat_template: false (messages are then concatenated), or use a "
                                  "tokenizer with a chat_template")
        # lm_eval.models.utils.configure_pad_token: pad, else unk, else eos. Only generation pads with it.
        if self.tok.pad_token_id is None:
            fallback = self.tok.unk_token_id if self.tok.unk_token_id is not None else self.tok.eos_token_id
            self.pad_id = int(fallback) if fallback is not None else 0
        else:
            self.pad_id = int(self.tok.pad_token_id)
        self.enc = LMEncoder(self.tok, s.add_bos_token, s.use_chat_template)
        self._tools_checked = False
        self.prefix_token_id = self.enc.prefix_token_id
        self.max_length = s.max_length or self._config_max_length()
        self.eos_ids = self._eos_ids()
        del torch, transformers

    # ---- loading ------------------------------------------------------------------------------------
    def _resolve_device(self, device: str) -> Any:
        torch = self.torch
        if device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(f"device '{device}' requested but torch {torch.__version__} sees no CUDA GPU",
                              path="config.device", fix="use device: cpu (or auto), or install a CUDA build of torch")
        return torch.device(device)

    def _load_tokenizer(self) -> Any:
        s = self.s
        source = s.tokenizer_path or s.model_path
        kwargs: dict[str, Any] = {"trust_remote_code": s.trust_remote_code, "use_fast": True}
        if s.revision:
            kwargs["revision"] = s.revision
        if s.add_bos_token is not None:  # as HFLM._create_tokenizer
            kwargs["add_bos_token"] = s.add_bos_token
        try:
            return self.transformers.AutoTokenizer.from_pretrained(source, **kwargs)
        except Exception as exc:  # noqa: BLE001 - hub, filesystem and format errors all mean "cannot load"
            raise _load_error("tokenizer", source, "config.tokenizer_path" if s.tokenizer_path else "config.model_path",
                              exc) from None

    def _load_model(self) -> Any:
        s = self.s
        torch, transformers = self.torch, self.transformers
        dtype = "auto" if s.dtype == "auto" else getattr(torch, s.dtype)
        # transformers 4.56 renamed torch_dtype to dtype; both are accepted for a while, the old one warns.
        major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
        kwargs: dict[str, Any] = {"trust_remote_code": s.trust_remote_code,
                                  ("dtype" if (major, minor) >= (4, 56) else "torch_dtype"): dtype}
        if s.revision:
            kwargs["revision"] = s.revision
        try:
            model = self._model_class().from_pretrained(s.model_path, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise _load_error("model", s.model_path, "config.model_path", exc) from None
        return model.to(self.device).eval()

    def _model_class(self) -> Any:
        return self.transformers.AutoModelForCausalLM

    def _config_max_length(self) -> int:
        # lm_eval.models.utils.resolve_max_length
        config = self.model.config
        cfg = getattr(config, "text_config", None) or config
        for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
            value = getattr(cfg, attr, None)
            if value is not None:
                return int(value)
        limit = getattr(self.tok, "model_max_length", None)
        if limit is not None and limit != TOKENIZER_INFINITY:
            return int(limit)
        return DEFAULT_MAX_LENGTH

    def _eos_ids(self) -> set[int]:
        ids = {self.tok.eos_token_id} if self.tok.eos_token_id is not None else set()
        configured = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        ids.update(configured if isinstance(configured, list) else [configured] if configured is not None else [])
        return {int(i) for i in ids}

    # ---- lm-eval-exact tokenisation (lm_tokens.LMEncoder, shared with the vllm backend) -------------------
    def tok_encode(self, string: str, add_special_tokens: bool | None = None) -> list[int]:
        return self.enc.tok_encode(string, add_special_tokens)

    def encode_kwargs(self, string: str, add_special_tokens: bool | None = None) -> dict[str, bool]:
        return self.enc.encode_kwargs(string, add_special_tokens)

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        return self.enc.encode_pair(context, continuation)

    def check_pair(self, ctx: list[int], cont: list[int]) -> None:
        if not cont:
            raise BackendError("a continuation encodes to no tokens (is it empty?); nothing to score")
        if not ctx:
            raise BackendError("the context encodes to no tokens (whitespace only?); nothing to condition on")
        if len(cont) > self.max_length:
            raise BackendError(f"a continuation of {len(cont)} tokens exceeds the model's max_length "
                               f"({self.max_length}); raise max_length or shorten the choices")

    # ---- scoring ------------------------------------------------------------------------------------
    def forward_right_padded(self, rows: list[list[int]]) -> Any:
        """Logits of one forward pass over rows right-padded with 0 and no attention mask, as HFLM scores
        (padding after a row's end never changes its positions' logits). Call under torch.inference_mode()."""
        torch = self.torch
        batch = torch.zeros((len(rows), max(len(r) for r in rows)), dtype=torch.long)
        for i, row in enumerate(rows):
            batch[i, :len(row)] = torch.tensor(row, dtype=torch.long)
        return self.model(batch.to(self.device)).logits

    def score(self, pairs: list[tuple[list[int], list[int]]]) -> list[tuple[float, bool]]:
        """One forward pass over a right-padded batch; HFLM._loglikelihood_tokens for a causal model."""
        torch = self.torch
        # Truncate from the left to max_length + 1 tokens, then drop the last one (it predicts nothing).
        inps = [(ctx + cont)[-(self.max_length + 1):][:-1] for ctx, cont in pairs]
        with torch.inference_mode():  # no autograd bookkeeping at all: ~4% faster than no_grad
            logits = self.forward_right_padded(inps)
            results = []
            for row, (inp, (_, cont)) in enumerate(zip(inps, pairs)):
                inplen, contlen = len(inp), len(cont)
                # Positions inplen-contlen .. inplen-1 predict the continuation tokens. log_softmax is
                # per position, so taking it on the slice only saves memory without changing a value.
                logp = torch.log_softmax(logits[row, inplen - contlen:inplen], dim=-1, dtype=torch.float32)
                target = torch.tensor(cont, dtype=torch.long, device=logp.device)
                greedy = bool((logp.argmax(dim=-1) == target).all())
                results.append((float(torch.gather(logp, 1, target.unsqueeze(-1)).squeeze(-1).sum()), greedy))
        return results

    # ---- generation ---------------------------------------------------------------------------------
    def prompt_ids(self, prompt: str | None, messages: list[dict[str, Any]], options: GenOptions,
                   tools: list[dict[str, Any]] | None = None) -> list[int]:
        if has_media(messages):  # a text-only model would silently answer without seeing them
            raise no_vision_error(self.s.model_path)
        if tools and not self._tools_checked:
            self.enc.check_renders_tools(tools)
            self._tools_checked = True
        text = self.enc.prompt_text(prompt, messages, tools) if tools else self._prompt_text(prompt, messages)
        ids = self.enc.encode_prompt(text)
        room = self.max_length - options.max_new_tokens
        if room <= 0:
            raise BackendError(f"max_new_tokens ({options.max_new_tokens}) must be smaller than the model's "
                               f"max_length ({self.max_length})")
        return ids[-room:]  # left truncation, as HFLM.generate_until

    def applies_chat_template(self, prompt: str | None, messages: list[dict[str, Any]]) -> bool:
        return self.enc.applies_chat_template(prompt, messages)

    def _prompt_text(self, prompt: str | None, messages: list[dict[str, Any]]) -> str:
        return self.enc.prompt_text(prompt, messages)

    def chat_text(self, messages: list[dict[str, Any]]) -> str:
        return self.enc.chat_text(messages)

    def chat_context(self, messages: list[dict[str, Any]]) -> str:
        """A log-likelihood context given as chat messages (lm-eval's --apply_chat_template scoring)."""
        if has_media(messages):
            raise no_vision_error(self.s.model_path, "log-likelihood scoring with images")
        if not self.applies_chat_template(None, messages):
            raise BackendError("a chat-formatted scoring context needs the tokenizer's chat template, and "
                               + ("use_chat_template is false" if self.s.use_chat_template is False
                                  else f"the tokenizer of '{self.s.tokenizer_path or self.s.model_path}' has none"))
        return self.chat_text(messages)

    def generate(self, prompts: list[list[int]], o: GenOptions) -> list[GenOutput]:
        torch = self.torch
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, p in enumerate(prompts):  # left padding keeps every prompt's end at the same column
            ids[row, width - len(p):] = torch.tensor(p, dtype=torch.long)
            mask[row, width - len(p):] = 1
        return self.run_generate({"input_ids": ids, "attention_mask": mask}, prompts, o)

    def run_generate(self, inputs: dict[str, Any], prompts: list[list[int]], o: GenOptions) -> list[GenOutput]:
        """One `generate` call on a left-padded batch (`inputs`: input_ids, attention_mask and, for vision
        models, the image tensors), decoded into one GenOutput per prompt."""
        torch = self.torch
        width = inputs["input_ids"].shape[1]
        kwargs: dict[str, Any] = {"max_new_tokens": o.max_new_tokens, "do_sample": o.do_sample,
                                  "pad_token_id": self.pad_id}
        if o.do_sample:
            kwargs.update(temperature=o.temperature, num_return_sequences=o.n)
            if o.top_p is not None:
                kwargs["top_p"] = o.top_p
            if o.top_k is not None:
                kwargs["top_k"] = o.top_k
        if o.repetition_penalty is not None:
            kwargs["repetition_penalty"] = o.repetition_penalty
        criteria = [self._stop_flag_criterion()] + ([self._stop_criterion(o.stop, width)] if o.stop else [])
        kwargs["stopping_criteria"] = self.transformers.StoppingCriteriaList(criteria)
        if o.seed is not None:
            torch.manual_seed(o.seed)
        with torch.inference_mode():  # no autograd bookkeeping at all: ~4% faster than no_grad
            out = self.model.generate(**{k: v.to(self.device) for k, v in inputs.items()}, **kwargs)
        rows = out[:, width:].tolist()
        per_prompt = o.n if o.do_sample else 1
        results = []
        for i, p in enumerate(prompts):
            decoded = [self._finish(r, o.stop) for r in rows[i * per_prompt:(i + 1) * per_prompt]]
            texts = [d[0] for d in decoded] * (o.n if not o.do_sample else 1)
            results.append(GenOutput(texts=texts, prompt_tokens=len(p), completion_tokens=sum(d[1] for d in decoded),
                                     finish_reason=decoded[0][2]))
        return results

    def _finish(self, tokens: list[int], stop: tuple[str, ...]) -> tuple[str, int, str]:
        """(text cut at EOS and at the first stop string, tokens generated, finish reason)."""
        reason = "length"
        for k, t in enumerate(tokens):
            if t in self.eos_ids:
                tokens, reason = tokens[:k], "stop"
                break
        count = len(tokens) + (reason == "stop")
        text = self.tok.decode(tokens, skip_special_tokens=True)
        cuts = [text.find(s) for s in stop if s in text]
        if cuts:
            text, reason = text[:min(cuts)], "stop"
        return text, count, reason

    def _stop_flag_criterion(self) -> Any:
        """Ends `generate` at the next token once the run is stopping (SIGINT / SIGTERM); the backend then
        drops the cut-short outputs. One Event check per token: no measurable cost."""
        torch = self.torch

        class StopOnRunStop(self.transformers.StoppingCriteria):  # type: ignore[name-defined,misc]
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.full((input_ids.shape[0],), stop.requested(), dtype=torch.bool, device=input_ids.device)

        return StopOnRunStop()

    def _stop_criterion(self, stop_strings: tuple[str, ...], start: int) -> Any:
        torch, tok = self.torch, self.tok
        # Only a tail of each row is copied and decoded per step (not the whole batch with its prompts), and a
        # row that has stopped is not decoded again: the check stays O(batch) per token. The final text is
        # still cut exactly by `_finish`.
        lookback = 2 * max(len(s) for s in stop_strings) + 8
        done: list[bool] = []

        class StopOnStrings(self.transformers.StoppingCriteria):  # type: ignore[name-defined,misc]
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                if not done:
                    done.extend([False] * input_ids.shape[0])
                tails = input_ids[:, max(start, input_ids.shape[1] - lookback):].tolist()
                for row, tail in enumerate(tails):
                    if not done[row]:
                        text = tok.decode(tail, skip_special_tokens=True)
                        done[row] = any(s in text for s in stop_strings)
                return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

        return StopOnStrings()


class NoVisionSupport(BackendError):
    reason = "no vision support"


def no_vision_error(model_path: str, what: str = "images") -> NoVisionSupport:
    return NoVisionSupport(f"the hf model '{model_path}' is a text-only model (no image processor), and this request "
                           f"has {what}", fix="evaluate a vision-language checkpoint (one AutoProcessor and "
                           "AutoModelForImageTextToText load), or a benchmark without images")


def _load_error(what: str, source: str, path: str, exc: Exception) -> ConfigError:
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    return ConfigError(f"cannot load the {what} from '{source}': {type(exc).__name__}: {detail}", path=path,
                       fix="give a local folder holding config.json, the weights and the tokenizer files, or a "
                           "Hugging Face hub id that is downloaded (HF_HUB_OFFLINE=1 forbids downloads) or "
                           "reachable; set trust_remote_code: true only for models that need their own code")
