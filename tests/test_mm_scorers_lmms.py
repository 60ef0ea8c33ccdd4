"""The multimodal scorers against lmms-eval 0.7.3's own implementations, sample by sample.

lmms-eval is installed without its declared dependencies (they pull torchvision, wandb, opencv, ...):
``pip install --no-deps lmms-eval==0.7.3`` plus what its scorer modules import (loguru, Levenshtein, in the
[test] extra). Each benchmark's record goes through our preprocessor and metric, and the same record and
answer through lmms-eval's ``process_results`` / metric; the answers are made to be awkward: extra text,
units, lists, Chinese, numbers with commas, empty answers. MathVista's LLM extraction runs on both sides
against the same scripted judge over HTTP (the package's test server), and the prompts each side sent are
compared byte for byte.
"""
from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from gage_eval.benchmarks.chartqa.metric import ChartQARelaxed
from gage_eval.benchmarks.chartqa.preprocess import ChartQAPreprocessor
from gage_eval.benchmarks.docvqa.metric import ANLS
from gage_eval.benchmarks.docvqa.preprocess import DocVQAPreprocessor
from gage_eval.benchmarks.mmmu.metric import MMMUAccuracy
from gage_eval.benchmarks.mmmu.preprocess import MMMUPreprocessor
from gage_eval.metrics.base import MetricContext
from gage_eval.testing.server import TestServerConfig, run_server_in_thread

from .mm_fixtures import image_value

pytest.importorskip("lmms_eval", reason="pip install --no-deps lmms-eval==0.7.3 (see pyproject's [test] comment)")
pytest.importorskip("loguru")

FIGURES: dict[str, str] = {}


def _figure(name: str, agree: int, total: int) -> None:
    FIGURES[name] = f"{agree}/{total}"
    print(f"\n{name}: {agree}/{total} samples agree with lmms-eval 0.7.3", file=sys.stderr)


# ---- MMMU ----------------------------------------------------------------------------------------------------------
def _mmmu_doc(i: int, qtype: str, options: list[str], answer: str, question: str) -> dict[str, Any]:
    images = {f"image_{k}": image_value(k) if k <= 4 else None for k in range(1, 8)}
    return {"id": f"validation_{['Accounting', 'Biology', 'Math', 'History'][i % 4]}_{i}", "question": question,
            "options": repr(options), "answer": answer, "question_type": qtype, "subfield": "x",
            "topic_difficulty": "Easy", "img_type": "['Photos']", "explanation": "", **images}


MMMU_MC = [
    (["$1,200", "$1,500", "$2,000", "$2,500"], "B", "<image 1> What does the firm pay?"),
    (["增加", "减少", "不变", "无法确定"], "A", "<image 1> 利润如何变化？"),
    (["The cell wall", "The nucleus", "Mitochondria", "Ribosome", "Golgi apparatus"], "C",
     "<image 1> Which organelle makes ATP?"),
    (["<image 1>", "<image 2>", "<image 3>", "<image 4>"], "D", "Which graph is increasing?"),
]
MMMU_MC_ANSWERS = [
    "B", "(B)", "B.", "The answer is B.", "Answer: (C) Mitochondria", "I think it's $1,500", "A or B",
    "Option B is correct because A is wrong", "b", "", "None of these seem right to me at all honestly",
    "The correct answer is (A) and not (B)", "C. Mitochondria because the others are not", "答案是A",
    "选项 B 正确", "B) $1,500", "It is definitely the nucleus, since the cell wall is outside of it",
    "The answer is D: <image 4>", "A B C D",
]
MMMU_OPEN = [("42", "<image 1> How many units?"), ("3.75", "<image 1> Find the speed in m/s."),
             ("mitochondria", "<image 1> Name the organelle."), ("1,200", "<image 1> What is the total cost?")]
MMMU_OPEN_ANSWERS = [
    "42", "The answer is 42.", "42 cm", "It is forty-two", "3.75", "The result is 3.750 m/s", "approximately 3.7",
    "1,200 dollars", "$1200", "Mitochondria is the powerhouse", "mitochondria", "so the answer = 1200",
    "x = 42\nTherefore the final answer is 42", "答案是42", "[42, 43]", "",
]


