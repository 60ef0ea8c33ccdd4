"""MATH-500 and MATH: math-verify scoring equal to direct math_verify calls, output by output; MATH's
reference answers equal lm-eval's hendrycks_math extraction; fixtures in the published schemas.

The reference for scoring is math-verify used as its README documents: ``verify(parse(gold), parse(pred))``
with default settings, called here in the main thread. lm-eval's hendrycks_math ``process_results`` (string
normalization of the text between the first and last ``$``) is compared too; it is a different scorer, so
its differences are asserted as documented, not forced to agree. (lm-eval's minerva_math utils cannot be
imported here: they require antlr4 4.11, while math-verify's latex2sympy needs 4.13.)
"""
from __future__ import annotations

import asyncio
import copy
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import gage_eval
from gage_eval.benchmarks.math500.boxed import (
    boxed_answer,
    last_boxed_only_string,
    remove_boxed,
)
from gage_eval.benchmarks.math500.metric import MathVerifyAccuracy, gold_text
from gage_eval.benchmarks.math500.preprocess import INSTRUCTION
from gage_eval.config.models import DatasetSpec, MetricSpec
from gage_eval.config.templates import load_template
from gage_eval.datasets import iter_samples
from gage_eval.errors import ConfigError, DatasetError
from gage_eval.metrics import build_metric
from gage_eval.metrics.base import MetricContext
from gage_eval.sample import Sample

from .conftest import write_jsonl

math_verify = pytest.importorskip("math_verify")
hendrycks = pytest.importorskip("lm_eval.tasks.hendrycks_math.utils")

BENCH = Path(__file__).resolve().parents[1] / "src/gage_eval/benchmarks"

# (reference answer, model output)
CASES: list[tuple[str, str]] = [
    ("18", "The answer is \\boxed{18}."), ("18", "\\boxed{18.0}"), ("18", "\\boxed{19}"),
    ("\\frac{1}{2}", "\\boxed{0.5}"), ("\\frac{1}{2}", "\\boxed{\\dfrac{1}{2}}"), ("\\frac{1}{2}", "\\boxed{\\tfrac12}"),
    ("\\frac{1}{2}", "\\boxed{1/2}"), ("\\frac{1}{2}", "so $x = \\frac{1}{2}$"), ("\\frac{1}{3}", "\\boxed{0.333}"),
    ("\\frac{1}{3}", "\\boxed{0.3333333}"), ("[2,5)", "\\boxed{[2,5)}"), ("[2,5)", "\\boxed{[2,5]}"),
    ("[2,5)", "\\boxed{2 \\le x < 5}"), ("(-\\infty, 3)", "\\boxed{(-\\infty,3)}"),
    ("\\{1,2,3\\}", "\\boxed{\\{3,2,1\\}}"), ("1, 2, 3", "\\boxed{3, 2, 1}"), ("\\text{Devon}", "\\boxed{\\text{Devon}}"),
    ("\\text{(C)}", "\\boxed{C}"), ("\\text{(C)}", "The answer is (C)."), ("10\\%", "\\boxed{10\\%}"),
    ("10\\%", "\\boxed{0.1}"), ("10\\%", "\\boxed{10}"), ("30^\\circ", "\\boxed{30^\\circ}"), ("30^\\circ", "\\boxed{30}"),
    ("30^\\circ", "\\boxed{\\frac{\\pi}{6}}"), ("\\$18.90", "\\boxed{\\$18.90}"), ("\\$18.90", "\\boxed{18.9}"),
    ("5\\text{ cm}", "\\boxed{5}"), ("5\\text{ cm}", "\\boxed{5 \\text{ cm}}"), ("3\\sqrt{13}", "\\boxed{\\sqrt{117}}"),
    ("3\\sqrt{13}", "\\boxed{3\\sqrt{13}}"), ("2\\sqrt{2}", "\\boxed{2.828}"), ("\\pi", "\\boxed{3.14159}"),
    ("x^2+2x+1", "\\boxed{(x+1)^2}"), ("y = 2x + 3", "\\boxed{y=2x+3}"), ("y = 2x + 3", "\\boxed{2x+3}"),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\boxed{\\begin{pmatrix}1\\\\2\\end{pmatrix}}"),
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "\\boxed{(3, \\frac{\\pi}{2})}"), ("-5", "\\boxed{-5}"), ("-5", "\\boxed{5}"),
    ("1000000", "\\boxed{1,000,000}"), ("1000000", "\\boxed{10^6}"), ("6", "First \\boxed{5}, wait, actually \\boxed{6}"),
    ("6", "\\boxed{6} but then \\boxed{5}"), ("6", "no box, the answer is 6"),
    ("6", "Final Answer: The final answer is $6$. I hope it is correct."), ("6", ""), ("6", "I cannot solve this."),
    ("\\frac{\\sqrt{3}}{2}", "\\boxed{\\frac{\\sqrt3}2}"), ("\\frac{\\sqrt{3}}{2}", "\\boxed{\\sin 60^\\circ}"),
    ("\\frac{a+b}{c}", "\\boxed{\\frac{a+b}{c}}"), ("\\frac{1}{\\frac{1}{2}+1}", "\\boxed{\\frac{2}{3}}"),
    ("\\binom{3}{2}", "\\boxed{3}"), ("2^{10}", "\\boxed{1024}"), ("\\infty", "\\boxed{\\infty}"), ("0", "\\boxed{0}"),
    ("0", "\\boxed{}"), ("12", "$\\boxed{12}$ dollars"), ("12", "\\fbox{12}"), ("\\text{even}", "\\boxed{\\text{even}}"),
    ("\\text{even}", "\\boxed{\\text{odd}}"), ("x \\in [-2,7]", "\\boxed{[-2,7]}"),
    ("-1, 4", "\\boxed{x=-1 \\text{ or } x=4}"), ("6", "The answer is 6."), ("1.5", "\\boxed{\\frac{3}{2}}"),
    ("\\frac{3}{2}", "\\boxed{1\\frac{1}{2}}"), ("5", "$$\\boxed{5}$$"), ("5", "\\[\\boxed{5}\\]"),
    ("\\sqrt{2}", "\\boxed{\\sqrt2}"), ("\\sqrt{2}", "\\boxed{\\sqrt{2}} \\boxed{\\sqrt{3}}"),
    ("4", "\\boxed{\\boxed{4}}"), ("\\{2\\}", "\\boxed{\\{2\\}}"), ("7", "The answer is ７."),
]


