"""What a sweep evaluates: the checkpoints of a folder, one local model, a hub id, or already-running servers.

A folder whose sub-folders hold models is a training run: each sub-folder is one checkpoint, ordered by the
number in its name (`checkpoint-100`, `step-200`, `global_step300`). Nothing here starts a server.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gage_eval.errors import ConfigError

_STEP = re.compile(r"(?:checkpoint|ckpt|global_step|step|iter|iteration|epoch)[-_]?(\d+)", re.I)
_TRAILING = re.compile(r"(\d+)$")
_WEIGHTS = ("*.safetensors", "*.bin", "*.pt", "*.pth", "*.gguf", "*.msgpack", "*.h5")


@dataclass(frozen=True)
class SweepModel:
    name: str  # folder-safe; names the runs and outputs of this model
    step: int | None  # the training step, for the score-vs-step plot
    source: str | None = None  # a local path or hub id the sweep serves (None: an already-running server)
    api_base: str | None = None  # an already-running OpenAI-compatible server (config-file mode)
    api_name: str | None = None  # the model name that server expects
    api_key_env: str | None = None
    loglikelihood: bool = True  # /v1/completions returns prompt log-probabilities (echo): TruthfulQA MC is scored

    @property
    def launched(self) -> bool:
        return self.api_base is None


def checkpoint_step(name: str) -> int | None:
    match = _STEP.search(name) or _TRAILING.search(name)
    return int(match.group(1)) if match else None


def safe_name(name: str) -> str:
    return re.sub(r"[^\w.-]", "_", name.replace("/", "__")).strip("._") or "model"


def has_model_files(folder: Path) -> bool:
    """A transformers-style checkpoint: config.json and a weights file."""
    return (folder / "config.json").is_file() and any(any(folder.glob(p)) for p in _WEIGHTS)


def _looks_like_path(text: str) -> bool:
    return text.startswith((".", "/", "~")) or text.count("/") != 1 or "\\" in text


def discover(model_input: str, hub_check: Callable[[str], None] | None = None) -> list[SweepModel]:
    """The models of MODEL_INPUT, in step order; errors name the input and what a model folder holds."""
    path = Path(model_input).expanduser()
    expected = "config.json and weights (*.safetensors or *.bin)"
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"'{model_input}' is a file, not a model folder", path="MODEL_INPUT",
                              fix="pass a checkpoint folder, a folder of checkpoints, or a hub model id")
        if has_model_files(path):
            return [SweepModel(safe_name(path.resolve().name), checkpoint_step(path.resolve().name),
                               source=str(path.resolve()))]
        entries = sorted(path.iterdir())
        if not entries:
            raise ConfigError(f"folder '{model_input}' is empty: no checkpoints to evaluate", path="MODEL_INPUT",
                              fix=f"point at the training run's output folder, whose sub-folders (checkpoint-100, "
                                  f"...) each hold {expected}")
        models = [SweepModel(safe_name(d.name), checkpoint_step(d.name), source=str(d.resolve()))
                  for d in entries if d.is_dir() and has_model_files(d)]
        if not models:
            subs = [d.name for d in entries if d.is_dir()][:5]
            raise ConfigError(f"no model files in '{model_input}' or its sub-folders"
                              + (f" ({', '.join(subs)}{', ...' if len(subs) == 5 else ''})" if subs else ""),
                              path="MODEL_INPUT", fix=f"a model folder holds {expected}; point at a checkpoint "
                                                      "or at the folder whose sub-folders are checkpoints")
        return sorted(models, key=lambda m: (m.step is None, m.step or 0, m.name))
    if _looks_like_path(model_input):
        raise ConfigError(f"model path '{model_input}' does not exist", path="MODEL_INPUT",
                          fix="check the path, or give a hub model id such as Qwen/Qwen2.5-0.5B-Instruct")
    (hub_check or check_hub_model)(model_input)
    return [SweepModel(safe_name(model_input), checkpoint_step(model_input.split("/")[-1]), source=model_input)]


def check_hub_model(repo_id: str) -> None:
    """A hub id the server can load: already in the local cache, or the hub answers for it."""
    try:
        from huggingface_hub import HfApi, snapshot_download
    except ImportError:  # pragma: no cover - datasets depends on huggingface_hub
        return
    try:
        snapshot_download(repo_id, local_files_only=True)
        return
    except Exception:  # noqa: BLE001 - not cached: ask the hub
        pass
    try:
        HfApi().model_info(repo_id, timeout=10)
    except Exception as exc:  # noqa: BLE001 - offline, unknown repo, gated: all end the same way
        reason = type(exc).__name__ + (f": {str(exc).splitlines()[0][:200]}" if str(exc) else "")
        raise ConfigError(f"hub model '{repo_id}' is not in the local cache and the hub cannot be reached for it "
                          f"({reason})", path="MODEL_INPUT",
                          fix=f"download it where there is network (`huggingface-cli download {repo_id} --local-dir "
                              "DIR`) and pass DIR, or check the id") from None
