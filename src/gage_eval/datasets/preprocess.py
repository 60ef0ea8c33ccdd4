"""The preprocess pipeline of spec §4.2.4: every raw record becomes a validated, standard Sample.

`BasePreprocessor.transform` is the template method; subclasses override `to_sample` only:

1. role cleanup of ``record["messages"]`` (human/gpt/bot... -> user/assistant; empty turns dropped)
2. ``to_sample(record, **preprocess_kwargs)`` -> Sample fields (a dict)
3. inputs normalize: ``inputs.prompt`` from the messages, or a single user message from the prompt
4. validation into `Sample` (errors name the file, record number and field); the id is settled first
   because the schema requires it: the record's ``id``/``sample_id``/``idx``, else ``{dataset_id}_{index}``
5. doc_to_text / doc_to_visual / doc_to_audio hooks
6. multimodal merge: image/audio refs of the messages -> ``inputs.multi_modal_data``
7. ``metadata.chat_template_mode``: "chat" when the record/to_sample gave messages, "completion" when
   only a prompt (its single user message is synthesized in step 3)

Hooks are resolved once per dataset. A hook is called as ``hook(sample, **kwargs)``; it receives the
preprocess_kwargs it names as parameters, its own ``doc_to_<x>_kwargs``, and the raw record when it has a
``record`` parameter. It may edit the sample in place and return None, or return a value: doc_to_text a
string (the new prompt text), doc_to_visual / doc_to_audio one item or a list (URL, path, data URL, bytes,
PIL image or {"bytes"/"path"} dict) that is appended to the first user message as image/audio parts.
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from gage_eval.datasets.hooks import media_to_url
from gage_eval.datasets.media_parts import _first_user, add_media_parts, normalize_media
from gage_eval.errors import ConfigError, DatasetError
from gage_eval.registry import registry
from gage_eval.sample import Sample

ROLE_ALIASES = {
    "user": "user", "human": "user", "prompter": "user", "usr": "user",
    "assistant": "assistant", "gpt": "assistant", "bot": "assistant", "model": "assistant", "ai": "assistant",
    "chatbot": "assistant", "system": "system", "tool": "tool", "function": "tool", "ipython": "tool",
}
HOOK_NAMES = ("doc_to_text", "doc_to_visual", "doc_to_audio")
_HOOK_PART = {"doc_to_visual": "image_url", "doc_to_audio": "audio_url"}
_ID_KEYS = ("id", "sample_id", "idx")


class RecordError(ValueError):
    """Raised by `to_sample` (or the pipeline) when a record does not fit; `field` names the culprit."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _is_empty(content: Any) -> bool:
    return content is None or (isinstance(content, str) and not content.strip()) or content == []


def clean_messages(messages: Any, key: str = "messages") -> list[dict[str, Any]]:
    """Normalize role names (ShareGPT's from/value too) and drop empty turns; unknown roles are errors."""
    if not isinstance(messages, list):
        raise RecordError(f"'{key}' must be a list of {{role, content}} objects, not {type(messages).__name__}", key)
    out: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise RecordError(f"{key}[{i}] is a {type(m).__name__}, not an object", f"{key}[{i}]")
        raw_role = m.get("role", m.get("from"))
        role = ROLE_ALIASES.get(str(raw_role).strip().lower()) if raw_role is not None else None
        if role is None:
            raise RecordError(f"{key}[{i}] has unknown role {raw_role!r} (known: {', '.join(sorted(ROLE_ALIASES))})",
                              f"{key}[{i}].role")
        content = m["content"] if "content" in m else m.get("value")
        if _is_empty(content):
            continue
        if role != raw_role or "from" in m or "value" in m:
            m = {k: v for k, v in m.items() if k not in ("from", "value")}
            m["role"], m["content"] = role, content
        out.append(m)
    return out


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


@dataclass(frozen=True, slots=True)
class Hook:
    name: str
    fn: Callable[..., Any]
    kwargs: dict[str, Any]
    wants_record: bool