def _ctx(reference: Any, output: str) -> MetricContext:
    return MetricContext(Sample(id="s", references=[reference], label=reference), {"answer": output}, {})


def _reference(gold: str, output: str) -> tuple[bool, list[Any]]:
    pred = math_verify.parse(output)
    return bool(math_verify.verify(math_verify.parse(gold_text(gold)), pred)), pred


def test_accuracy_equals_direct_math_verify_on_every_output() -> None:
    assert len(CASES) >= 60
    metric = build_metric(MetricSpec(metric_id="m", implementation="math_verify_accuracy"))
    correct = unparsed = 0
    for gold, output in CASES:
        expected, pred = _reference(gold, output)
        result = metric.evaluate(_ctx(gold, output))
        assert result.values == {"accuracy": float(expected)}, (gold, output)
        assert result.details["unparsed"] == (not pred), (gold, output)
        assert result.details["extracted"] == (str(pred[-1]) if pred else None)
        assert "error" not in result.details and "gold_unparsed" not in result.details, (gold, output)
        correct += expected
        unparsed += not pred
    assert 20 < correct < len(CASES) - 10 and unparsed >= 3  # the cases exercise every outcome


def test_known_differences_from_lm_eval_hendrycks_math_string_match() -> None:
    def lm(gold: str, output: str) -> int:
        return hendrycks.process_results({"solution": f"\\boxed{{{gold}}}"}, [output])["exact_match"]

    metric = MathVerifyAccuracy("m")
    score = lambda gold, out: metric.evaluate(_ctx(gold, out)).values["accuracy"]
    # lm-eval expects the answer between $...$: both accept that form when the strings normalize equally
    for gold in ("18", "\\frac{1}{2}", "[2,5)", "\\text{(C)}", "-5", "3\\sqrt{13}"):
        assert lm(gold, f"The answer is ${gold}$") == 1 and score(gold, f"The answer is ${gold}$") == 1.0
    # a bare \boxed{} answer: lm-eval compares the whole output text, so only math-verify reads it
    assert (lm("18", "\\boxed{18}"), score("18", "\\boxed{18}")) == (0, 1.0)
    # mathematically equal but differently written: math-verify's symbolic check accepts, string match does not
    assert (lm("3\\sqrt{13}", "$\\sqrt{117}$"), score("3\\sqrt{13}", "$\\sqrt{117}$")) == (0, 1.0)
    assert (lm("10\\%", "$0.1$"), score("10\\%", "$0.1$")) == (0, 1.0)
    # its normalization maps 0.5 to \frac{1}{2} too: there they agree
    assert (lm("\\frac{1}{2}", "$0.5$"), score("\\frac{1}{2}", "$0.5$")) == (1, 1.0)


