"""Vision-language checkpoints in the `hf` backend: ``AutoProcessor`` + ``AutoModelForImageTextToText``.

A checkpoint whose config has a ``vision_config`` (LLaVA, Qwen2-VL, Idefics3 / SmolVLM, Gemma 3, ...) loads as a
`VisionRuntime`: the processor's tokenizer serves the text paths of `HFRuntime` unchanged (text-only
requests, log-likelihood scoring), and requests with images go through the processor. Their prompt is the
processor's chat template over the messages, image parts in place (``{"type": "image"}``); without a
template, or with ``use_chat_template: false``, the text with the processor's image token where each image
was. Each prompt is encoded once when it is queued (its length sorts the batch, as for text); a batch is
the per-prompt encodings left-padded into one tensor set and one ``generate`` call, so a sample's answer does
not depend on what it was batched with.
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from gage_eval.backends.hf_runtime import GenOptions, GenOutput, HFRuntime, _load_error, no_vision_error
from gage_eval.backends.media_wire import has_media
from gage_eval.datasets.media import decode_data_url, local_path
from gage_eval.errors import BackendError
from gage_eval.sample import part_url


def is_vision_checkpoint(model_path: str) -> bool | None:
    """True / False from a local folder's config.json; None when it cannot be told without loading (hub ids)."""
    config = Path(model_path).expanduser() / "config.json"
    if not config.is_file():
        return None
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return isinstance(data, dict) and ("vision_config" in data or "vision_tower" in data)


def runtime_class(s: Any) -> type[HFRuntime]:
    """The runtime for a checkpoint: its config decides (read from the hub cache for a hub id)."""
    vision = is_vision_checkpoint(s.model_path)
    if vision is None:
        try:
            import transformers

            config = transformers.AutoConfig.from_pretrained(s.model_path, trust_remote_code=s.trust_remote_code,
                                                             revision=s.revision)
            vision = getattr(config, "vision_config", None) is not None
        except Exception:  # noqa: BLE001 - the text runtime reports an unloadable model with its fix
            vision = False
    return VisionRuntime if vision else HFRuntime


class VisionPrompt(list):
    """A prompt's token ids (what the backend sorts and batches by) with its processor encoding."""

    encoding: dict[str, Any]
    images: int


def _pil_image(part: dict[str, Any]) -> Any:
    from PIL import Image

    url = part_url(part)
    path = local_path(url)
    try:
        data = decode_data_url(url) if url.startswith("data:") else Path(path or url).read_bytes()
        image = Image.open(io.BytesIO(data))
        return image.convert("RGB")
    except Exception as exc:  # noqa: BLE001 - unreadable media fails this request only
        raise BackendError(f"hf backend: cannot load image {url[:120]}: {type(exc).__name__}: {exc}",
                           fix="prepare media with a modal_processor step (it checks images before inference)"
                           ) from None


