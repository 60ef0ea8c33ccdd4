"""The preprocess pipeline of spec §4.2.4: every raw record becomes a validated, standard Sample.

`BasePreprocessor.transform` is the template method; subclasses override `to_sample` only.
"""
from __future__ import annotations

from typing import Any, Callable

from pydantic import ValidationError

from gage_eval.errors import DatasetError
from gage_eval.registry import import_object
from gage_eval.sample import Sample

_ROLE_ALIASES = {"human": "user", "gpt": "assistant", "bot": "assistant", "model": "assistant", "ai": "assistant",
                 "user": "user", "assistant": "assistant", "system": "system", "tool": "tool"}
_HOOKS = ("doc_to_text", "doc_to_visual", "doc_to_audio")


def _clean_messages(messages: Any) -> list[dict[str, Any]] | None:
    if not isinstance(messages, list):
        return None
    out = []
    for m in messages:
        if not isinstance(m, dict):
            continue
        role = _ROLE_ALIASES.get(str(m.get("role") or m.get("from") or "user").lower(), "user")
        content = m.get("content", m.get("value"))
        if content in (None, "", []):
            continue
        out.append({**{k: v for k, v in m.items() if k not in ("from", "value")}, "role": role, "content": content})
    return out


def _media_refs(messages: list[dict[str, Any]]) -> dict[str, list[str]]:
    refs: dict[str, list[str]] = {}
    for m in messages:
        if isinstance(m.get("content"), list):
            for part in m["content"]:
                kind = part.get("type", "")
                if kind in ("image_url", "audio_url", "file_url"):
                    url = (part.get(kind) or {}).get("url")
                    if url:
                        refs.setdefault(kind.removesuffix("_url"), []).append(url)
    return refs


class BasePreprocessor:
    """Map a raw record to Sample fields in `to_sample`; `transform` does the rest of the pipeline."""

    name = "base"
    required_fields: tuple[str, ...] = ()

    def __init__(self, dataset_id: str = "", source: str = "", hooks: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        self.dataset_id = dataset_id
        self.source = source
        self.kwargs = kwargs
        self._hooks: list[tuple[str, Callable[..., Any], dict[str, Any]]] = []
        for name in _HOOKS:
            spec = (hooks or {}).get(name)
            if spec:
                fn = import_object(spec) if isinstance(spec, str) else spec
                hook_kwargs = {**{k: v for k, v in kwargs.items()}, **(hooks or {}).get(f"{name}_kwargs", {})}
                self._hooks.append((name, fn, hook_kwargs))

    def to_sample(self, record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _fail(self, number: int, message: str, fix: str) -> DatasetError:
        return DatasetError(f"record {number}: {message}", file=self.source, fix=fix)

    def transform(self, record: dict[str, Any], number: int) -> Sample:
        missing = [f for f in self.required_fields if record.get(f) in (None, "")]
        if missing:
            raise self._fail(number, f"missing field '{missing[0]}' (record has: {', '.join(sorted(record))[:200]})",
                             f"every record needs {', '.join(self.required_fields)}; check the preprocess setting "
                             "matches the file's schema")
        if "messages" in record:
            record = {**record, "messages": _clean_messages(record["messages"])}
        try:
            fields = self.to_sample(record, **self.kwargs)
        except (KeyError, ValueError, IndexError, TypeError) as exc:
            raise self._fail(number, f"{self.name} preprocessing failed: {type(exc).__name__}: {exc}",
                             "check that the record has the fields this preprocessor expects") from None
        inputs = dict(fields.get("inputs") or {})
        messages = fields.get("messages") or []
        prompt = fields.pop("prompt", None) if "prompt" in fields else inputs.get("prompt")
        if prompt is not None:
            inputs["prompt"] = str(prompt)
            if not messages:
                messages = [{"role": "user", "content": str(prompt)}]
        elif messages:
            inputs["prompt"] = "\n".join(m["content"] for m in messages if isinstance(m.get("content"), str)
                                         and m["role"] in ("system", "user"))
        fields["messages"], fields["inputs"] = messages, inputs
        raw_id = fields.get("id", record.get("id", record.get("sample_id", record.get("idx"))))
        fields["id"] = str(raw_id) if raw_id is not None else f"{self.dataset_id}_{number - 1}"
        try:
            sample = Sample.model_validate(fields)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in err["loc"])
            raise self._fail(number, f"field '{where}': {err['msg']}",
                             "fix the record or choose a preprocessor that matches this schema") from None
        for _name, fn, hook_kwargs in self._hooks:
            fn(sample, **hook_kwargs)
        refs = _media_refs([m.model_dump() for m in sample.messages]) if any(
            not isinstance(m.content, str) for m in sample.messages) else {}
        if refs:
            sample.inputs.setdefault("multi_modal_data", {}).update(refs)
        sample.metadata.setdefault("chat_template_mode", "chat" if sample.messages else "completion")
        return sample


class DatasetPreprocessor:
    """Plugin style of spec §6.5: `transform(sample_dict, **kwargs)` may edit the dict and returns the inputs."""

    def transform(self, sample: dict[str, Any], **kwargs: Any) -> Any:
        raise NotImplementedError


class PluginPreprocessor(BasePreprocessor):
    """Runs a DatasetPreprocessor inside the standard pipeline."""

    def __init__(self, plugin: DatasetPreprocessor, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plugin = plugin

    def to_sample(self, record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        fields = dict(record)
        inputs = self.plugin.transform(fields, **kwargs)
        if inputs is not None:
            fields["inputs"] = inputs if isinstance(inputs, dict) else {"prompt": str(inputs)}
        return fields