SOLUTIONS = [
    "So $x = \\boxed{5}$.", "First \\boxed{1}, then \\boxed{\\frac{1}{2}}.", "Nested: \\boxed{\\frac{\\sqrt{3}}{2}}",
    "Space form: $\\boxed 7$ done", "Old style \\fbox{9}", "Unclosed \\boxed{3", "No answer at all.",
    "\\boxed{\\{1, 2\\}} and text", "Both \\fbox{1} and \\boxed{2}", "\\boxed{\\text{(A)}}", "\\boxed{}", "",
    "$\\boxed{x \\in \\left[ -2, 7 \\right]}$", "Two spaces \\boxed  4$", "\\boxed{a}\\boxed{b}",
]


def test_boxed_answer_equals_lm_evals_helpers() -> None:
    for solution in SOLUTIONS:
        boxed = hendrycks.last_boxed_only_string(solution)
        assert last_boxed_only_string(solution) == boxed, solution
        try:
            expected = hendrycks.remove_boxed(boxed)
        except (AssertionError, TypeError):  # lm-eval asserts (or fails on None) where we return None
            expected = None
        assert remove_boxed(boxed) == expected == boxed_answer(solution), solution


MATH500 = [
    {"problem": "Convert the point $(0,3)$ in rectangular coordinates to polar coordinates.",
     "solution": "We have $r = 3$ and $\\theta = \\frac{\\pi}{2}$, so $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}$.",
     "answer": "\\left( 3, \\frac{\\pi}{2} \\right)", "subject": "Precalculus", "level": 2,
     "unique_id": "test/precalculus/807.json"},
    {"problem": "What is $1+1$?", "solution": "It is $\\boxed{2}$.", "answer": "2", "subject": "Prealgebra",
     "level": 1, "unique_id": "test/prealgebra/1.json"},
]


def _math500_spec(path: Path) -> DatasetSpec:
    return DatasetSpec(dataset_id="math500", loader="hf_hub",
                       hub_params={"hub_id": "HuggingFaceH4/MATH-500", "split": "test"},
                       params={"path": str(path), "preprocess": "math500"})


def test_math500_fixture_gives_boxed_prompts_and_references(tmp_path: Path) -> None:
    samples = list(iter_samples(_math500_spec(write_jsonl(tmp_path / "test.jsonl", MATH500))))
    assert [s.id for s in samples] == ["test/precalculus/807.json", "test/prealgebra/1.json"]
    first = samples[0]
    assert first.messages[0].content == f"{MATH500[0]['problem']}\n{INSTRUCTION}"
    assert INSTRUCTION == "Please reason step by step, and put your final answer within \\boxed{}."
    assert first.references == [MATH500[0]["answer"]]
    assert first.metadata["subject"] == "Precalculus" and first.metadata["level"] == 2
    chat = next(iter_samples(DatasetSpec(**{**_math500_spec(tmp_path / "test.jsonl").model_dump(by_alias=True),
                                            "params": {"path": str(tmp_path / "test.jsonl"), "preprocess": "math500",
                                                       "preprocess_kwargs": {"style": "chat"}}})))
    assert [(m.role, m.content) for m in chat.messages] == [("user", first.messages[0].content)]
    score = MathVerifyAccuracy("m").evaluate(MetricContext(first, {"answer": "So \\boxed{(3, \\frac{\\pi}{2})}"}, {}))
    assert score.values == {"accuracy": 1.0}


def test_math500_record_without_answer_names_file_record_and_field(tmp_path: Path) -> None:
    bad = {k: v for k, v in MATH500[1].items() if k != "answer"}
    path = write_jsonl(tmp_path / "test.jsonl", [MATH500[0], bad])
    with pytest.raises(DatasetError) as err:
        list(iter_samples(_math500_spec(path)))
    text = err.value.render()
    assert "test.jsonl" in text and "2" in text and "answer" in text


def _hendrycks_snapshot(root: Path) -> dict[str, list[dict[str, Any]]]:
    """A local copy laid out like EleutherAI/hendrycks_math: one folder per subject, README declaring configs."""
    subjects = {"algebra": "Algebra", "geometry": "Geometry"}
    written: dict[str, list[dict[str, Any]]] = {}
    for folder, kind in subjects.items():
        (root / folder).mkdir(parents=True)
        for split in ("train", "test"):
            rows = [{"problem": f"{kind} {split} problem {i}: compute it.", "level": f"Level {i + 1}", "type": kind,
                     "solution": f"Work... so the answer is $\\boxed{{\\frac{{{i}}}{{{i + 2}}}}}$."} for i in range(3)]
            pd.DataFrame(rows).to_parquet(root / folder / f"{split}-00000-of-00001.parquet")
            written.setdefault(split, []).extend(rows)
    configs = "".join(f"- config_name: {f}\n  data_files:\n  - split: train\n    path: {f}/train-*\n"
                      f"  - split: test\n    path: {f}/test-*\n" for f in subjects)
    (root / "README.md").write_text(f"---\nconfigs:\n{configs}---\n", encoding="utf-8")
    return written


