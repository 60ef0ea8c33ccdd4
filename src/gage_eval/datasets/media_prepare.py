"""Media preparation of one sample, as the `modal_processor` role runs it (in a worker thread).

Every media part of the sample's messages is read (local file, file:// URL or data URL), checked (format by
its first bytes, size, corruption), resized to the configured side / pixel budget, optionally converted,
tiled or — for PDFs — rendered page by page, and rewritten as a reference:

    {"type": "image_url", "image_url": {"url": "file:///…/page.png"},
     "media": {"sha256": …, "mime": "image/png", "bytes": 81234, "width": 1024, "height": 768,
               "original_width": 2048, "original_height": 1536, "source": "/data/page.png",
               "file": "media/3f/3f….png"}}

An unchanged local file is referenced where it is; bytes without a file (hub records, data URLs) and
changed images go to the run's media store (``file`` is then their path inside the run folder). Remote
URLs pass through untouched. Any problem raises a MediaError: that sample fails with a clear reason, the
others go on.
"""
from __future__ import annotations

import hashlib
import wave
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gage_eval.datasets import media_image
from gage_eval.datasets.media import (
    FORMATS,
    MediaBlob,
    MediaError,
    MediaStore,
    file_url,
    is_remote,
    open_source,
    sniff,
)
from gage_eval.datasets.media_parts import merge_multimodal
from gage_eval.sample import MEDIA_PARTS, Sample, part_url

IMAGE_FORMATS = ("png", "jpeg", "webp", "gif", "bmp", "tiff")
AUDIO_FORMATS = ("wav", "mp3", "flac", "ogg", "m4a")


class MediaSettings(BaseModel):
    """The modal_processor's params (all optional)."""

    model_config = ConfigDict(extra="forbid")

    max_side: int | None = Field(default=None, ge=1)  # longest side after resizing
    max_pixels: int | None = Field(default=None, ge=1)  # width x height after resizing
    oversize: Literal["resize", "error"] = "resize"  # an image over max_side / max_pixels: shrink it, or fail
    max_input_pixels: int = Field(default=100_000_000, ge=1)  # refused above (decompression-bomb guard)
    image_formats: list[Literal["png", "jpeg", "webp", "gif", "bmp", "tiff"]] = list(IMAGE_FORMATS)
    convert: Literal["RGB", "RGBA", "L"] | None = None  # e.g. RGB, as lmms-eval's doc_to_visual does
    encode: Literal["auto", "png", "jpeg"] = "auto"  # changed images; auto: JPEG stays JPEG, the rest PNG
    jpeg_quality: int = Field(default=95, ge=1, le=100)
    verify: Literal["header", "decode"] = "header"  # header: cheap checks (PNG CRCs, JPEG end marker)
    tile_size: int | None = Field(default=None, ge=32)  # split larger images into tiles of this size
    tile_overview: bool = True  # with tiles: also send the whole (resized) image first
    pdf_dpi: int = Field(default=144, ge=36, le=600)
    pdf_max_pages: int = Field(default=8, ge=1)
    audio_formats: list[Literal["wav", "mp3", "flac", "ogg", "m4a"]] = list(AUDIO_FORMATS)
    max_audio_seconds: float | None = Field(default=None, gt=0)
    root: str | None = None  # folder for relative media paths (after the working directory)
    workers: int = Field(default=4, ge=1, le=64)  # preparation threads