def test_mmmu_parsing_and_scoring_agree_with_lmms_eval() -> None:
    from lmms_eval.tasks.mmmu import utils as ref

    docs = [_mmmu_doc(i, "multiple-choice", o, a, q) for i, (o, a, q) in enumerate(MMMU_MC)]
    docs += [_mmmu_doc(10 + i, "open", [], a, q) for i, (a, q) in enumerate(MMMU_OPEN)]
    pre, metric = MMMUPreprocessor("mmmu"), MMMUAccuracy("mmmu_acc")
    total = agree = guesses = 0
    for doc in docs:
        sample = pre.transform(doc, 0)
        answers = MMMU_MC_ANSWERS if doc["question_type"] == "multiple-choice" else MMMU_OPEN_ANSWERS
        for answer in answers:
            result = metric.evaluate(MetricContext(sample, {"answer": answer}, {}))
            random.seed(f"mmmu:{sample.id}")  # the official random guess, drawn as ours is (seeded by the id)
            mine = ref.mmmu_process_results(doc, [answer])["mmmu_acc"]
            _, judged = ref.evaluate_mmmu([mine])
            parsed = mine["parsed_pred"][0]
            same_parse = result.details["parsed"] == parsed if doc["question_type"] == "multiple-choice" else \
                sorted(result.details["parsed"]) == sorted(str(p) for p in parsed)
            assert same_parse, (doc["id"], answer, result.details, parsed)
            assert result.values["mmmu_acc"] == judged["acc"], (doc["id"], answer)
            guesses += bool(result.details.get("random_guess"))
            total += 1
            agree += same_parse and result.values["mmmu_acc"] == judged["acc"]
    assert total >= 50 and guesses >= 4  # random guesses (no letter found) are exercised too
    _figure("MMMU parsing + scoring", agree, total)


def _pixels(image: Any) -> bytes:
    return image.convert("RGB").tobytes()


def test_mmmu_interleaved_messages_match_lmms_eval() -> None:
    """Text pieces and images in the order lmms-eval's mmmu_doc_to_messages gives them (its default prompt)."""
    import base64
    import io

    from lmms_eval.tasks.mmmu import utils as ref
    from PIL import Image

    kwargs = {"prompt_type": "format", "multiple_choice_prompt": "Answer with the option's letter from the given "
              "choices directly.", "open_ended_prompt": "Answer the question using a single word or phrase."}
    docs = [_mmmu_doc(i, "multiple-choice", o, a, q) for i, (o, a, q) in enumerate(MMMU_MC)]
    docs += [_mmmu_doc(10 + i, "open", [], a, q) for i, (a, q) in enumerate(MMMU_OPEN)]
    for doc in docs:
        sample = MMMUPreprocessor("mmmu").transform(doc, 0)
        ours = []
        for part in sample.messages[0].content:
            if part["type"] == "text":
                ours.append(("text", part["text"]))
            else:
                data = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
                ours.append(("image", _pixels(Image.open(io.BytesIO(data)))))
        pil_doc = {**doc, **{k: Image.open(io.BytesIO(v["bytes"])) for k, v in doc.items()
                             if k.startswith("image_") and v}}
        theirs = [("text", p["text"]) if p["type"] == "text" else ("image", _pixels(p["url"]))
                  for p in ref.mmmu_doc_to_messages(pil_doc, kwargs)[0]["content"]]
        assert ours == theirs, doc["id"]
        assert sample.metadata["subject"] == ref.extract_subset_name(doc["id"])


# ---- DocVQA ----------------------------------------------------------------------------------------------------------
DOC_REFS = [["1/8/93", "january 8, 1993"], ["$1,234.56"], ["ITC Limited", "itc"], ["北京"],
            ["  Spaced   Answer "]]
