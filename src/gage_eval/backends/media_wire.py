"""Media parts on the wire of OpenAI-compatible chat endpoints (vLLM, SGLang, hosted vision models).

Samples reference their media by local file (prepared by the modal_processor) or carry data URLs; a
server needs the bytes, or a file URL it may read itself:

- images: ``{"type": "image_url", "image_url": {"url": "data:image/png;base64,…"}}`` (``media: data_url``,
  the default), or ``file:///…`` (``media: file_url``: vLLM started with ``--allowed-local-media-path``,
  on the same machine: no base64 at all);
- audio: OpenAI's ``{"type": "input_audio", "input_audio": {"data": BASE64, "format": "wav"}}``
  (``audio: input_audio``), or vLLM's ``audio_url`` part (``audio: audio_url``).

Remote URLs pass through. Only OpenAI's fields are sent (never gage's ``media`` facts). Reading and
encoding run in a worker thread (see openai_http): a 1-megapixel PNG is ~2 MB of base64.
"""
from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from gage_eval.datasets.media import FORMATS, decode_data_url, is_remote, local_path, sniff
from gage_eval.errors import BackendError
from gage_eval.sample import MEDIA_PARTS, part_url


class MediaUnavailable(BackendError):
    """A media file a request needs cannot be read (deleted since preparation, or never there)."""

    reason = "missing media"


def has_media(messages: list[dict[str, Any]]) -> bool:
    return any(isinstance(m.get("content"), list) and any(isinstance(p, dict) and p.get("type") in MEDIA_PARTS
                                                          for p in m["content"]) for m in messages)


def _read(url: str) -> bytes:
    raw = local_path(url)
    if raw is None:
        return decode_data_url(url)
    try:
        return Path(raw).read_bytes()
    except OSError as exc:
        raise MediaUnavailable(f"cannot read media file {raw}: {exc.strerror or exc}", retryable=False,
                               fix="check the file exists; a modal_processor step resolves and checks media "
                                   "before inference") from None


def _mime(part: dict[str, Any], data: bytes) -> str:
    known = (part.get("media") or {}).get("mime")
    if known:
        return str(known)
    fmt = sniff(data[:32])
    return FORMATS[fmt][0] if fmt else "application/octet-stream"


def _format(part: dict[str, Any], data: bytes) -> str:
    fmt = (part.get("media") or {}).get("format") or sniff(data[:32]) or "wav"
    return str(fmt)


def wire_part(part: dict[str, Any], media: str = "data_url", audio: str = "input_audio") -> dict[str, Any]:
    """One content part as the chat endpoint takes it."""
    kind = part.get("type")
    if kind not in MEDIA_PARTS:
        return {k: v for k, v in part.items() if k != "media"}
    url = part_url(part)
    ref = part.get(kind)
    options = {k: v for k, v in ref.items() if k != "url"} if isinstance(ref, dict) else {}
    if kind == "file_url":
        raise MediaUnavailable("a file part (e.g. a PDF) reached the model unprepared: chat endpoints take images",
                               fix="add a modal_processor support step: it renders PDF pages as images")
    if kind == "audio_url" and audio == "input_audio":
        if is_remote(url):
            raise MediaUnavailable(f"audio at {url} cannot be sent as input_audio (it needs the bytes)",
                                   fix="set the backend's audio: audio_url to pass the URL, or use a local copy")
        data = _read(url)
        return {"type": "input_audio", "input_audio": {"data": base64.b64encode(data).decode("ascii"),
                                                       "format": _format(part, data)}}
    if is_remote(url) or url.startswith("data:"):
        return {"type": kind, kind: {**options, "url": url}}
    if media == "file_url":
        path = Path(local_path(url) or url).resolve()
        if not path.is_file():
            raise MediaUnavailable(f"media file {path} does not exist", fix="check the path")
        return {"type": kind, kind: {**options, "url": path.as_uri()}}
    data = _read(url)
    encoded = base64.b64encode(data).decode("ascii")
    return {"type": kind, kind: {**options, "url": f"data:{_mime(part, data)};base64,{encoded}"}}


def wire_messages(messages: list[dict[str, Any]], media: str = "data_url",
                  audio: str = "input_audio") -> list[dict[str, Any]]:
    """Chat messages with every media part in wire form (text-only messages are returned as they are)."""
    out = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            message = {**message, "content": [wire_part(p, media, audio) if isinstance(p, dict) else p
                                              for p in content]}
        out.append(message)
    return out
