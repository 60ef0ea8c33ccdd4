"""The standardized Sample (spec §3.4) and the envelope helpers that steps use to write into it."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# A content part, in OpenAI's shape: {"type": "text", "text": ...} or {"type": "image_url", "image_url": {"url": ...}}
# (also audio_url, video_url, file_url). A media part may carry "media": what the modal_processor learnt about
# it (sha256, mime, bytes, width/height, original size, source, file in the run's media store); backends send
# only the OpenAI fields, and the response cache keys on media.sha256 rather than on the URL.
ContentPart = dict[str, Any]
MEDIA_PARTS = {"image_url": "image", "audio_url": "audio", "video_url": "video", "file_url": "file"}
# Inline data URLs longer than this are never written to samples.jsonl: they are replaced by their hash.
INLINE_MEDIA_LIMIT = 512


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool"]
    # None: an assistant turn that only calls tools (OpenAI format; `tool_calls` / `tool_call_id` are extras).
    content: str | list[ContentPart] | None = ""

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.get("text", "") for part in self.content if part.get("type") == "text")


class PredictResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    index: int = 0
    answer: str = ""
    message: Message | None = None
    usage: dict[str, int] = Field(default_factory=dict)
    latency_ms: float | None = None
    finish_reason: str | None = None
    logprobs: Any = None
    cached: bool = False


class Trajectory(BaseModel):
    """`trajectory` of a samples.jsonl record (any multi-turn lane; the agent lane writes every field).

    report.html and `gage view` render `messages` as a conversation; an assistant message is matched with
    `turns[i]` (its i-th assistant turn) and each of that turn's `tool_calls` shows the `tool` message with the
    same `tool_call_id` as its result."""

    model_config = ConfigDict(extra="allow")

    kind: str = "agent"
    messages: list[dict[str, Any]] = Field(default_factory=list)  # OpenAI format, as the model saw them
    # per model turn: index, usage, model_ms, finish_reason, cached, duration_ms, tool_calls [{id, name,
    # arguments, raw_arguments, status, duration_ms, result_chars, truncated_chars?, source?, parse_error?}]
    turns: list[dict[str, Any]] = Field(default_factory=list)
    stop_reason: str | None = None  # final_answer | max_turns | token_budget | time_limit | model_error | ...
    final_answer: str | None = None
    error: str | None = None
    turn_count: int = 0
    tool_call_count: int = 0
    tool_errors: int = 0
    usage: dict[str, int] = Field(default_factory=dict)
    wall_ms: float = 0.0
    model_ms: float = 0.0
    tool_ms: float = 0.0
    overhead_ms: float = 0.0  # wall minus model and tool time: the loop's own time (plus event-loop waits)


class Sample(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    messages: list[Message] = Field(default_factory=list)
    choices: list[Any] = Field(default_factory=list)
    inputs: dict[str, Any] = Field(default_factory=dict)
    label: Any = None
    references: list[Any] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    support_outputs: list[dict[str, Any]] = Field(default_factory=list)
    predict_result: list[PredictResult] = Field(default_factory=list)
    eval_result: dict[str, Any] = Field(default_factory=dict)

    def prompt_text(self) -> str:
        """The plain-text prompt: `inputs.prompt` if set, else the concatenated user/system messages."""
        prompt = self.inputs.get("prompt")
        if isinstance(prompt, str):
            return prompt
        return "\n".join(m.text() for m in self.messages if m.role in ("system", "user"))

    def evaluated_question(self) -> str:
        """The question the answer replies to, as a judge should see it: the last user turn. In a few-shot chat
        prompt the earlier user turns are worked examples; showing them would put questions nobody is answering
        in front of the judge. A system prompt is the model's instruction, not the question. `inputs.prompt` is
        used only when the dataset set it to something of its own: the preprocessor otherwise fills it with
        every system and user turn glued together."""
        users = [m for m in self.messages if m.role == "user"]
        prompt = self.inputs.get("prompt")
        glued = "\n".join(m.text() for m in self.messages if m.role in ("system", "user"))
        if isinstance(prompt, str) and (prompt != glued or not users):
            return prompt
        return users[-1].text() if users else ""


def part_url(part: ContentPart) -> str:
    """The URL of a media part (`{"image_url": {"url": u}}` or the short `{"image_url": u}`)."""
    ref = part.get(part.get("type", ""))
    url = ref.get("url") if isinstance(ref, dict) else ref
    return url if isinstance(url, str) else ""


def iter_media_parts(messages: list[Any]) -> Iterator[ContentPart]:
    """Media parts of chat messages (dicts or Message models), in order."""
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else getattr(message, "content", None)
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") in MEDIA_PARTS:
                    yield part


def data_url_digest(url: str) -> str:
    """`data:<mime>;sha256=<hex>;bytes=<n>`: what samples.jsonl keeps of an inline data URL."""
    head, _, body = url.partition(",")
    mime = head[5:].split(";", 1)[0] or "application/octet-stream"
    return f"data:{mime};sha256={hashlib.sha256(body.encode('ascii', 'replace')).hexdigest()};chars={len(body)}"


def compact_media(obj: Any) -> Any:
    """`obj` with every long data URL replaced by its digest (samples.jsonl stores references, never megabytes
    of base64). Returns the same object when there was nothing to replace."""
    if isinstance(obj, str):
        return data_url_digest(obj) if len(obj) > INLINE_MEDIA_LIMIT and obj.startswith("data:") else obj
    if isinstance(obj, dict):
        out = {k: compact_media(v) for k, v in obj.items()}
        return obj if all(out[k] is obj[k] for k in obj) else out
    if isinstance(obj, list):
        items = [compact_media(v) for v in obj]
        return obj if all(a is b for a, b in zip(items, obj)) else items
    return obj


def append_predict_result(sample: Sample, output: PredictResult | dict[str, Any]) -> PredictResult:
    result = output if isinstance(output, PredictResult) else PredictResult.model_validate(output)
    result.index = len(sample.predict_result)
    if result.message is None:
        result.message = Message(role="assistant", content=[{"type": "text", "text": result.answer}])
    sample.predict_result.append(result)
    return result


def update_eval_result(sample: Sample, judge_output: dict[str, Any] | None) -> None:
    if judge_output:
        sample.eval_result.update(judge_output)


def resolve_model_output(sample: Sample) -> dict[str, Any]:
    """The latest inference output as a plain dict (empty when inference has not run)."""
    if not sample.predict_result:
        return {}
    return sample.predict_result[-1].model_dump(exclude_none=True)