class Preparer:
    """Prepares the media of samples into `store`; thread-safe (holds no per-sample state)."""

    def __init__(self, settings: MediaSettings, store: MediaStore) -> None:
        self.s = settings
        self.store = store
        self.roots = (Path(settings.root).expanduser(),) if settings.root else ()

    # -- a sample -------------------------------------------------------------------------------------
    def prepare_sample(self, sample: Sample) -> list[dict[str, Any]]:
        """Rewrites the sample's media parts in place; returns their `media` records (for support_outputs)."""
        roots = self.roots
        prepared: list[dict[str, Any]] = []
        for message in sample.messages:
            if isinstance(message.content, str):
                continue
            content: list[dict[str, Any]] = []
            for part in message.content:
                if part.get("type") in MEDIA_PARTS and "sha256" not in (part.get("media") or {}):
                    new = self.prepare_part(part, roots)
                    prepared.extend(p.get("media", {}) for p in new)
                    content.extend(new)
                else:
                    content.append(part)
            message.content = content
        merge_multimodal(sample)
        return prepared

    # -- a part ---------------------------------------------------------------------------------------
    def prepare_part(self, part: dict[str, Any], roots: tuple[Path, ...]) -> list[dict[str, Any]]:
        kind, url = part["type"], part_url(part)
        if not url:
            raise MediaError(f"a {kind} part has no URL", reason="missing media",
                             fix=f'write it as {{"type": "{kind}", "{kind}": {{"url": "..."}}}}')
        if is_remote(url):  # the model server fetches it; nothing to read here
            return [{**part, "media": {"source": url, "remote": True}}]
        blob = open_source(url, roots)
        fmt = sniff(blob.head())
        if fmt is None:
            raise MediaError(f"unsupported media format: {blob.source} is not a known image, audio or PDF file "
                             f"(first bytes {blob.head()[:8]!r})", reason="unsupported media format",
                             file=blob.source, fix="convert it to PNG or JPEG (images), WAV or MP3 (audio)")
        family = FORMATS[fmt][2]
        if family == "pdf" and kind in ("file_url", "image_url"):
            return self._pdf(blob)
        if kind == "audio_url":
            if family != "audio" or fmt not in self.s.audio_formats:
                raise _unsupported(blob, fmt, kind, self.s.audio_formats)
            return [self._audio(part, blob, fmt)]
        if kind == "video_url":
            raise MediaError(f"video parts are not prepared (got {fmt})", reason="unsupported media format",
                             file=blob.source, fix="send video as a remote URL, or remove the modal_processor step")
        if family != "image" or fmt not in self.s.image_formats:
            raise _unsupported(blob, fmt, kind, self.s.image_formats)
        return self._image(part, blob, fmt)

    def _image(self, part: dict[str, Any], blob: MediaBlob, fmt: str) -> list[dict[str, Any]]:
        s = self.s
        image = media_image.open_image(blob, fmt, s.max_input_pixels)
        width, height = image.size
        target = media_image.fit(width, height, s.max_side, s.max_pixels)
        if target != (width, height) and s.oversize == "error":
            raise MediaError(f"image {blob.source} is {width}x{height}, over the budget (max_side {s.max_side}, "
                             f"max_pixels {s.max_pixels})", reason="image over pixel budget", file=blob.source,
                             fix="set oversize: resize to shrink such images, or raise max_side / max_pixels")
        convert = s.convert is not None and image.mode != s.convert
        tiled = s.tile_size is not None and max(target) > s.tile_size
        original = {"original_width": width, "original_height": height}
        if not (convert or tiled or target != (width, height)):
            if s.verify == "decode":
                media_image.decode(image, blob, fmt)
            else:
                media_image.quick_verify(image, blob, fmt)
            return [self._ref(part, blob, None, fmt, {"width": width, "height": height, **original})]
        image = media_image.decode(image, blob, fmt)
        if convert:
            image = image.convert(s.convert)
        if target != (width, height):
            image = image.resize(target, media_image.pil().Resampling.BICUBIC)
        out: list[dict[str, Any]] = []
        pieces = media_image.tiles(image, s.tile_size) if tiled and s.tile_size else []
        if not pieces or s.tile_overview:
            out.append(self._encoded(part, blob, image, fmt, original))
        for tile, where in pieces:
            out.append(self._encoded(part, blob, tile, fmt, {**original, **where}))
        return out

    def _encoded(self, part: dict[str, Any], blob: MediaBlob, image: Any, fmt: str,
                 extra: dict[str, Any]) -> dict[str, Any]:
        data, out_fmt = media_image.encode(image, fmt, self.s.encode, self.s.jpeg_quality)
        return self._ref(part, blob, data, out_fmt, {"width": image.size[0], "height": image.size[1], **extra})

    def _pdf(self, blob: MediaBlob) -> list[dict[str, Any]]:
        pages = media_image.render_pdf(blob, self.s.pdf_dpi, self.s.pdf_max_pages)
        image_part = {"type": "image_url", "image_url": {"url": ""}}
        out = []
        for number, page in enumerate(pages, start=1):
            width, height = page.size
            target = media_image.fit(width, height, self.s.max_side, self.s.max_pixels)
            if target != (width, height):
                page = page.resize(target, media_image.pil().Resampling.BICUBIC)
            out.append(self._encoded(image_part, blob, page, "png",
                                     {"original_width": width, "original_height": height, "page": number}))
        return out

    def _audio(self, part: dict[str, Any], blob: MediaBlob, fmt: str) -> dict[str, Any]:
        facts: dict[str, Any] = {"format": fmt}
        if fmt == "wav":
            try:
                with wave.open(BytesIO(blob.read())) as w:
                    facts["seconds"] = round(w.getnframes() / float(w.getframerate()), 3)
                    facts["sample_rate"] = w.getframerate()
            except (wave.Error, EOFError, ZeroDivisionError) as exc:
                if "unknown format" not in str(exc):  # float / extensible WAVs are fine, only not readable here
                    raise MediaError(f"corrupt WAV audio {blob.source}: {exc}", reason="corrupt audio",
                                     file=blob.source, fix="re-export the audio file") from None
        limit = self.s.max_audio_seconds
        if limit is not None and facts.get("seconds", 0) > limit:
            raise MediaError(f"audio {blob.source} lasts {facts['seconds']} s, over max_audio_seconds {limit}",
                             reason="audio too long", file=blob.source, fix="trim it, or raise max_audio_seconds")
        return self._ref(part, blob, None, fmt, facts)

    def _ref(self, part: dict[str, Any], blob: MediaBlob, data: bytes | None, fmt: str,
             facts: dict[str, Any]) -> dict[str, Any]:
        """The part rewritten to point at the prepared bytes, with what is known about them."""
        mime, ext, _ = FORMATS[fmt]
        media: dict[str, Any] = {"mime": mime, "source": blob.source}
        if data is None and blob.path is not None:  # unchanged local file: referenced where it is
            payload = blob.read()
            digest = hashlib.sha256(payload).hexdigest()
            path = blob.path.resolve()
        else:
            payload = data if data is not None else blob.read()
            path, digest = self.store.put(payload, ext)
            media["file"] = self.store.relative(path)
        media.update(sha256=digest, bytes=len(payload), **facts)
        kind = part["type"]
        ref = part.get(kind)
        body = {**(ref if isinstance(ref, dict) else {}), "url": file_url(path)}
        return {"type": kind, kind: body, "media": media}


def _unsupported(blob: MediaBlob, fmt: str, kind: str, allowed: list[str]) -> MediaError:
    return MediaError(f"unsupported media format: {blob.source} is {fmt.upper()}, which a {kind} part does not "
                      f"take here (allowed: {', '.join(allowed)})", reason="unsupported media format",
                      file=blob.source, fix=f"convert it to one of: {', '.join(allowed)}")