def test_math_template_reads_every_subject_of_a_hendrycks_snapshot(tmp_path: Path) -> None:
    written = _hendrycks_snapshot(tmp_path / "hendrycks_math")
    dataset = copy.deepcopy(load_template(BENCH / "math/v1.yaml").definition["datasets"][0])
    dataset["params"]["path"] = str(tmp_path / "hendrycks_math")
    samples = list(iter_samples(DatasetSpec(**dataset)))
    assert len(samples) == len(written["test"]) == 6
    assert [s.messages[0].content for s in samples] == [f"{d['problem']}\n{INSTRUCTION}" for d in written["test"]]
    import datasets

    lm_docs = hendrycks.process_docs(datasets.Dataset.from_list(written["test"]))
    assert [s.references for s in samples] == [[d["answer"]] for d in lm_docs]
    assert samples[4].metadata["type"] == "Geometry" and samples[4].metadata["level"] == "Level 2"
    # optional few-shot examples come from the train split of the same snapshot, full solutions as answers
    dataset["params"]["preprocess_kwargs"].update(num_fewshot=2, fewshot_sampler="first_n")
    shot = next(iter_samples(DatasetSpec(**dataset)))
    first_train = written["train"][0]
    assert shot.inputs["ll_context"].startswith(f"{first_train['problem']}\n{INSTRUCTION}\n{first_train['solution']}\n\n")


def test_math_solution_without_boxed_answer_is_a_record_error(tmp_path: Path) -> None:
    rows = [{"problem": "p", "level": "Level 1", "type": "Algebra", "solution": "It is \\boxed{1}."},
            {"problem": "q", "level": "Level 1", "type": "Algebra", "solution": "It is 2."}]
    path = write_jsonl(tmp_path / "test.jsonl", rows)
    spec = DatasetSpec(dataset_id="math", loader="hf_hub", params={"path": str(path), "preprocess": "math"})
    with pytest.raises(DatasetError) as err:
        list(iter_samples(spec))
    text = err.value.render()
    assert "test.jsonl" in text and "2" in text and "solution" in text


def test_unparseable_output_scores_zero_and_is_flagged() -> None:
    result = MathVerifyAccuracy("m").evaluate(_ctx("42", "I am not sure how to solve this."))
    assert result.values == {"accuracy": 0.0} and result.details["unparsed"] is True


async def test_scoring_never_blocks_the_event_loop_and_a_stuck_worker_is_killed() -> None:
    # Without math-verify's own timeouts, 9^(9^9) would be computed for hours: the deadline kills the worker.
    metric = MathVerifyAccuracy("m", parsing_timeout=None, timeout_seconds=None, deadline=2, workers=1)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    beat = asyncio.create_task(ticker())
    start = time.monotonic()
    stuck = await metric.aevaluate(_ctx("2", "\\boxed{9^{9^{9}}}"))
    elapsed = time.monotonic() - start
    beat.cancel()
    assert stuck.values == {"accuracy": 0.0} and "timeout" in stuck.details["error"]
    assert 1.9 < elapsed < 15 and ticks >= 0.5 * elapsed / 0.05  # the loop kept running meanwhile
    # a fresh worker took its place; concurrent samples are all scored
    results = await asyncio.gather(*(metric.aevaluate(_ctx(str(i), f"\\boxed{{{i}}}")) for i in range(4)))
    assert [r.values["accuracy"] for r in results] == [1.0] * 4


def test_templates_validate_and_bad_params_are_config_errors() -> None:
    for name in ("math500", "math"):
        template = load_template(BENCH / name / "v1.yaml")
        assert template.definition["metrics"] == ["math_verify_accuracy"]
        assert template.definition["datasets"][0]["dataset_id"] == name
    for params, needle in [({"parsing_timeout": -1}, "parsing_timeout"), ({"pred_extraction": ["regex"]}, "pred_extraction"),
                           ({"workers": 0}, "workers"), ({"timeout": 3}, "timeout")]:
        with pytest.raises(ConfigError, match=needle):
            build_metric(MetricSpec(metric_id="m", implementation="math_verify_accuracy", params=params))


async def test_math500_template_runs_end_to_end(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "test.jsonl", MATH500)
    cfg = copy.deepcopy(load_template(BENCH / "math500/v1.yaml").definition)
    cfg["datasets"][0]["params"]["path"] = str(path)
    cfg["backends"][0]["config"] = {"mode": "cycle", "responses": ["$\\boxed{(3, \\frac{\\pi}{2})}$", "maybe 3"]}
    result = await gage_eval.arun(cfg, output_dir=tmp_path / "runs", run_id="m", progress="off", concurrency=1)
    assert result.status == "completed"
    assert result.metrics["accuracy"]["value"] == 0.5 and result.metrics["accuracy"]["count"] == 2
