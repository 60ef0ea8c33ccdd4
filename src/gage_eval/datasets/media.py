"""Media sources for multimodal samples: where the bytes of an image / audio / PDF part come from, what
format they are, and the run's content-addressed media store.

A part's URL may be a local path (absolute, or relative to the dataset file's folder or the working
directory), a ``file://`` URL, a ``data:`` URL (what hub records with bytes or PIL images become), or a
remote URL (``http(s)://``), which is passed on as is: gage never downloads media. Formats are told by
their first bytes, never by the file name, so a PNG named ``.jpg`` is a PNG and a text file named
``.png`` is an error.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from gage_eval.errors import DatasetError

REMOTE_SCHEMES = ("http://", "https://", "s3://", "gs://")
# format -> (mime, file extension, kind)
FORMATS: dict[str, tuple[str, str, str]] = {
    "png": ("image/png", "png", "image"), "jpeg": ("image/jpeg", "jpg", "image"),
    "gif": ("image/gif", "gif", "image"), "webp": ("image/webp", "webp", "image"),
    "bmp": ("image/bmp", "bmp", "image"), "tiff": ("image/tiff", "tiff", "image"),
    "pdf": ("application/pdf", "pdf", "pdf"),
    "wav": ("audio/wav", "wav", "audio"), "mp3": ("audio/mpeg", "mp3", "audio"),
    "flac": ("audio/flac", "flac", "audio"), "ogg": ("audio/ogg", "ogg", "audio"),
    "m4a": ("audio/mp4", "m4a", "audio"),
}
_SNIFF_BYTES = 32


class MediaError(DatasetError):
    """One sample's media cannot be used: recorded as that sample's error (reason = the failure class)."""

    def __init__(self, message: str, *, reason: str, fix: str, file: str | None = None) -> None:
        super().__init__(message, file=file, fix=fix)
        self.reason = reason


def sniff(head: bytes) -> str | None:
    """The format of a file from its first bytes (see FORMATS), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:2] == b"BM":
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head[4:8] == b"ftyp" and head[8:11] in (b"M4A", b"mp4", b"iso"):
        return "m4a"
    return None


@dataclass
class MediaBlob:
    """The bytes of one media part: in memory (`data`) or in a local file (`path`, read lazily)."""

    source: str  # what to call it in messages: the path, or "data URL (N bytes)"
    data: bytes | None = None
    path: Path | None = None

    def head(self) -> bytes:
        if self.data is not None:
            return self.data[:_SNIFF_BYTES]
        assert self.path is not None
        with self.path.open("rb") as fh:
            return fh.read(_SNIFF_BYTES)

    def read(self) -> bytes:
        if self.data is None:
            assert self.path is not None
            self.data = self.path.read_bytes()
        return self.data

    def size(self) -> int:
        return len(self.data) if self.data is not None else self.path.stat().st_size  # type: ignore[union-attr]


def is_remote(url: str) -> bool:
    return url.startswith(REMOTE_SCHEMES)


def local_path(url: str) -> str | None:
    """The file path a URL names (`file://` URLs and bare paths), or None for data / remote URLs."""
    if url.startswith("file://"):
        return urllib.parse.unquote(urllib.parse.urlparse(url).path)
    if url.startswith("data:") or is_remote(url) or "://" in url[:12]:
        return None
    return url


def file_url(path: Path) -> str:
    return path.resolve().as_uri()


def decode_data_url(url: str) -> bytes:
    head, sep, body = url.partition(",")
    if not sep:
        raise MediaError("malformed data URL (no ',' after the header)", reason="corrupt media",
                         fix="write data URLs as data:<mime>;base64,<data>")
    try:
        if head.endswith(";base64"):
            return base64.b64decode(body, validate=False)
        return urllib.parse.unquote_to_bytes(body)
    except (binascii.Error, ValueError) as exc:
        raise MediaError(f"the data URL's base64 does not decode: {exc}", reason="corrupt media",
                         fix="re-encode the media with standard base64") from None


def open_source(url: str, roots: tuple[Path, ...] = ()) -> MediaBlob:
    """A local or inline media reference as bytes; a missing file is a MediaError naming what was tried."""
    if url.startswith("data:"):
        data = decode_data_url(url)
        return MediaBlob(f"data URL ({len(data):,} bytes)", data=data)
    raw = local_path(url)
    if raw is None:
        raise MediaError(f"cannot read media from {url[:80]!r}: only local files and data URLs are read",
                         reason="unsupported media source",
                         fix="use a local path, a file:// URL or a data URL (remote URLs go to the model as is)")
    path = Path(raw).expanduser()
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, *(r / path for r in roots)]
    for candidate in candidates:
        if candidate.is_file():
            return MediaBlob(str(candidate), path=candidate)
    tried = " or ".join(dict.fromkeys(str(c) for c in candidates))
    raise MediaError(f"media file not found: {raw} (tried {tried})", reason="missing media", file=raw,
                     fix="check the path; relative paths are read from the working directory, then the dataset "
                         "file's folder (or set the modal_processor's params.root)")


class MediaStore:
    """Content-addressed files under ``<run>/media/`` (``ab/abcdef….png``): media that had no file of its own
    (hub bytes, data URLs) or was changed (resized, converted, a PDF page). Writes are atomic, so concurrent
    workers and resumed runs never see half a file, and each distinct content is written once."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, data: bytes, ext: str, digest: str | None = None) -> tuple[Path, str]:
        """(path, sha256) of `data` stored with extension `ext`."""
        digest = digest or hashlib.sha256(data).hexdigest()
        path = self.root / digest[:2] / f"{digest}.{ext}"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return path, digest

    def relative(self, path: Path) -> str | None:
        """`media/ab/….png` for a file of this store (the report links it from the run folder)."""
        try:
            return f"{self.root.name}/{path.relative_to(self.root).as_posix()}"
        except ValueError:
            return None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
