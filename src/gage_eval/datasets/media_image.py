"""Image work for the modal_processor (Pillow): check, resize to a side / pixel budget, convert, tile, and
render PDF pages (pypdfium2). Synchronous; the modal_processor runs it in worker threads.

An image is decoded only when something has to change (resize, mode conversion, tiles) or when
``verify: decode`` asks for it: a 1-megapixel JPEG that fits the budget is sent as the original bytes, so
preparing it costs a header read and a hash, not a decode and re-encode.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

from gage_eval.datasets.media import MediaBlob, MediaError

INSTALL_FIX = "pip install 'gage-eval[multimodal]' (Pillow and pypdfium2)"


def pil() -> Any:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow ships with the multimodal extra
        raise MediaError("images need Pillow, which is not installed", reason="missing dependency",
                         fix=INSTALL_FIX) from None
    return Image


@dataclass
class ImageOut:
    """One prepared image: its bytes are `blob`'s own (unchanged) or `data` (re-encoded)."""

    width: int
    height: int
    fmt: str
    data: bytes | None = None  # None: the source bytes are sent unchanged
    extra: dict[str, Any] = field(default_factory=dict)  # tile / page position


def fit(width: int, height: int, max_side: int | None, max_pixels: int | None) -> tuple[int, int]:
    """The largest size with the same aspect ratio inside both limits (never upscaled)."""
    scale = 1.0
    if max_side:
        scale = min(scale, max_side / max(width, height))
    if max_pixels:
        scale = min(scale, math.sqrt(max_pixels / (width * height)))
    if scale >= 1.0:
        return width, height
    w, h = max(1, int(width * scale)), max(1, int(height * scale))
    while max_pixels and w * h > max_pixels and w * h > 1:  # float rounding can leave one row too many
        if w >= h:
            w -= 1
        else:
            h -= 1
    return w, h


def _corrupt(blob: MediaBlob, fmt: str, why: object) -> MediaError:
    return MediaError(f"corrupt {fmt.upper()} image {blob.source}: {why}", reason="corrupt image", file=blob.source,
                      fix="re-export or re-download the image; check the file is complete")


def open_image(blob: MediaBlob, fmt: str, max_input_pixels: int) -> Any:
    """The image with only its header read; over `max_input_pixels` (a decompression bomb guard) is an error."""
    image_mod = pil()
    try:
        # From memory: the bytes are read anyway (to hash them), and no file handle stays open.
        image = image_mod.open(io.BytesIO(blob.read()))
        width, height = image.size
    except image_mod.DecompressionBombError as exc:
        raise MediaError(f"image {blob.source} is too large to open safely: {exc}", reason="image over pixel budget",
                         file=blob.source, fix="downscale the image, or raise max_input_pixels") from None
    except Exception as exc:  # noqa: BLE001 - Pillow signals unreadable data with many types
        raise _corrupt(blob, fmt, exc) from None
    if width * height > max_input_pixels:
        raise MediaError(f"image {blob.source} has {width}x{height} = {width * height:,} pixels, over the limit of "
                         f"{max_input_pixels:,} (max_input_pixels)", reason="image over pixel budget",
                         file=blob.source, fix="downscale the image, or raise the modal_processor's max_input_pixels")
    return image


def quick_verify(image: Any, blob: MediaBlob, fmt: str) -> None:
    """Cheap checks that catch truncated or damaged files without decoding the pixels."""
    if fmt == "png":
        try:
            image.verify()  # walks the chunks and their CRCs
        except Exception as exc:  # noqa: BLE001
            raise _corrupt(blob, fmt, exc) from None
    elif fmt == "jpeg":
        if not blob.read()[-64:].rstrip(b"\x00\r\n ").endswith(b"\xff\xd9"):
            raise _corrupt(blob, fmt, "the file ends before the end-of-image marker (truncated)")


def decode(image: Any, blob: MediaBlob, fmt: str) -> Any:
    try:
        image.load()
    except Exception as exc:  # noqa: BLE001
        raise _corrupt(blob, fmt, exc) from None
    return image


def encode(image: Any, source_fmt: str, how: str, quality: int) -> tuple[bytes, str]:
    fmt = how if how != "auto" else ("jpeg" if source_fmt == "jpeg" and image.mode in ("RGB", "L") else "png")
    if fmt == "jpeg" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG" if fmt == "jpeg" else "PNG", **({"quality": quality} if fmt == "jpeg" else {}))
    return buffer.getvalue(), fmt


def tiles(image: Any, size: int) -> list[tuple[Any, dict[str, Any]]]:
    """Row-major crops of at most size x size; [] when the image already fits in one tile."""
    width, height = image.size
    if width <= size and height <= size:
        return []
    cols, rows = math.ceil(width / size), math.ceil(height / size)
    out = []
    for r in range(rows):
        for c in range(cols):
            box = (c * size, r * size, min(width, (c + 1) * size), min(height, (r + 1) * size))
            out.append((image.crop(box), {"tile": [r, c], "tiles": [rows, cols]}))
    return out


def render_pdf(blob: MediaBlob, dpi: int, max_pages: int) -> list[Any]:
    """The first `max_pages` pages of a PDF as PIL images at `dpi`."""
    try:
        import pypdfium2 as pdfium
    except ImportError:
        raise MediaError("PDF pages need pypdfium2, which is not installed", reason="missing dependency",
                         file=blob.source, fix=INSTALL_FIX) from None
    try:
        document = pdfium.PdfDocument(blob.read())
    except Exception as exc:  # noqa: BLE001 - pdfium raises PdfiumError and others
        raise MediaError(f"corrupt PDF {blob.source}: {exc}", reason="corrupt pdf", file=blob.source,
                         fix="check the PDF opens in a viewer; re-export it") from None
    try:
        count = len(document)
        if count == 0:
            raise MediaError(f"PDF {blob.source} has no pages", reason="corrupt pdf", file=blob.source,
                             fix="check the PDF opens in a viewer")
        return [document[i].render(scale=dpi / 72).to_pil() for i in range(min(count, max_pages))]
    finally:
        document.close()
