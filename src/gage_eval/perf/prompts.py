"""Request sources for `gage perf`: random, line_by_line, openqa JSONL, ShareGPT JSON, chat-messages JSONL."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from gage_eval.errors import ConfigError

DATASETS = ("random", "line_by_line", "openqa", "sharegpt", "custom")
_WORDS = ("the of and to in is was for on are with as by at be this from that have or an which one you had not but "
          "what all were when we there can more if out so said would about them time up into has two some could "
          "data model token system value result number user answer question reason light water energy signal").split()


@dataclass
class PerfRequest:
    messages: list[dict[str, Any]]
    prompt: str
    prompt_tokens: int | None = None  # known when built from a tokenizer or counted
    extra: dict[str, Any] = field(default_factory=dict)


def _counter(tokenizer: Any) -> Callable[[str], int] | None:
    if tokenizer is None:
        return None
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


def random_requests(n: int, rng: random.Random, min_len: int, max_len: int, tokenizer: Any = None) -> list[PerfRequest]:
    """Prompts of uniformly drawn length: exact token counts with a tokenizer, else whitespace words."""
    out = []
    vocab_size = getattr(tokenizer, "vocab_size", None)
    for _ in range(n):
        length = rng.randint(min_len, max_len)
        if tokenizer is not None and vocab_size:
            ids = [rng.randrange(100, vocab_size) for _ in range(length)]
            text = tokenizer.decode(ids)
            out.append(PerfRequest([{"role": "user", "content": text}], text, len(ids)))
        else:
            text = " ".join(rng.choice(_WORDS) for _ in range(length))
            out.append(PerfRequest([{"role": "user", "content": text}], text, None))
    return out


def _from_text(text: str) -> PerfRequest:
    return PerfRequest([{"role": "user", "content": text}], text)


def _read_json_lines(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"line {number} is not JSON: {exc.msg}", file=str(path), path="--dataset-path",
                                  fix="one JSON object per line") from None
    return rows


def file_requests(kind: str, path: Path) -> list[PerfRequest]:
    if not path.is_file():
        raise ConfigError("dataset file not found", file=str(path), path="--dataset-path", fix="check the path")
    if kind == "line_by_line":
        return [_from_text(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if kind == "openqa":
        rows = _read_json_lines(path)
        return [_from_text(str(r.get("question") or r.get("prompt") or r.get("query") or "")) for r in rows]
    if kind == "custom":
        out = []
        for r in _read_json_lines(path):
            messages = r.get("messages") if isinstance(r, dict) else r
            if not isinstance(messages, list):
                raise ConfigError("each line needs a `messages` list", file=str(path), path="--dataset-path",
                                  fix='write lines like {"messages": [{"role": "user", "content": "..."}]}')
            out.append(PerfRequest(messages, "\n".join(str(m.get("content", "")) for m in messages)))
        return out
    if kind == "sharegpt":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"not valid JSON: {exc.msg}", file=str(path), path="--dataset-path",
                              fix="a ShareGPT file is one JSON list of {conversations: [...]}") from None
        out = []
        for item in data:
            turns = item.get("conversations") or item.get("conversation") or []
            human = next((t.get("value") for t in turns if t.get("from") in ("human", "user")), None)
            if human:
                out.append(_from_text(human))  # the first human turn, as vLLM's sharegpt sampler does
        return out
    raise ConfigError(f"unknown dataset '{kind}'", path="--dataset", fix=f"use one of: {', '.join(DATASETS)}")


def build_requests(kind: str, n: int, *, path: Path | None, seed: int, min_prompt_len: int, max_prompt_len: int,
                   tokenizer: Any = None) -> list[PerfRequest]:
    rng = random.Random(seed)
    if kind == "random":
        requests = random_requests(n, rng, min_prompt_len, max_prompt_len, tokenizer)
    else:
        if path is None:
            raise ConfigError(f"--dataset {kind} needs --dataset-path", path="--dataset-path", fix="give the file")
        requests = file_requests(kind, path)
        if not requests:
            raise ConfigError("the dataset file holds no prompts", file=str(path), path="--dataset-path",
                              fix="check the file format for --dataset " + kind)
        rng.shuffle(requests)
    count = _counter(tokenizer)
    if count is not None:
        for r in requests:
            if r.prompt_tokens is None:
                r.prompt_tokens = count(r.prompt)
    return requests
