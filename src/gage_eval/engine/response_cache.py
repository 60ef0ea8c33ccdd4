"""Content-addressed response cache in SQLite: key = sha256(backend identity + request)."""
from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import threading
from pathlib import Path
from typing import Any

import orjson

from gage_eval.backends.base import GenerationRequest, GenerationResponse
from gage_eval.sample import MEDIA_PARTS, part_url


def cache_key(identity: dict[str, Any], request: GenerationRequest) -> str:
    payload = request.cache_payload()
    if isinstance(payload.get("messages"), list):
        payload["messages"] = [_media_keyed(m) for m in payload["messages"]]
    blob = orjson.dumps({"backend": identity, "request": payload},
                        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(blob).hexdigest()


def _media_keyed(message: Any) -> Any:
    """A message whose media parts are keyed by their content's sha256 (set by the modal_processor), not by
    where the file lies: the same image answered once is a hit from any path, a changed file is a miss."""
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list) or not any(isinstance(p, dict) and p.get("type") in MEDIA_PARTS
                                                for p in content):
        return message
    parts = []
    for part in content:
        if isinstance(part, dict) and part.get("type") in MEDIA_PARTS:
            kind = part["type"]
            ref = part.get(kind)
            options = {k: v for k, v in ref.items() if k != "url"} if isinstance(ref, dict) else {}
            digest = (part.get("media") or {}).get("sha256")
            url = part_url(part)
            if digest is None and url.startswith("data:"):
                digest = hashlib.sha256(url.encode("utf-8", "replace")).hexdigest()
            part = {"type": kind, **({"sha256": digest} if digest else {"url": url}), **options}
        parts.append(part)
    return {**message, "content": parts}


class ResponseCache:
    """Thread-safe; calls run in a worker thread so the event loop never blocks on disk."""

    def __init__(self, path: Path) -> None:
        from gage_eval.run_paths import ensure_writable_dir

        ensure_writable_dir(path.parent, "--use-cache")  # a clear error naming the folder, not an OSError
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
        self.hits = 0
        self.misses = 0

    def _get(self, key: str) -> bytes | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _put(self, key: str, value: bytes) -> None:
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO responses (key, value) VALUES (?, ?)", (key, value))

    async def get(self, key: str) -> GenerationResponse | None:
        raw = await asyncio.to_thread(self._get, key)
        if raw is None:
            self.misses += 1
            return None
        self.hits += 1
        response = GenerationResponse.from_dict(orjson.loads(raw))
        response.cached = True
        return response

    async def put(self, key: str, response: GenerationResponse) -> None:
        await asyncio.to_thread(self._put, key, orjson.dumps(response.to_dict()))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
