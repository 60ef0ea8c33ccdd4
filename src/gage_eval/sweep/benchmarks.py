"""The sweep's benchmarks: each a small registered spec over builtin templates.

A spec says which builtin templates make up the benchmark (run as the tasks of one engine run per model),
which need log-likelihoods (left out for a model that cannot give them), which steps need the evaluated
model (the generate phase) and whether scoring needs the judge (the evaluate phase), how its dataset
arguments are built, which scores are its headline, and which files of the reference system it writes.
`register(spec)` adds one; `gage sweep --benchmarks` picks by name.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gage_eval.errors import ConfigError, close_match_hint
from gage_eval.sweep import reference_files as files
from gage_eval.sweep.config import BenchmarkSettings
from gage_eval.sweep.models import SweepModel

Z95 = 1.959963984540054
LIVEBENCH_CATEGORIES = ("math", "reasoning", "coding", "data_analysis", "language", "instruction_following")


@dataclass(frozen=True)
class Score:
    """A score in percent with its 95% CI and sample count."""

    value: float | None
    low: float | None = None
    high: float | None = None
    n: int | None = None


@dataclass(frozen=True)
class Headline:
    key: str  # column of leaderboard.csv: <benchmark>/<name>
    label: str
    task: str  # task id in the run
    metric: str  # the task metric read from summary.json
    read: Callable[[dict[str, Any]], Score] | None = None  # a summary-level figure (e.g. AlpacaEval's LC win rate)
    sample_metric: str | None = None  # per-sample values the paired test compares (default: metric)
    scale: float = 100.0  # to percent: 100 for a fraction, 1 for a metric already on a 0-100 scale

    @property
    def paired_metric(self) -> str:
        return self.sample_metric or self.metric

    def score(self, summary: dict[str, Any]) -> Score:
        if self.read is not None:
            return self.read(summary)
        return task_metric(summary, self.task, self.metric, self.scale)


def task_metric(summary: dict[str, Any], task: str, metric: str, scale: float = 100.0) -> Score:
    for t in summary.get("tasks") or []:
        if t.get("task_id") == task:
            agg = (t.get("metrics") or {}).get(metric) or {}
            value, ci = agg.get("value"), agg.get("ci95")
            if value is None:
                return Score(None)
            low, high = (ci if ci and None not in ci else (None, None))
            return Score(scale * value, None if low is None else scale * low, None if high is None else scale * high,
                         agg.get("count"))
    return Score(None)


def _alpaca_lc(summary: dict[str, Any]) -> Score:
    sections = summary.get("summary_generators") or {}
    lc = next((v for k, v in sections.items() if k.startswith("alpaca_eval_lc") and isinstance(v, dict)), {})
    value, se = lc.get("length_controlled_winrate"), lc.get("lc_standard_error")
    if value is None:
        return Score(None)
    if se is None:
        return Score(value, n=lc.get("annotated"))
    return Score(value, max(0.0, value - Z95 * se), min(100.0, value + Z95 * se), lc.get("annotated"))


@dataclass(frozen=True)
class SweepBenchmark:
    name: str
    templates: tuple[str, ...]
    headlines: tuple[Headline, ...]
    loglikelihood_templates: tuple[str, ...] = ()  # scored from prompt log-probabilities: only where the model can
    model_steps: tuple[str, ...] = ("support", "inference")  # run in the generate phase, with the model's server up
    judged: bool = False  # the evaluate phase calls the judge
    dataset_args: Callable[[BenchmarkSettings], dict[str, dict[str, Any]]] | None = None
    write_files: Callable[[files.FileContext], list[Any]] | None = None
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def templates_for(self, model: SweepModel) -> list[str]:
        return list(self.templates) + (list(self.loglikelihood_templates) if model.loglikelihood else [])

    def api_for(self, model: SweepModel) -> str:
        """Completions where a log-likelihood task is in the run (only completions echo prompt log-probabilities);
        chat otherwise, so the server applies the checkpoint's chat template."""
        return "completions" if model.loglikelihood and self.loglikelihood_templates else "chat"

    def args_for(self, settings: BenchmarkSettings) -> dict[str, dict[str, Any]]:
        base = self.dataset_args(settings) if self.dataset_args else {}
        for template, args in settings.dataset_args.items():
            if template not in (*self.templates, *self.loglikelihood_templates):
                raise ConfigError(f"benchmark '{self.name}' has no template '{template}'",
                                  path=f"benchmarks.{self.name}.dataset_args.{template}",
                                  fix=close_match_hint(template, [*self.templates, *self.loglikelihood_templates]))
            base[template] = {**base.get(template, {}), **args}
        return base