DOC_PREDS = ["1/8/93", "1/8/1993", "January 8 1993", "The date is 1/8/93", "$1234.56", "1,234.56", "ITC Ltd.", "itc",
             "I T C", "北京市", "", "  spaced answer", "a very long answer that has nothing to do with the question"]


def test_docvqa_anls_agrees_with_lmms_eval() -> None:
    from lmms_eval.api.metrics import anls as ref_anls

    pre, metric = DocVQAPreprocessor("docvqa"), ANLS("anls", threshold=0.5)
    total = agree = 0
    for i, refs in enumerate(DOC_REFS):
        sample = pre.transform({"questionId": str(i), "question": "When?", "image": image_value(i), "answers": refs}, i)
        for pred in DOC_PREDS:
            mine = metric.evaluate(MetricContext(sample, {"answer": pred}, {})).values["anls"]
            theirs = ref_anls(refs, [pred])["anls"]
            assert mine == pytest.approx(theirs, abs=1e-12), (refs, pred)
            total += 1
            agree += abs(mine - theirs) <= 1e-12
    assert total >= 50
    _figure("DocVQA ANLS", agree, total)


# ---- ChartQA ---------------------------------------------------------------------------------------------------------
CHART_ANSWERS = ["12", "12.5%", "0.45", "Yes", "1,234", "-3", "2019", "北京", "[2017, 2018]"]
CHART_PREDS = ["12", "12.4", "12.7", "13", " 12", "12%", "0.125", "12.5", "yes", "Yes.", "YES", "1234", "1,234",
               "-3.1", "2019.0", "two thousand nineteen", "北京", "12\n", "", "[2017, 2018]", "0.46"]


def test_chartqa_relaxed_accuracy_agrees_with_lmms_eval() -> None:
    from lmms_eval.tasks.chartqa.utils import chartqa_process_results

    pre, metric = ChartQAPreprocessor("chartqa"), ChartQARelaxed("chartqa")
    total = agree = 0
    for i, answer in enumerate(CHART_ANSWERS):
        doc = {"type": "human_test" if i % 2 else "augmented_test", "question": "Value?", "answer": answer,
               "image": image_value(i)}
        sample = pre.transform(doc, i)
        for pred in CHART_PREDS:
            mine = metric.evaluate(MetricContext(sample, {"answer": pred}, {})).values
            theirs = chartqa_process_results(doc, [pred])
            assert mine == theirs, (answer, pred)
            total += 1
            agree += mine == theirs
    assert total >= 50
    _figure("ChartQA relaxed accuracy", agree, total)