class VisionRuntime(HFRuntime):
    """HFRuntime for a vision-language checkpoint (see the module doc)."""

    processor: Any

    def _load_tokenizer(self) -> Any:
        s = self.s
        source = s.tokenizer_path or s.model_path
        kwargs: dict[str, Any] = {"trust_remote_code": s.trust_remote_code}
        if s.revision:
            kwargs["revision"] = s.revision
        try:
            self.processor = self.transformers.AutoProcessor.from_pretrained(source, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise _load_error("processor", source, "config.model_path", exc) from None
        tok = getattr(self.processor, "tokenizer", None)
        if tok is None or getattr(self.processor, "image_processor", None) is None:
            raise _load_error("processor", source, "config.model_path",
                              ValueError("it has no tokenizer and image processor"))
        tok.padding_side = "left"
        return tok

    def _model_class(self) -> Any:
        return self.transformers.AutoModelForImageTextToText

    # ---- prompts ------------------------------------------------------------------------------------
    def prompt_ids(self, prompt: str | None, messages: list[dict[str, Any]], options: GenOptions,
                   tools: list[dict[str, Any]] | None = None) -> list[int]:
        if not has_media(messages):
            return super().prompt_ids(prompt, messages, options, tools)
        if tools:
            raise BackendError("hf backend: tool definitions with images are not supported for vision-language "
                               "checkpoints yet", retryable=False)
        images, text = self._vision_inputs(messages)
        try:
            encoding = self.processor(text=[text], images=images, return_tensors="pt")
        except Exception as exc:  # noqa: BLE001 - the processor rejects mismatched image counts, odd sizes, ...
            raise BackendError(f"hf backend: the processor rejected this request: {type(exc).__name__}: "
                               f"{str(exc)[:300]}") from None
        ids = VisionPrompt(encoding["input_ids"][0].tolist())
        room = self.max_length - options.max_new_tokens
        if len(ids) > room:  # image tokens cannot be cut like text: say so instead of truncating
            raise BackendError(f"the prompt with its images is {len(ids)} tokens, more than the {room} the model's "
                               f"max_length ({self.max_length}) leaves after max_new_tokens",
                               fix="shrink the images (modal_processor max_pixels) or raise max_length")
        ids.encoding, ids.images = dict(encoding), len(images)
        return ids

    def _vision_inputs(self, messages: list[dict[str, Any]]) -> tuple[list[Any], str]:
        images: list[Any] = []
        turns: list[dict[str, Any]] = []
        for message in messages:
            content = message.get("content")
            parts: list[dict[str, Any]] = []
            for part in [{"type": "text", "text": content}] if isinstance(content, str) else content or []:
                kind = part.get("type")
                if kind == "image_url":
                    images.append(_pil_image(part))
                    parts.append({"type": "image"})
                elif kind == "text":
                    parts.append({"type": "text", "text": part.get("text", "")})
                elif kind in ("audio_url", "video_url", "file_url"):
                    raise no_vision_error(self.s.model_path, f"{kind.split('_')[0]} input (only images are read)")
            turns.append({"role": message.get("role", "user"), "content": parts})
        template = getattr(self.processor, "chat_template", None) or getattr(self.tok, "chat_template", None)
        if template and self.s.use_chat_template is not False:
            return images, str(self.processor.apply_chat_template(turns, add_generation_prompt=True, tokenize=False))
        token = getattr(self.processor, "image_token", None) or "<image>"
        texts = ["".join(f"{token}\n" if p["type"] == "image" else p["text"] for p in t["content"]) for t in turns]
        return images, "\n\n".join(texts)

    # ---- generation ---------------------------------------------------------------------------------
    def generate(self, prompts: list[list[int]], o: GenOptions) -> list[GenOutput]:
        vision = [i for i, p in enumerate(prompts) if isinstance(p, VisionPrompt)]
        if not vision:
            return super().generate(prompts, o)
        text = [i for i in range(len(prompts)) if i not in set(vision)]
        out: dict[int, GenOutput] = {}
        if text:
            out.update(zip(text, super().generate([prompts[i] for i in text], o)))
        batch = [prompts[i] for i in vision]
        out.update(zip(vision, self._generate_vision(batch, o)))  # type: ignore[arg-type]
        return [out[i] for i in range(len(prompts))]

    def _generate_vision(self, prompts: list[VisionPrompt], o: GenOptions) -> list[GenOutput]:
        return self.run_generate(self._collate(prompts), prompts, o)  # type: ignore[arg-type]

    def _collate(self, prompts: list[VisionPrompt]) -> dict[str, Any]:
        """One left-padded batch from per-prompt encodings: per-token tensors (ids, mask, token types) are
        padded, image tensors concatenated in prompt order (the model matches them to image tokens in order)."""
        torch = self.torch
        width = max(len(p) for p in prompts)
        keys = set(prompts[0].encoding)
        if any(set(p.encoding) != keys for p in prompts):
            raise BackendError("hf backend: prompts of one batch were encoded with different processor outputs")
        batch: dict[str, Any] = {}
        for key in keys:
            values = [p.encoding[key] for p in prompts]
            if key == "input_ids" or all(tuple(v.shape) == (1, len(p)) for v, p in zip(values, prompts)):
                fill = self.pad_id if key == "input_ids" else 0
                padded = torch.full((len(prompts), width), fill, dtype=values[0].dtype)
                for row, v in enumerate(values):
                    padded[row, width - v.shape[1]:] = v[0]
                batch[key] = padded
            else:
                batch[key] = torch.cat(values, dim=0)
        if "attention_mask" not in batch:
            batch["attention_mask"] = (batch["input_ids"] != self.pad_id).long()
        return batch
