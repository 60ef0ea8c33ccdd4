"""Replay: take model steps' outputs from an earlier run instead of calling the model (config `replay:`).

The earlier run's samples.jsonl is indexed once (byte offsets of each sample's successful record, so memory
stays small however large the run) and read back per sample. A replayed step appends the recorded
predict_result to the sample, exactly as the live step would have; judges and metrics then run as usual.
The recorded prompt must equal the prompt this run builds: an answer to another prompt is never scored.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from gage_eval.config.models import PipelineConfig, ReplaySpec
from gage_eval.errors import BackendError, ConfigError
from gage_eval.sample import PredictResult, append_predict_result

if TYPE_CHECKING:
    from gage_eval.steps.chain import StepChain
    from gage_eval.steps.context import StepContext

PREDICT_STEPS = ("inference", "arena")  # the steps that append to sample.predict_result


class NotGenerated(BackendError):
    """The replayed run holds no usable answer for this sample."""

    reason = "not generated"


def replayed_only_adapters(cfg: PipelineConfig) -> set[str]:
    """Adapters that only replayed steps use: they (and their backends) are not built."""
    if cfg.replay is None:
        return set()
    step_lists = [cfg.custom.steps] + [t.steps for t in cfg.tasks if t.steps is not None]
    replayed = {s.adapter_id for steps in step_lists for s in steps if s.step in cfg.replay.steps and s.adapter_id}
    live = {s.adapter_id for steps in step_lists for s in steps if s.step not in cfg.replay.steps and s.adapter_id}
    return replayed - live


class ReplaySource:
    """The successful records of an earlier run, by (task_id, sample_id)."""

    def __init__(self, spec: ReplaySpec, base_dir: Path | None = None) -> None:
        run_dir = Path(spec.run_dir).expanduser()
        if not run_dir.is_absolute() and base_dir is not None:
            run_dir = base_dir / run_dir
        self.run_dir = run_dir
        self.steps = tuple(spec.steps)
        self.path = run_dir / "samples.jsonl"
        if not self.path.is_file():
            raise ConfigError(f"no samples.jsonl in {run_dir}: nothing to replay", path="replay.run_dir",
                              fix="point replay.run_dir at the run that generated the answers (or run it first)")
        self._offsets: dict[tuple[str, str], int] = {}
        with self.path.open("rb") as fh:
            offset = 0
            for line in fh:
                start, offset = offset, offset + len(line)
                if not line.endswith(b"\n"):
                    continue  # a torn last line of a killed run
                try:
                    rec = orjson.loads(line)
                    key = (rec["task_id"], rec["sample_id"])
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    continue
                if rec.get("status", "ok") == "ok" and key not in self._offsets:
                    self._offsets[key] = start
        self._fh = self.path.open("rb")
        self.tasks = {task for task, _ in self._offsets}

    def __len__(self) -> int:
        return len(self._offsets)

    def source_digest(self) -> str | None:
        try:
            return orjson.loads((self.run_dir / "run_meta.json").read_bytes()).get("results_digest")
        except (OSError, orjson.JSONDecodeError):
            return None

    def record(self, task_id: str, sample_id: str) -> dict[str, Any] | None:
        offset = self._offsets.get((task_id, sample_id))
        if offset is None:
            return None
        # One event loop thread reads at a time, so seek + readline on the shared handle cannot interleave.
        self._fh.seek(offset)
        return orjson.loads(self._fh.readline())

    def close(self) -> None:
        self._fh.close()

    def describe(self) -> dict[str, Any]:
        return {"run_dir": str(self.run_dir), "steps": list(self.steps), "records": len(self),
                "source_results_digest": self.source_digest()}

    def step(self, ordinal: int):  # noqa: ANN201 - a pipeline step function
        """The step that stands in for the `ordinal`-th predict step of the chain."""

        async def replay_step(ctx: StepContext, adapter: Any, chain: StepChain) -> None:
            rec = self.record(ctx.task_id, ctx.sample.id)
            fix = f"generate the answers first (rerun the run in {self.run_dir} to finish it)"
            if rec is None:
                raise NotGenerated(f"no answer for sample '{ctx.sample.id}' of task '{ctx.task_id}' in {self.path}",
                                   fix=fix)
            results = rec.get("predict_result") or []
            if ordinal >= len(results):
                raise NotGenerated(f"sample '{ctx.sample.id}' has {len(results)} recorded model outputs in "
                                   f"{self.path}, step {ordinal + 1} is replayed", fix=fix)
            recorded = rec.get("sample") or {}
            now = ctx.sample.model_dump(mode="json", include={"messages", "inputs"})
            if recorded.get("messages") != now["messages"] or recorded.get("inputs") != now["inputs"]:
                raise NotGenerated(f"the answer recorded for sample '{ctx.sample.id}' in {self.path} was generated "
                                   "for a different prompt", fix="regenerate the answers with this config's "
                                   "dataset and prompt settings")
            result = append_predict_result(ctx.sample, PredictResult.model_validate(results[ordinal]))
            prompt_format = getattr(result, "prompt_format", None)
            if prompt_format:
                ctx.sample.metadata["prompt_format"] = prompt_format

        return replay_step