# ---- MathVista -------------------------------------------------------------------------------------------------------
def _mathvista_docs() -> list[tuple[dict[str, Any], str, str]]:
    """(record, the model's answer, what the scripted judge extracts from it)."""
    kinds = [
        ({"question_type": "multi_choice", "answer_type": "text", "choices": ["30", "45", "60", "90"],
          "precision": None, "answer": "45"},
         [("45", ""), ("(B)", "B"), ("The answer is (B) 45 degrees.", "B"), ("Answer: C", "C"), ("答案是 45", "45"),
          ("forty five", "45"), ("I would say 60 because the angle is wide", "60")]),
        ({"question_type": "free_form", "answer_type": "integer", "choices": None, "precision": None, "answer": "1234"},
         [("1234", ""), ("1,234", "1,234"), ("The total is 1,234 people.", "1234"), ("About 1234.0", "1234.0"),
          ("答案：1234", "1234"), ("twelve hundred", "1200"), ("", "")]),
        ({"question_type": "free_form", "answer_type": "float", "choices": None, "precision": 1, "answer": "2.5"},
         [("2.5", ""), ("2.50 cm", "2.50"), ("The length is 2.46 m", "2.46"), ("It is 5/2", "2.5"),
          ("Answer: 2.5.", "2.5"), ("roughly three", "3")]),
        ({"question_type": "free_form", "answer_type": "float", "choices": None, "precision": 2, "answer": "0.67"},
         [("0.667", ""), ("The ratio is 2/3", "0.67"), ("0.67", ""), ("67%", "0.67"), ("ratio = 0.7", "0.7")]),
        ({"question_type": "free_form", "answer_type": "list", "choices": None, "precision": None,
          "answer": "[2007, 2008]"},
         [("[2007, 2008]", "[2007, 2008]"), ("between 2007 and 2008", "[2007, 2008]"), ("2007-2008", "[2007,2008]")]),
        ({"question_type": "multi_choice", "answer_type": "text", "choices": ["Yes", "No"], "precision": None,
          "answer": "Yes"},
         [("Yes", ""), ("yes, it is", "yes"), ("The answer is \"Yes\".", "Yes"), ("No.", "No")]),
    ]
    docs = []
    for round_ in range(2):
        for k, (problem, answers) in enumerate(kinds):
            for j, (response, extraction) in enumerate(answers):
                pid = f"{round_}{k}{j:02d}"
                question = f"Problem {pid}: what is the value?"
                record = {"pid": pid, "question": question, "decoded_image": image_value(int(pid)), "unit": "",
                          "image": f"images/{pid}.jpg", **problem,
                          "query": f"Hint: Please answer the question.\nQuestion: {question}",
                          "metadata": {"split": "testmini", "task": ["geometry problem solving", "figure question "
                                       "answering"][k % 2], "skills": ["algebraic reasoning", "arithmetic reasoning"][
                                       : 1 + k % 2], "source": "x", "category": "math-targeted-vqa",
                                       "context": "table", "grade": "high school", "language": "english"}}
                docs.append((record, response if round_ == 0 else f"{response}" + ("" if not response else " "),
                             extraction))
    return docs


@pytest.fixture(scope="module")
def judge_server() -> Any:
    docs = _mathvista_docs()
    answers = {r["question"]: response for r, response, _ in docs}
    extractions = {response: extraction for _, response, extraction in docs}
    seen: list[str] = []

    def script(body: dict[str, Any]) -> str:
        content = body["messages"][-1]["content"]
        if isinstance(content, list):  # the model under test: an image and the query
            text = next(p["text"] for p in content if p.get("type") == "text")
            return next(a for q, a in answers.items() if q in text)
        seen.append(content)
        head = content.rsplit("\n\nExtracted answer: ", 1)[0]
        return max(((r, e) for r, e in extractions.items() if r and head.endswith("\n\n" + r)),
                   key=lambda item: len(item[0]), default=("", ""))[1]

    with run_server_in_thread(TestServerConfig(script=script, verbatim=True)) as server:
        server.judge_prompts = seen  # type: ignore[attr-defined]
        yield server