def _livebench_args(settings: BenchmarkSettings) -> dict[str, dict[str, Any]]:
    categories = settings.categories or list(LIVEBENCH_CATEGORIES)
    unknown = [c for c in categories if c not in LIVEBENCH_CATEGORIES]
    if unknown:
        raise ConfigError(f"unknown LiveBench category '{unknown[0]}'", path="benchmarks.livebench.categories",
                          fix=close_match_hint(unknown[0], LIVEBENCH_CATEGORIES))
    args: dict[str, Any] = {"subset_list": categories}
    if settings.release:
        args["preprocess_kwargs"] = {"release": settings.release}
    return {"livebench": args}


_REGISTRY: dict[str, SweepBenchmark] = {}


def register(spec: SweepBenchmark) -> SweepBenchmark:
    _REGISTRY[spec.name] = spec
    return spec


def get(name: str, where: str = "--benchmarks") -> SweepBenchmark:
    if name not in _REGISTRY:
        raise ConfigError(f"unknown sweep benchmark '{name}'", path=where,
                          fix=close_match_hint(name, _REGISTRY, label="sweep benchmarks"))
    return _REGISTRY[name]


def names() -> list[str]:
    return list(_REGISTRY)


register(SweepBenchmark(
    "ifeval", ("ifeval",), description="IFEval: strict / loose accuracy, prompt and instruction level",
    headlines=(Headline("ifeval/prompt_level_strict_acc", "IFEval prompt-level strict", "ifeval",
                        "prompt_level_strict_acc"),
               Headline("ifeval/inst_level_strict_acc", "IFEval instruction-level strict", "ifeval",
                        "inst_level_strict_acc"),
               Headline("ifeval/prompt_level_loose_acc", "IFEval prompt-level loose", "ifeval",
                        "prompt_level_loose_acc"),
               Headline("ifeval/inst_level_loose_acc", "IFEval instruction-level loose", "ifeval",
                        "inst_level_loose_acc")),
    write_files=files.ifeval))
register(SweepBenchmark(
    "truthfulqa", ("truthfulqa_gen",), loglikelihood_templates=("truthfulqa_mc1", "truthfulqa_mc2"), judged=True,
    description="TruthfulQA: judged truthful and informative; MC1 / MC2 where the model gives log-probabilities",
    headlines=(Headline("truthfulqa/truthful_and_informative", "TruthfulQA truthful & informative",
                        "truthfulqa_gen", "truthful_and_informative"),
               Headline("truthfulqa/truthful", "TruthfulQA truthful", "truthfulqa_gen", "truthful"),
               Headline("truthfulqa/informative", "TruthfulQA informative", "truthfulqa_gen", "informative"),
               Headline("truthfulqa/mc1", "TruthfulQA MC1", "truthfulqa_mc1", "acc"),
               Headline("truthfulqa/mc2", "TruthfulQA MC2", "truthfulqa_mc2", "mc2")),
    write_files=files.truthfulqa))
register(SweepBenchmark(
    "alpacaeval", ("alpaca_eval2",), judged=True,
    description="AlpacaEval 2: length-controlled win rate and win rate against the reference outputs",
    headlines=(Headline("alpacaeval/length_controlled_winrate", "AlpacaEval 2 LC win rate", "alpaca_eval2",
                        "win_rate", read=_alpaca_lc),
               Headline("alpacaeval/win_rate", "AlpacaEval 2 win rate", "alpaca_eval2", "win_rate")),
    write_files=files.alpacaeval))
register(SweepBenchmark(
    "livebench", ("livebench",), dataset_args=_livebench_args,
    description="LiveBench: ground-truth scored categories; the average over categories",
    # The benchmark's own aggregates, on LiveBench's 0-100 scale: overall = mean of categories, a category = mean
    # of its tasks; the paired test compares per-question scores.
    headlines=(Headline("livebench/overall", "LiveBench overall", "livebench", "livebench_overall",
                        sample_metric="livebench_score", scale=1.0),
               *(Headline(f"livebench/{c}", f"LiveBench {c.replace('_', ' ')}", "livebench", f"livebench_{c}",
                          sample_metric="livebench_score", scale=1.0) for c in LIVEBENCH_CATEGORIES)),
    write_files=files.livebench))
