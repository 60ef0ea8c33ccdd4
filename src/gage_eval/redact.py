"""Remove secrets from anything written to artifacts or logs."""
from __future__ import annotations

import re
from typing import Any

_SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password|authorization)$", re.I)
REDACTED = "***"


def redact(value: Any) -> Any:
    """Recursively blank values under secret-looking keys; `api_key_env` (a variable name) is kept."""
    if isinstance(value, dict):
        return {k: (REDACTED if _SECRET_KEY.search(str(k)) and v not in (None, "") and not str(k).endswith("_env")
                    else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value