def test_mathvista_extraction_and_scoring_agree_with_lmms_eval(tmp_path: Path, judge_server: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # lmms-eval builds its judge client when the module is imported: point it at the scripted judge first.
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_API_URL", judge_server.base_url)
    monkeypatch.setenv("MODEL_VERSION", "judge")
    monkeypatch.setenv("API_TYPE", "openai")
    for name in [m for m in sys.modules if m.startswith("lmms_eval.tasks.mathvista")]:
        monkeypatch.delitem(sys.modules, name)
    from lmms_eval.tasks.mathvista import utils as ref

    docs = _mathvista_docs()
    data = tmp_path / "mathvista.jsonl"
    with data.open("w") as fh:
        for record, _, _ in docs:
            fh.write(json.dumps({**record, "decoded_image": None,
                                 "image": "data:image/png;base64," + __import__("base64").b64encode(
                                     record["decoded_image"]["bytes"]).decode()}) + "\n")
    import gage_eval

    run = gage_eval.run({"kind": "RunConfig", "base_task": "builtin/mathvista_judge", "runtime": {
        "datasets": [{"dataset_id": "mathvista_judge", "loader": "jsonl", "params": {"path": str(data)}}],
        "backends": [{"backend_id": "model", "type": "openai_http", "config": {"base_url": judge_server.base_url,
                                                                              "model": "dut"}},
                     {"backend_id": "judge", "type": "openai_http", "config": {"base_url": judge_server.base_url,
                                                                              "model": "judge"}}]}},
                        run_id="mv", output_dir=str(tmp_path / "runs"))
    assert run.status == "completed"
    ours_prompts = list(judge_server.judge_prompts)
    records = {json.loads(line)["sample_id"]: json.loads(line)
               for line in (run.run_dir / "samples.jsonl").read_text().splitlines()}
    total = agree = judged = 0
    for record, response, _ in docs:
        theirs = ref.mathvista_process_results(record, [response])["submission"]
        mine = records[record["pid"]]
        details = mine["metric_details"]["mathvista_accuracy"]
        assert mine["judge_output"]["extraction"] == theirs["extraction"], (record["pid"], response)
        assert details["prediction"] == theirs["prediction"], (record["pid"], response)
        assert bool(mine["metrics"]["mathvista_accuracy"]) == theirs["true_false"], (record["pid"], response)
        judged += mine["judge_output"]["extraction_source"] == "judge"
        total += 1
        agree += 1
    lmms_prompts = judge_server.judge_prompts[len(ours_prompts):]
    assert sorted(ours_prompts) == sorted(lmms_prompts)  # byte-identical extraction prompts, same count
    assert total >= 50 and judged >= 30
    _figure("MathVista extraction + scoring (LLM extraction path)", agree, total)


def test_mathvista_queries_match_lmms_eval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    from lmms_eval.tasks.mathvista.mathvista_evals import MathVistaEvaluator

    from gage_eval.benchmarks.mathvista.official import create_query

    evaluator = MathVistaEvaluator()
    count = 0
    for record, _, _ in _mathvista_docs()[:30]:
        problem = {**record, "caption": "", "ocr": "", "choices": record["choices"]}
        for shot_type in ("format-prompt", "solution", "step-by-step", "reason-first", "direct"):
            theirs = evaluator.create_one_query(problem, shot_type=shot_type, shot_num=0)
            assert create_query(problem, shot_type) == theirs, (record["pid"], shot_type)
            count += 1
    assert count >= 50


def test_mathvista_float_precision_from_the_hub_is_handled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub stores precision as float64 (1.0): lmms-eval's round(x, 1.0) raises and scores every float answer
    wrong; the official JSON holds an int. Here the precision counts as the integer it is (README: Differences)."""
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    from lmms_eval.tasks.mathvista.mathvista_evals import MathVistaEvaluator

    from gage_eval.benchmarks.mathvista.official import normalize_extracted

    assert MathVistaEvaluator().normalize_extracted_answer("2.46", None, "free_form", "float", 1.0) is None
    assert normalize_extracted("2.46", None, "free_form", "float", 1.0) == "2.5"
    assert normalize_extracted("2.46", None, "free_form", "float", 1) == MathVistaEvaluator(
    ).normalize_extracted_answer("2.46", None, "free_form", "float", 1)


def test_mathvista_direct_rules_agree_with_lmms_eval(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where lmms-eval settles an answer without a model, our rule extraction gives the same extraction."""
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    from lmms_eval.tasks.mathvista.mathvista_evals import MathVistaEvaluator

    from gage_eval.benchmarks.mathvista.rules import rule_extraction

    evaluator = MathVistaEvaluator()
    evaluator.get_chat_response = lambda *a, **k: pytest.fail("the direct rules should settle these")  # type: ignore
    count = 0
    for record, response, _ in _mathvista_docs():
        response = response.strip()
        problem = {k: record[k] for k in ("question_type", "answer_type", "choices", "query")}
        problem["choices"] = problem["choices"] or []
        settled = (not response or (record["question_type"] == "multi_choice" and response in record["choices"])
                   or _parses(response, record["answer_type"]))
        if not settled:
            continue
        assert rule_extraction(response, problem)[0] == evaluator.extract_answer(response, problem), response
        count += 1
    assert count >= 10


def _parses(text: str, answer_type: str) -> bool:
    kind = {"integer": int, "float": float}.get(answer_type)
    try:
        return kind is not None and kind(text) is not None
    except ValueError:
        return False
