"""What the test server saw of a chat request's media: every image / audio part decoded as a vision server
would decode it (data URL or file:// URL), with the sha256 of the decoded bytes and the image's size, so a
test can check that the images a client sent arrived intact — and in which form."""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
import urllib.parse
from typing import Any

_IMAGE_TYPES = ("image_url",)
_AUDIO_TYPES = ("input_audio", "audio_url")


class MediaRejected(ValueError):
    """A part a real server would answer with HTTP 400."""


def _url_bytes(url: str) -> tuple[bytes, str]:
    if url.startswith("data:"):
        head, _, body = url.partition(",")
        try:
            return base64.b64decode(body, validate=True), "data_url"
        except (binascii.Error, ValueError) as exc:
            raise MediaRejected(f"invalid base64 in data URL: {exc}") from None
    if url.startswith("file://"):
        path = urllib.parse.unquote(urllib.parse.urlparse(url).path)
        try:
            with open(path, "rb") as fh:
                return fh.read(), "file_url"
        except OSError as exc:
            raise MediaRejected(f"cannot read {url}: {exc}") from None
    raise MediaRejected(f"cannot fetch {url[:80]} (the test server has no network)")


def inspect_parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    """One record per media part of the request's messages, in order; MediaRejected for an unusable one."""
    seen: list[dict[str, Any]] = []
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind in _IMAGE_TYPES:
                ref = part.get(kind) or {}
                data, transport = _url_bytes(ref.get("url", "") if isinstance(ref, dict) else str(ref))
                seen.append({"kind": "image", "transport": transport, **_image_facts(data)})
            elif kind == "input_audio":
                audio = part.get("input_audio") or {}
                try:
                    data = base64.b64decode(audio.get("data", ""), validate=True)
                except (binascii.Error, ValueError) as exc:
                    raise MediaRejected(f"invalid base64 in input_audio: {exc}") from None
                seen.append({"kind": "audio", "transport": "input_audio", "format": audio.get("format"),
                             "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
            elif kind == "audio_url":
                ref = part.get(kind) or {}
                data, transport = _url_bytes(ref.get("url", "") if isinstance(ref, dict) else str(ref))
                seen.append({"kind": "audio", "transport": transport, "sha256": hashlib.sha256(data).hexdigest(),
                             "bytes": len(data)})
    return seen


def _image_facts(data: bytes) -> dict[str, Any]:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            size = image.size
            fmt = image.format
    except Exception as exc:  # noqa: BLE001 - a server answers 400 for any undecodable image
        raise MediaRejected(f"cannot decode image: {exc}") from None
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "width": size[0], "height": size[1],
            "format": fmt}


def has_images(body: dict[str, Any]) -> bool:
    return any(isinstance(p, dict) and p.get("type") in _IMAGE_TYPES + _AUDIO_TYPES
               for m in body.get("messages") or [] if isinstance(m, dict) and isinstance(m.get("content"), list)
               for p in m["content"])
