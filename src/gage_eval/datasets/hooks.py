"""Built-in doc_to_* hooks, referenced from configs as `gage_eval.datasets.hooks:<name>`."""
from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from typing import Any

from gage_eval.sample import Sample


def embed_local_message_images(sample: Sample, root: str | None = None, **_: Any) -> None:
    """Turn local image paths in image_url parts into data URLs, so remote VLMs can see them."""
    for message in sample.messages:
        if isinstance(message.content, str):
            continue
        for part in message.content:
            if part.get("type") != "image_url":
                continue
            url = (part.get("image_url") or {}).get("url", "")
            if url.startswith(("http://", "https://", "data:")):
                continue
            path = Path(root or ".") / url.removeprefix("file://")
            mime = mimetypes.guess_type(path.name)[0] or "image/png"
            part["image_url"]["url"] = f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def attach_images_from_field(sample: Sample, field: str = "image", **_: Any) -> None:
    """doc_to_visual: add metadata[field] (a path or URL, or a list) as image parts of the first user message."""
    value = sample.metadata.get(field)
    if not value:
        return
    urls = value if isinstance(value, list) else [value]
    for message in sample.messages:
        if message.role == "user":
            parts = [{"type": "text", "text": message.content}] if isinstance(message.content, str) else message.content
            message.content = parts + [{"type": "image_url", "image_url": {"url": str(u)}} for u in urls]
            return
