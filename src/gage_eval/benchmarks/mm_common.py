"""What the multimodal benchmarks (MMMU, DocVQA, MathVista, ChartQA) share: their records' images as content
parts, text interleaved with images at ``<image n>`` markers, and the dut / modal_processor defaults of their
templates.

A record's image may be a `datasets` Image value as stored ({"bytes", "path"}; the hf_hub loader does not
decode them), a PIL image (``params.decode_media: true``), raw bytes or a path / URL. In-memory bytes become
a data URL that the modal_processor stores in the run's media folder before inference.
"""
from __future__ import annotations

import re
from typing import Any

from gage_eval.datasets.hooks import media_to_url
from gage_eval.datasets.preprocess import RecordError

IMAGE_MARKER = re.compile(r"<image (\d+)>")


def image_part(value: Any, field: str) -> dict[str, Any]:
    """An image_url content part for a record's image value; a missing image is an error naming the field."""
    if value is None or value == "" or (isinstance(value, dict) and not (value.get("bytes") or value.get("path"))):
        raise RecordError(f"field '{field}' holds no image", field)
    try:
        url = media_to_url(value)
    except TypeError as exc:
        raise RecordError(f"field '{field}': {exc}", field) from None
    return {"type": "image_url", "image_url": {"url": url}}


def interleave(text: str, images: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Text parts and image parts in reading order: image n replaces the first ``<image n>`` marker; text
    between markers is stripped and empty pieces are dropped (as lmms-eval's mmmu_doc_to_messages does).
    A repeated marker stays as text; images no marker names follow the text."""
    parts: list[dict[str, Any]] = []
    placed: set[int] = set()
    position = 0
    buffer = ""
    for match in IMAGE_MARKER.finditer(text):
        number = int(match.group(1))
        buffer += text[position:match.start()]
        position = match.end()
        if number in images and number not in placed:
            if buffer.strip():
                parts.append({"type": "text", "text": buffer.strip()})
            parts.append(images[number])
            placed.add(number)
            buffer = ""
        else:
            buffer += match.group(0)
    buffer += text[position:]
    if buffer.strip():
        parts.append({"type": "text", "text": buffer.strip()})
    rest = [images[n] for n in sorted(images) if n not in placed]
    return parts + rest