def resolve_hooks(params: Mapping[str, Any], preprocess_kwargs: Mapping[str, Any],
                  config_path: str | None = None) -> list[Hook]:
    """Resolve doc_to_* hooks once: registry names (kind doc_converters), `module:attr` paths or callables."""
    hooks = []
    for name in HOOK_NAMES:
        spec = params.get(name)
        if not spec:
            continue
        where = f"{config_path}.params.{name}" if config_path else f"params.{name}"
        fn = spec if callable(spec) else registry.get("doc_converters", str(spec), config_path=where)
        if not callable(fn):
            raise ConfigError(f"{name} '{spec}' is not callable", path=where,
                              fix="name a function taking the sample, as 'package.module:function'")
        explicit = params.get(f"{name}_kwargs") or {}
        if not isinstance(explicit, dict):
            raise ConfigError(f"{name}_kwargs must be a mapping", path=f"{where}_kwargs")
        try:
            parameters = inspect.signature(fn).parameters
        except (TypeError, ValueError):  # some builtins have no signature: give them only what was asked
            parameters = {}
        named = {p.name for p in parameters.values()
                 if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
        kwargs = {k: v for k, v in preprocess_kwargs.items() if k in named and k != "record"}
        kwargs.update(explicit)
        unknown = [k for k in kwargs if k not in named] if parameters and not takes_any else []
        if unknown:
            raise ConfigError(f"{name} '{spec}' takes no parameter '{unknown[0]}'", path=f"{where}_kwargs",
                              fix=f"its parameters are: {', '.join(sorted(named)) or '(none)'}")
        hooks.append(Hook(name, fn, kwargs, "record" in named))
    return hooks


class BasePreprocessor:
    """Map a raw record to Sample fields in `to_sample`; `transform` runs the rest of the pipeline."""

    name = "base"
    #: Record fields checked before `to_sample`, so a missing one is reported by name.
    required_fields: tuple[str, ...] = ()

    def __init__(self, dataset_id: str = "", source: str = "", hooks: Mapping[str, Any] | None = None, *,
                 config_path: str | None = None, number_unit: str = "record", **kwargs: Any) -> None:
        self.dataset_id = dataset_id
        self.source = source
        self.number_unit = number_unit
        self.kwargs = kwargs
        self.hooks = resolve_hooks(hooks or {}, kwargs, config_path)
        # Relative media paths are read next to the dataset file when they are not under the working directory.
        folder = Path(source).expanduser().parent if source and Path(source).expanduser().is_file() else None
        self._media_roots = (folder,) if folder is not None else ()

    def to_sample(self, record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError

    # -- the template method ---------------------------------------------------------------------------
    def transform(self, record: dict[str, Any], index: int, number: int | None = None) -> Sample:
        """`index` is the 0-based position (used for derived ids), `number` the loader's record/line number."""
        try:
            return self._pipeline(record, index)
        except RecordError as exc:
            field = f" (field '{exc.field}')" if exc.field and f"'{exc.field}'" not in str(exc) else ""
            raise self._error(index, number, f"{exc}{field}",
                              "fix the record, or choose a preprocessor (params.preprocess) that matches the "
                              "file's schema") from None

    def _pipeline(self, record: dict[str, Any], index: int) -> Sample:
        for key in self.required_fields:
            if record.get(key) in (None, ""):
                raise RecordError(f"missing field '{key}' (record has: {_keys(record)})", key)
        if "messages" in record:  # 1. role cleanup
            record = {**record, "messages": clean_messages(record["messages"])}
        try:  # 2. dataset-specific mapping
            fields = self.to_sample(record, **self.kwargs)
        except KeyError as exc:
            raise RecordError(f"missing field {exc} (record has: {_keys(record)})", str(exc.args[0])) from None
        except (ValueError, TypeError, IndexError, AttributeError) as exc:
            if isinstance(exc, RecordError):
                raise
            raise RecordError(f"{self.name} preprocessing failed: {type(exc).__name__}: {exc}") from None
        if isinstance(fields, Sample):
            fields = fields.model_dump()
        elif not isinstance(fields, dict):
            raise RecordError(f"{type(self).__name__}.to_sample returned {type(fields).__name__}, not a dict")
        has_messages = bool(fields.get("messages"))
        self._normalize_inputs(fields, has_messages)  # 3.
        raw_id = fields.get("id")  # 4. id, then schema validation
        if raw_id in (None, ""):
            raw_id = next((record[k] for k in _ID_KEYS if record.get(k) not in (None, "")), None)
        fields["id"] = f"{self.dataset_id}_{index}" if raw_id is None else str(raw_id)
        try:
            sample = Sample.model_validate(fields)
        except ValidationError as exc:
            raise _schema_error(exc) from None
        for hook in self.hooks:  # 5.
            self._run_hook(hook, sample, record)
        if self.hooks or "multi_modal_data" in sample.inputs or any(
                type(m.content) is not str for m in sample.messages):
            normalize_media(sample, self._media_roots)  # 6.
        if "chat_template_mode" not in sample.metadata:  # 7.
            sample.metadata["chat_template_mode"] = "chat" if has_messages else "completion"
        return sample

    @staticmethod
    def _normalize_inputs(fields: dict[str, Any], has_messages: bool) -> None:
        inputs = fields.get("inputs")
        if inputs is None:
            inputs = {}
        elif isinstance(inputs, str):
            inputs = {"prompt": inputs}
        elif isinstance(inputs, dict):
            inputs = dict(inputs)
        else:
            raise RecordError(f"'inputs' must be an object or a string, not {type(inputs).__name__}", "inputs")
        prompt = fields.pop("prompt", None)
        if prompt is None:
            prompt = inputs.get("prompt")
        if prompt is not None:
            inputs["prompt"] = prompt if isinstance(prompt, str) else str(prompt)
            if not has_messages:
                fields["messages"] = [{"role": "user", "content": inputs["prompt"]}]
        elif has_messages:
            inputs["prompt"] = "\n".join(content_text(m.get("content")) for m in fields["messages"]
                                         if isinstance(m, dict) and m.get("role") in ("system", "user"))
        fields["inputs"] = inputs

    def _run_hook(self, hook: Hook, sample: Sample, record: dict[str, Any]) -> None:
        try:
            result = hook.fn(sample, record=record, **hook.kwargs) if hook.wants_record else hook.fn(
                sample, **hook.kwargs)
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - user code: report which hook failed on which record
            problem = exc.message if isinstance(exc, DatasetError) else f"{type(exc).__name__}: {exc}"
            raise RecordError(f"{hook.name} hook {getattr(hook.fn, '__name__', hook.fn)!s} failed: "
                              f"{problem}") from None
        if result is None:
            return
        if hook.name == "doc_to_text":
            if not isinstance(result, str):
                raise RecordError(f"doc_to_text returned {type(result).__name__}, not a string")
            set_prompt_text(sample, result)
        else:
            items = result if isinstance(result, (list, tuple)) else [result]
            add_media_parts(sample, _HOOK_PART[hook.name], [media_to_url(item) for item in items])

    def _error(self, index: int, number: int | None, message: str, fix: str) -> DatasetError:
        where = f"record {index + 1}"
        if number is not None and number != index + 1 and self.number_unit != "record":
            where += f" ({self.number_unit} {number})"
        return DatasetError(f"{where}: {message}", file=self.source or None, fix=fix)


_TYPE_TAG = re.compile(r"^(str|int|float|bool|none|list|dict|tuple|set|function-\w+)(\[.*\])?$")


def _schema_error(exc: ValidationError) -> RecordError:
    """The first failing field, with union-member tags (`content.str`, `content.list[...]`) folded away."""
    fields: dict[str, dict[str, Any]] = {}
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        while len(loc) > 1 and _TYPE_TAG.match(loc[-1]):
            loc.pop()
        fields.setdefault(".".join(loc), err)
    where, err = next(iter(fields.items()))
    got = repr(err.get("input"))
    got = got if len(got) <= 60 else got[:57] + "..."
    more = f" (and {len(fields) - 1} more field(s))" if len(fields) > 1 else ""
    return RecordError(f"field '{where}': {err['msg']} (got {got}){more}", where)


def _keys(record: Mapping[str, Any]) -> str:
    keys = ", ".join(sorted(map(str, record)))
    return keys if len(keys) <= 200 else keys[:197] + "..."


def set_prompt_text(sample: Sample, text: str) -> None:
    """The prompt text becomes `text`, in inputs.prompt and in the first user message (media parts kept)."""
    sample.inputs["prompt"] = text
    message = _first_user(sample)
    if isinstance(message.content, str):
        message.content = text
    else:
        message.content = [{"type": "text", "text": text}] + [p for p in message.content if p.get("type") != "text"]


class DatasetPreprocessor:
    """Plugin style of spec §6.5: `transform(sample, **kwargs)` edits the record dict and returns the inputs.

    The return value may be the inputs dict, a prompt string, the (edited) dict itself, None (edited in
    place) or a full sample dict (one with messages/choices/label/references). The standard pipeline
    then runs around it, so plugins get role cleanup, validation, hooks and ids for free.
    """

    name = "plugin"

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def transform(self, sample: dict[str, Any], **kwargs: Any) -> Any:
        raise NotImplementedError


_SAMPLE_SHAPE = ("messages", "choices", "label", "references")


class PluginPreprocessor(BasePreprocessor):
    """Runs an object that only has `transform` (DatasetPreprocessor style) inside the standard pipeline."""

    def __init__(self, plugin: Any, **kwargs: Any) -> None:
        self.plugin = plugin
        self.name = str(getattr(plugin, "name", type(plugin).__name__))
        super().__init__(**kwargs)

    def to_sample(self, record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        fields = dict(record)  # the plugin may edit it; the loader's record stays intact for hooks
        out = self.plugin.transform(fields, **kwargs)
        if out is None or out is fields:
            return fields
        if isinstance(out, Sample):
            return out.model_dump()
        if isinstance(out, dict):
            if any(k in out for k in _SAMPLE_SHAPE):
                return out
            fields["inputs"] = out
        elif isinstance(out, str):
            fields["inputs"] = {**(fields.get("inputs") or {}), "prompt": out}
        else:
            raise RecordError(f"{self.name}.transform returned {type(out).__name__}; return the inputs dict, "
                              "a prompt string or the sample dict")
        return fields


class FunctionPreprocessor(BasePreprocessor):
    """A plain `to_sample(record, **kwargs) -> dict` callable (or an object with such a method)."""

    def __init__(self, fn: Callable[..., Any], **kwargs: Any) -> None:
        self.fn = fn
        self.name = str(getattr(fn, "__name__", type(fn).__name__))
        super().__init__(**kwargs)

    def to_sample(self, record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self.fn(record, **kwargs)


def make_preprocessor(obj: Any, *, where: str = "params.preprocess", **common: Any) -> BasePreprocessor:
    """Build a preprocessor from what the registry returned: a BasePreprocessor subclass, a class or object
    with `to_sample` or only `transform` (plugin style, wrapped), or a plain to_sample function."""
    if isinstance(obj, BasePreprocessor):
        return obj
    if isinstance(obj, type) and issubclass(obj, BasePreprocessor):
        return obj(**common)
    if isinstance(obj, type):
        kwargs = {k: v for k, v in common.items() if k not in ("dataset_id", "source", "hooks", "config_path",
                                                               "number_unit")}
        obj = obj(**kwargs) if issubclass(obj, DatasetPreprocessor) else obj()
    if callable(getattr(obj, "to_sample", None)):
        return FunctionPreprocessor(obj.to_sample, **common)
    if callable(getattr(obj, "transform", None)):
        return PluginPreprocessor(obj, **common)
    if callable(obj):
        return FunctionPreprocessor(obj, **common)
    raise ConfigError(f"{obj!r} is not a preprocessor", path=where,
                      fix="register a BasePreprocessor subclass (override to_sample) or a class with transform()")
