"""The standardized Sample (spec §3.4) and the envelope helpers that steps use to write into it."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ContentPart = dict[str, Any]  # {"type": "text"|"image_url"|"audio_url"|"file_url", ...}


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
