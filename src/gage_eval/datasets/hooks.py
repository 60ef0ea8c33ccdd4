"""Built-in doc_to_* hooks. Configs name them by short name (registry kind `doc_converters`) or import path.

    params:
      doc_to_visual: attach_images_from_field          # or gage_eval.datasets.hooks:attach_images_from_field
      doc_to_visual_kwargs: {field: image}
      doc_to_text: format_prompt
      doc_to_text_kwargs: {template: "Question: {question}\\nAnswer:"}

See `gage_eval.datasets.preprocess` for the hook contract (arguments and return values).
"""
from __future__ import annotations

import base64
import io
import mimetypes
from pathlib import Path
from typing import Any

from gage_eval.errors import DatasetError
from gage_eval.registry import registry
from gage_eval.sample import Sample

_REMOTE = ("http://", "https://", "data:", "s3://", "gs://")


def data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def local_file_to_data_url(path: str | Path, root: str | Path | None = None) -> str:
    """Inline a local file as a data URL, so a remote model can see it."""
    raw = str(path).removeprefix("file://")
    file = Path(raw).expanduser()
    if not file.is_absolute() and root is not None:
        file = Path(root) / file
    if not file.is_file():
        raise DatasetError(f"media file not found: {file}", fix="check the path, or pass root= to the hook "
                                                                "(doc_to_visual_kwargs: {root: DIR})")
    mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    return data_url(file.read_bytes(), mime)


def media_to_url(value: Any, default_mime: str = "image/png") -> str:
    """A hook's media item as a URL: strings pass through; bytes, PIL images and HF Image/Audio dicts
    ({"bytes": ..., "path": ...}) become data URLs."""
    if isinstance(value, str):
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return data_url(bytes(value), default_mime)
    if isinstance(value, dict):
        if value.get("url"):
            return str(value["url"])
        if value.get("bytes"):
            mime = mimetypes.guess_type(str(value.get("path") or ""))[0] or default_mime
            return data_url(value["bytes"], mime)
        if value.get("path"):
            return str(value["path"])
    if hasattr(value, "save") and hasattr(value, "mode"):  # a PIL image (as decoded by `datasets`)
        buffer = io.BytesIO()
        value.save(buffer, format="PNG")
        return data_url(buffer.getvalue(), "image/png")
    raise TypeError(f"cannot turn a {type(value).__name__} into a media URL")


def _field_values(sample: Sample, record: dict[str, Any] | None, field: str) -> list[Any]:
    # The default preprocessor moved unknown fields into metadata; drop the raw (maybe binary) value there.
    value = sample.metadata.pop(field, None)
    if value is None and record is not None:
        value = record.get(field)
    if value is None or value == "" or value == []:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


@registry.asset("doc_converters", "attach_images_from_field", desc="doc_to_visual: the record's image field "
                "(path, URL, bytes, PIL or HF Image dict; or a list) as image parts", tags=("visual",))
def attach_images_from_field(sample: Sample, record: dict[str, Any] | None = None, field: str = "image",
                             embed: bool = False, root: str | None = None) -> list[str]:
    urls = [media_to_url(v) for v in _field_values(sample, record, field)]
    if embed:
        urls = [u if u.startswith(_REMOTE) else local_file_to_data_url(u, root) for u in urls]
    return urls


@registry.asset("doc_converters", "attach_audio_from_field", desc="doc_to_audio: the record's audio field as "
                "audio parts", tags=("audio",))
def attach_audio_from_field(sample: Sample, record: dict[str, Any] | None = None, field: str = "audio") -> list[str]:
    return [media_to_url(v, "audio/wav") for v in _field_values(sample, record, field)]


@registry.asset("doc_converters", "embed_local_message_images", desc="doc_to_visual: local image paths in "
                "image_url parts become base64 data URLs", tags=("visual",))
def embed_local_message_images(sample: Sample, root: str | None = None) -> None:
    embedded: dict[str, str] = {}
    for message in sample.messages:
        if isinstance(message.content, str):
            continue
        for part in message.content:
            if part.get("type") != "image_url":
                continue
            ref = part.get("image_url")
            url = ref.get("url", "") if isinstance(ref, dict) else str(ref or "")
            if url and not url.startswith(_REMOTE):
                if url not in embedded:
                    embedded[url] = local_file_to_data_url(url, root)
                part["image_url"] = {**(ref if isinstance(ref, dict) else {}), "url": embedded[url]}
    # inputs.multi_modal_data may already list the local paths: point it at the embedded versions.
    images = (sample.inputs.get("multi_modal_data") or {}).get("image")
    if embedded and isinstance(images, list):
        images[:] = [embedded.get(u, u) if isinstance(u, str) else u for u in images]


@registry.asset("doc_converters", "format_prompt", desc="doc_to_text: str.format a template with the raw "
                "record's fields", tags=("text",))
def format_prompt(sample: Sample, record: dict[str, Any], template: str) -> str:
    try:
        return template.format(**record)
    except KeyError as exc:
        raise KeyError(f"template field {exc} is not in the record") from None
