"""Media parts of preprocessed samples (spec §3.4.2): one shape for every way a record can carry media.

Accepted in a record's messages, and rewritten to OpenAI's part shapes (``image_url`` / ``audio_url`` with
``{"url": ...}``):

- ``{"type": "image_url", "image_url": {"url": U}}`` and the short ``{"type": "image_url", "image_url": U}``;
- OpenAI's audio input ``{"type": "input_audio", "input_audio": {"data": BASE64, "format": "wav"}}``;
- Hugging Face chat-template style ``{"type": "image", "image": X}`` / ``{"type": "image", "url": U}`` /
  ``{"type": "audio", "audio": X}``, where X may be a path, URL, bytes, a PIL image or a `datasets`
  Image/Audio dict ({"bytes", "path"}) — in-memory media becomes a data URL until the modal_processor
  stores it;
- ``inputs.multi_modal_data`` entries that no message shows are appended to the first user message.

Relative local paths that do not exist under the working directory but do next to the dataset file are made
absolute, so a dataset folder can be run from anywhere. Then every media reference of the messages is
listed in ``inputs.multi_modal_data`` by kind.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from gage_eval.datasets.hooks import media_to_url
from gage_eval.datasets.media import local_path
from gage_eval.sample import MEDIA_PARTS, Message, Sample, part_url

_HF_TYPES = {"image": "image_url", "audio": "audio_url", "video": "video_url"}
_MEDIA_KEYS = set(MEDIA_PARTS.values())
_AUDIO_MIME = {"wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg",
               "m4a": "audio/mp4", "webm": "audio/webm"}


def normalize_part(part: Any) -> Any:
    """A content part in OpenAI's shape (see the module doc); text and unknown parts are returned as they are."""
    if not isinstance(part, dict):
        return part
    kind = part.get("type")
    if kind == "input_audio":
        body = part.get("input_audio") or {}
        mime = _AUDIO_MIME.get(str(body.get("format", "wav")).lower(), "audio/wav")
        return {"type": "audio_url", "audio_url": {"url": f"data:{mime};base64,{body.get('data', '')}"}}
    if kind in _HF_TYPES:
        value = next((part[k] for k in (kind, "url", "path") if part.get(k) is not None), None)
        if value is None:
            return part
        target = _HF_TYPES[kind]
        return {"type": target, target: {"url": media_to_url(value, "audio/wav" if kind == "audio" else "image/png")}}
    if kind in MEDIA_PARTS:
        ref = part.get(kind)
        if isinstance(ref, dict) and isinstance(ref.get("url"), str):
            return part
        value = ref.get("url") if isinstance(ref, dict) else ref
        if value is None:
            return part
        extra = {k: v for k, v in ref.items() if k != "url"} if isinstance(ref, dict) else {}
        mime = "audio/wav" if kind == "audio_url" else "image/png"
        return {**part, kind: {**extra, "url": media_to_url(value, mime)}}
    return part


def _first_user(sample: Sample) -> Message:
    for message in sample.messages:
        if message.role == "user":
            return message
    message = Message(role="user", content="")
    sample.messages.append(message)
    return message


def add_media_parts(sample: Sample, part_type: str, urls: list[str]) -> None:
    """Append image_url/audio_url parts to the first user message."""
    if not urls:
        return
    message = _first_user(sample)
    parts = message.content if isinstance(message.content, list) else (
        [{"type": "text", "text": message.content}] if message.content else [])
    message.content = parts + [{"type": part_type, part_type: {"url": url}} for url in urls]


def _resolve(url: str, roots: tuple[Path, ...]) -> str:
    raw = local_path(url)
    if raw is None or not raw or Path(raw).is_absolute() or not roots or Path(raw).exists():
        return url
    for root in roots:
        candidate = root / raw
        if candidate.exists():
            return str(candidate.resolve())
    return url


def normalize_media(sample: Sample, roots: tuple[Path, ...] = ()) -> None:
    """Parts to OpenAI's shapes, relative paths resolved, media only in multi_modal_data shown in a message,
    and multi_modal_data listing every media reference (spec's normalize_messages + merge_multimodal_inputs)."""
    for message in sample.messages:
        if isinstance(message.content, str):
            continue
        content = [normalize_part(p) for p in message.content]
        for part in content:
            if isinstance(part, dict) and part.get("type") in MEDIA_PARTS:
                url = part_url(part)
                resolved = _resolve(url, roots)
                if resolved != url:
                    part[part["type"]] = {**part[part["type"]], "url": resolved}
        message.content = content
    given = sample.inputs.get("multi_modal_data")
    if isinstance(given, dict):
        shown = {part_url(p) for m in sample.messages if not isinstance(m.content, str) for p in m.content
                 if isinstance(p, dict)}
        for key, part_type in (("image", "image_url"), ("audio", "audio_url"), ("video", "video_url")):
            values = given.get(key)
            values = values if isinstance(values, list) else [values] if values else []
            urls = [_resolve(media_to_url(v), roots) for v in values]
            add_media_parts(sample, part_type, [u for u in urls if u not in shown])
    merge_multimodal(sample)


def merge_multimodal(sample: Sample) -> None:
    """Collect the media refs of the messages into inputs.multi_modal_data {"image": [...], "audio": [...]}."""
    found: dict[str, list[str]] = {}
    for message in sample.messages:
        if isinstance(message.content, str):
            continue
        for part in message.content:
            key = MEDIA_PARTS.get(part.get("type", "")) if isinstance(part, dict) else None
            url = part_url(part) if key else ""
            if key and url and url not in found.setdefault(key, []):
                found[key].append(url)
    existing = sample.inputs.get("multi_modal_data")
    merged = {k: v for k, v in existing.items() if k not in _MEDIA_KEYS} if isinstance(existing, dict) else {}
    merged.update((k, v) for k, v in found.items() if v)
    if merged:
        sample.inputs["multi_modal_data"] = merged
    else:
        sample.inputs.pop("multi_modal_data", None)
