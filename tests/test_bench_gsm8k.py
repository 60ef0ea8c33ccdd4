"""GSM8K: prompts and scores equal lm-evaluation-harness 0.4.13's gsm8k task, sample by sample.

The reference is lm-eval itself: its ConfigurableTask built from its own gsm8k.yaml (over an in-memory
dataset, no download) renders the few-shot contexts, and its filter ensembles + process_results score the
outputs. Our side is the gsm8k preprocessor and the metric exactly as v1.yaml configures it.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import datasets
import pandas as pd
import pytest
import yaml

import gage_eval
from gage_eval.benchmarks.gsm8k.preprocess import CHAT_INSTRUCTION
from gage_eval.config.models import DatasetSpec, MetricSpec
from gage_eval.config.templates import load_template
from gage_eval.datasets import iter_samples
from gage_eval.errors import ConfigError, DatasetError
from gage_eval.metrics import build_metric
from gage_eval.metrics.base import MetricContext
from gage_eval.sample import Sample

from .conftest import write_jsonl

lm_task = pytest.importorskip("lm_eval.api.task")
from lm_eval.api.instance import Instance

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "src/gage_eval/benchmarks/gsm8k/v1.yaml"
LM_YAML = Path(lm_task.__file__).resolve().parents[1] / "tasks/gsm8k/gsm8k.yaml"

TRAIN = [
    {"question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
                 "How many clips did Natalia sell altogether in April and May?",
     "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips "
               "altogether in April and May.\n#### 72"},
    {"question": "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. "
                 "How much did she earn?",
     "answer": "Weng earns 12/60 = $<<12/60=0.2>>0.2 per minute.\nWorking 50 minutes, she earned 0.2 x 50 = "
               "$<<0.2*50=10>>10.\n#### 10"},
    {"question": "Betty needs $100 for a wallet. She has half of it; her parents give $15 and her grandparents "
                 "twice as much. How much more money does Betty need?",
     "answer": "Betty has 100 / 2 = $<<100/2=50>>50.\nHer grandparents give 15 * 2 = $<<15*2=30>>30.\n"
               "She needs 100 - 50 - 30 - 15 = $<<100-50-30-15=5>>5 more.\n#### 5"},
    {"question": "James writes a 3-page letter to 2 different friends twice a week. How many pages does he "
                 "write a year?",
     "answer": "He writes each friend 3*2=<<3*2=6>>6 pages a week\nSo he writes 6*2=<<6*2=12>>12 pages every "
               "week\nThat means he writes 12*52=<<12*52=624>>624 pages a year\n#### 624"},
    {"question": "Mark has a garden with flowers: 10 yellow, 80% more purple, and 25% as many green as yellow "
                 "and purple. How many flowers does Mark have?",
     "answer": "There are 80/100 * 10 = <<80/100*10=8>>8 more purple flowers.\nSo 10 + 8 = <<10+8=18>>18 "
               "purple.\nGreen: 25/100 * 28 = <<25/100*28=7>>7.\nTotal 28 + 7 = <<28+7=35>>35.\n#### 35"},
    {"question": "Albert buys 2 large pizzas (16 slices) and 2 small (8 slices). How many slices in total?",
     "answer": "2 * 16 = <<2*16=32>>32 and 2 * 8 = <<2*8=16>>16, so 32 + 16 = <<32+16=48>>48\n#### 48"},
    {"question": "Ken's box weighs 2 pounds, then triples, adds 2, then doubles. What is its final weight?",
     "answer": "2*3=<<2*3=6>>6, 6+2=<<6+2=8>>8, 8*2=<<8*2=16>>16\n#### 16"},
]
# Gold answers in the shapes the metric must handle (GSM8K's are integers; a few edge shapes besides).
TEST = [
    {"question": "Janet's ducks lay 16 eggs per day. She eats 3 and bakes with 4. She sells the rest at $2 "
                 "each. How much does she make?", "answer": "16 - 3 - 4 = <<16-3-4=9>>9\n9 * 2 = $<<9*2=18>>18\n"
                                                             "#### 18"},
    {"question": "A robe takes 2 bolts of blue fiber and half that much white. How many bolts in total?",
     "answer": "2/2=<<2/2=1>>1 white, 2+1=<<2+1=3>>3\n#### 3"},
    {"question": "How much profit did Josh make on the house?", "answer": "Profit is 70,000.\n#### 70000"},
    {"question": "What is the balance after the loss?", "answer": "The balance is -5.\n#### -5"},
    {"question": "How much does each cup cost?", "answer": "7 / 2 = 3.5\n#### 3.5"},
    {"question": "How many people in total?", "answer": "Sum.\n#### 1,234"},
    {"question": "How many left?", "answer": "None are left.\n#### 0"},
]

OUTPUTS = [
    "#### 18", "#### 3", "#### 70000", "#### -5", "#### 3.5", "#### 1,234", "#### 0", "#### 1234",
    "She makes 9 * 2 = $18 every day.\n#### 18", "The answer is $18.", "The answer is $1,234.",
    "The answer is 18", "The answer is 18.", "18", "18.", "$18", "$18.00", "18.0", "#### 18.0",
    "#### 18.", "#### $18", "#### 18\n\nQuestion: next", "Janet sells 9 eggs for 2 dollars: 18 dollars.",
    "First 16, then 3 and 4, so 9 remain, which earn 18", "It is 18 or maybe 19", "#### 18 #### 43",
    "#### 42 #### 18", "#### 70,000", "#### 70000.", "The profit was $70,000.", "profit: 70.000",
    "-5", "#### -5", "The balance is -5.", "It dropped by 5", "- 5", "#### - 5", "The answer: −5",
    "3.50", "#### 3.50", "#### 3.5", "Each costs $3.5.", "It costs 3.5 dollars", ".5", "#### .5",
    "\\boxed{18}", "The answer is \\boxed{18}.", "$\\boxed{3}$", "\\boxed{1,234}", "\\boxed{-5}",
    "١٨", "#### ١٨", "１８", "#### 18 apples", "Answer: eighteen", "", "   ", "\n\n", "no numbers here",
    "[invalid]", "#### ", "####18", "#### 1,234.", "1,234", "12,34", "1.234", "$$", "..", ",,", "$1",
    "3", "#### 3\n", "The answer is 3, not 4.", "I think 3 bolts. Question: what", "#### 0", "0", "00",
    "Zero: 0.", "#### 18\x00", "18 \n", "#### 18 ", "ANSWER #### 18", "#### 18\n#### 18",
]


def _lm_task() -> Any:
    cfg = yaml.safe_load(LM_YAML.read_text(encoding="utf-8"))
    cfg["custom_dataset"] = lambda **_: datasets.DatasetDict({"train": datasets.Dataset.from_list(TRAIN),
                                                               "test": datasets.Dataset.from_list(TEST)})
    cfg["fewshot_config"] = {"sampler": "first_n"}
    return lm_task.ConfigurableTask(config=cfg)


@pytest.fixture(scope="module")
def lm() -> Any:
    return _lm_task()


def _template_metric() -> Any:
    spec = load_template(TEMPLATE).definition["metrics"][0]
    return build_metric(MetricSpec(**spec))


def _lm_scores(task: Any, doc: dict[str, Any], output: str) -> dict[str, float]:
    inst = Instance("generate_until", doc, ("", {}), 0)
    inst.resps = [output]
    for ensemble in task._filters:
        ensemble.apply([inst])
    return {name: float(task.process_results(doc, [resp])["exact_match"])
            for name, resp in inst.filtered_resps.items()}


def _ours(metric: Any, doc: dict[str, Any], output: str) -> Any:
    sample = Sample(id="s", references=[doc["answer"]], label=doc["answer"])
    return metric.evaluate(MetricContext(sample, {"answer": output}, {}))


def test_scores_equal_lm_eval_filters_and_exact_match_on_every_output(lm: Any) -> None:
    assert len(OUTPUTS) >= 60
    metric = _template_metric()
    hits = {"strict": 0, "flexible": 0}
    for doc in lm.test_docs():
        for output in OUTPUTS:
            ref = _lm_scores(lm, doc, output)
            ours = _ours(metric, doc, output)
            assert ours.values == {"exact_match_strict": ref["strict-match"],
                                   "exact_match_flexible": ref["flexible-extract"]}, (doc["answer"], output)
            hits["strict"] += int(ref["strict-match"])
            hits["flexible"] += int(ref["flexible-extract"])
    # the outputs exercise both outcomes of both filters
    assert 10 < hits["strict"] < len(OUTPUTS) * len(TEST) and hits["flexible"] > hits["strict"]


def test_extracted_text_and_unparsed_flag_follow_the_filters(lm: Any) -> None:
    metric = _template_metric()
    doc = TEST[0]
    for output in OUTPUTS:
        inst = Instance("generate_until", doc, ("", {}), 0)
        inst.resps = [output]
        for ensemble in lm._filters:
            ensemble.apply([inst])
        details = _ours(metric, doc, output).details
        assert details["filters"]["strict"]["extracted"] == inst.filtered_resps["strict-match"]
        assert details["filters"]["flexible"]["extracted"] == inst.filtered_resps["flexible-extract"]
        assert details["unparsed"] == (inst.filtered_resps["flexible-extract"] == "[invalid]"
                                       and inst.filtered_resps["strict-match"] == "[invalid]")


def test_unparseable_output_scores_zero_and_is_flagged() -> None:
    result = _ours(_template_metric(), TEST[0], "I do not know.")
    assert result.values == {"exact_match_strict": 0.0, "exact_match_flexible": 0.0}
    assert result.details["unparsed"] is True
    assert result.details["filters"]["strict"] == {"extracted": "[invalid]", "unparsed": True}
    partly = _ours(_template_metric(), TEST[0], "So she makes 18 dollars.")
    assert partly.values == {"exact_match_strict": 0.0, "exact_match_flexible": 1.0}
    assert partly.details["unparsed"] is False and partly.details["filters"]["strict"]["unparsed"] is True


def test_template_metric_params_are_lm_evals_yaml() -> None:
    lm_cfg = yaml.safe_load(LM_YAML.read_text(encoding="utf-8"))
    template = load_template(TEMPLATE).definition
    params = template["metrics"][0]["params"]
    lm_metric = lm_cfg["metric_list"][0]
    assert params["regexes_to_ignore"] == lm_metric["regexes_to_ignore"]
    assert (params["ignore_case"], params["ignore_punctuation"]) == (lm_metric["ignore_case"],
                                                                     lm_metric["ignore_punctuation"])
    lm_filters = {f["name"]: f["filter"][0] for f in lm_cfg["filter_list"]}
    assert [f["regex"] for f in params["filters"]] == [lm_filters["strict-match"]["regex_pattern"],
                                                       lm_filters["flexible-extract"]["regex_pattern"]]
    assert [f["group_select"] for f in params["filters"]] == [
        lm_filters["strict-match"].get("group_select", 0), lm_filters["flexible-extract"]["group_select"]]
    assert all(f["filter"][1]["function"] == "take_first" for f in lm_cfg["filter_list"])
    generation = template["role_adapters"][0]["params"]["generation"]
    assert generation["stop"] == lm_cfg["generation_kwargs"]["until"] and generation["temperature"] == 0
    kwargs = template["datasets"][0]["params"]["preprocess_kwargs"]
    assert kwargs["num_fewshot"] == lm_cfg["num_fewshot"] and kwargs["fewshot_split"] == lm_cfg["fewshot_split"]
    assert template["datasets"][0]["hub_params"] == {"hub_id": lm_cfg["dataset_path"],
                                                     "subset": lm_cfg["dataset_name"], "split": lm_cfg["test_split"]}


def _spec(path: Path, **kwargs: Any) -> DatasetSpec:
    return DatasetSpec(dataset_id="gsm8k", loader="hf_hub", hub_params={"split": "test"},
                       params={"path": str(path), "preprocess": "gsm8k", "preprocess_kwargs": kwargs})


def test_five_shot_prompts_equal_lm_evals_from_a_train_file(tmp_path: Path, lm: Any) -> None:
    write_jsonl(tmp_path / "train.jsonl", TRAIN)
    test_path = write_jsonl(tmp_path / "test.jsonl", TEST)
    samples = list(iter_samples(_spec(test_path, num_fewshot=5, fewshot_sampler="first_n",
                                      fewshot_path=str(tmp_path / "train.jsonl"))))
    assert len(samples) == len(TEST)
    for sample, doc in zip(samples, lm.test_docs()):
        expected = lm.fewshot_context(doc, 5)
        assert sample.inputs["ll_context"] == expected
        assert [m.role for m in sample.messages] == ["user"] and sample.messages[0].content == expected
        assert sample.references == [doc["answer"]] and sample.label == doc["answer"]
        assert sample.metadata["final_answer"] == doc["answer"].split("####")[-1].strip()
    # the few-shot block format, spelled out once
    assert samples[0].inputs["ll_context"].startswith(f"Question: {TRAIN[0]['question']}\nAnswer: {TRAIN[0]['answer']}"
                                                      f"\n\nQuestion: {TRAIN[1]['question']}\nAnswer:")
    zero = next(iter_samples(_spec(test_path)))
    assert zero.inputs["ll_context"] == lm.fewshot_context(lm.test_docs()[0], 0) == \
        f"Question: {TEST[0]['question']}\nAnswer:"


def test_lm_eval_sampler_draws_the_same_random_shots_as_lm_eval(tmp_path: Path) -> None:
    """lm-eval's default sampler (Random(1234), one draw per document in order) — not first_n — is how its
    published GSM8K numbers were made; fewshot_sampler: lm_eval reproduces those exact contexts."""
    cfg = yaml.safe_load(LM_YAML.read_text(encoding="utf-8"))
    cfg["custom_dataset"] = lambda **_: datasets.DatasetDict({"train": datasets.Dataset.from_list(TRAIN),
                                                               "test": datasets.Dataset.from_list(TEST * 3)})
    reference = lm_task.ConfigurableTask(config=cfg)
    reference.set_fewshot_seed(1234)
    expected = [reference.fewshot_context(doc, 5) for doc in reference.test_docs()]
    write_jsonl(tmp_path / "train.jsonl", TRAIN)
    test_path = write_jsonl(tmp_path / "test.jsonl", TEST * 3)
    ours = [s.inputs["ll_context"] for s in iter_samples(_spec(
        test_path, num_fewshot=5, fewshot_sampler="lm_eval", fewshot_seed=1234,
        fewshot_path=str(tmp_path / "train.jsonl")))]
    assert ours == expected
    assert len(set(expected)) > 1  # the draws really differ from document to document
    # a --limit prefix gets the same shots as the full run
    prefix = [s.inputs["ll_context"] for s in iter_samples(_spec(
        test_path, num_fewshot=5, fewshot_sampler="lm_eval", fewshot_seed=1234,
        fewshot_path=str(tmp_path / "train.jsonl")), max_samples=4)]
    assert prefix == expected[:4]


def test_hub_snapshot_folder_with_train_split_and_random_shots(tmp_path: Path) -> None:
    snap = tmp_path / "gsm8k"
    (snap / "main").mkdir(parents=True)
    pd.DataFrame(TRAIN).to_parquet(snap / "main/train-00000-of-00001.parquet")
    pd.DataFrame(TEST).to_parquet(snap / "main/test-00000-of-00001.parquet")
    spec = DatasetSpec(dataset_id="gsm8k", loader="hf_hub", hub_params={"hub_id": "openai/gsm8k", "subset": "main",
                                                                        "split": "test"},
                       params={"path": str(snap), "preprocess": "gsm8k",
                               "preprocess_kwargs": {"num_fewshot": 5, "fewshot_split": "train",
                                                     "fewshot_sampler": "random", "fewshot_seed": 1234}})
    samples = list(iter_samples(spec))
    assert len(samples) == len(TEST)
    train_blocks = {f"Question: {d['question']}\nAnswer: {d['answer']}\n\n" for d in TRAIN}
    for sample, doc in zip(samples, TEST):
        ctx = sample.inputs["ll_context"]
        question = f"Question: {doc['question']}\nAnswer:"
        assert ctx.endswith(question)
        shots = [b for b in train_blocks if b in ctx]
        assert len(shots) == 5 and sum(len(b) for b in shots) + len(question) == len(ctx)
    again = [s.inputs["ll_context"] for s in iter_samples(spec)]
    assert again == [s.inputs["ll_context"] for s in samples]  # seeded: the same shots every time


def test_chat_style_asks_for_the_strict_match_line(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "train.jsonl", TRAIN)
    test_path = write_jsonl(tmp_path / "test.jsonl", TEST[:1])
    sample = next(iter_samples(_spec(test_path, num_fewshot=2, fewshot_sampler="first_n", style="chat",
                                     fewshot_path=str(tmp_path / "train.jsonl"))))
    assert [m.role for m in sample.messages] == ["user", "assistant", "user", "assistant", "user"]
    assert sample.messages[0].content == TRAIN[0]["question"]
    assert sample.messages[1].content == TRAIN[0]["answer"]
    assert sample.messages[-1].content == f"{TEST[0]['question']}\n\n{CHAT_INSTRUCTION}"
    plain = next(iter_samples(_spec(test_path, style="chat", instruction="")))
    assert [m.content for m in plain.messages] == [TEST[0]["question"]]
    # an answer that follows the instruction is read by strict-match
    assert _ours(_template_metric(), TEST[0], "9 eggs * $2 = $18\n#### 18").values["exact_match_strict"] == 1.0


def test_record_without_answer_names_file_record_and_field(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "test.jsonl", TEST[:2] + [{"question": "No answer here?"}])
    with pytest.raises(DatasetError) as err:
        list(iter_samples(_spec(path)))
    text = err.value.render()
    assert "test.jsonl" in text and "3" in text and "answer" in text
    no_final = write_jsonl(tmp_path / "bad.jsonl", [{"question": "q?", "answer": "just 5"}])
    with pytest.raises(DatasetError, match="####"):
        list(iter_samples(_spec(no_final)))


def test_bad_metric_params_are_config_errors() -> None:
    base = copy.deepcopy(load_template(TEMPLATE).definition["metrics"][0])
    for mutate, needle in [(lambda p: p["filters"][0].update(regex="(unclosed"), "regex"),
                           (lambda p: p.pop("filters"), "filters"),
                           (lambda p: p["filters"][1].update(name="strict"), "unique"),
                           (lambda p: p.update(ignore_cas=True), "ignore_cas")]:
        spec = copy.deepcopy(base)
        mutate(spec["params"])
        with pytest.raises(ConfigError, match=needle):
            build_metric(MetricSpec(**spec))


async def test_template_runs_end_to_end_with_fixed_answers(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "train.jsonl", TRAIN)
    test_path = write_jsonl(tmp_path / "test.jsonl", TEST[:4])
    cfg = copy.deepcopy(load_template(TEMPLATE).definition)
    cfg["datasets"][0]["params"].update(path=str(test_path))
    cfg["datasets"][0]["params"]["preprocess_kwargs"].update(fewshot_path=str(tmp_path / "train.jsonl"),
                                                             fewshot_split=None)
    cfg["backends"][0]["config"] = {"mode": "cycle", "responses": ["#### 18", "It is 3.", "#### 7", "#### -5"]}
    result = await gage_eval.arun(cfg, output_dir=tmp_path / "runs", run_id="g", progress="off", concurrency=1)
    assert result.status == "completed"
    # 18 ✓✓ | "It is 3." strict ✗ flexible ✓ | 7 vs 70000 ✗✗ | -5 ✓✓
    assert result.metrics["exact_match_strict"]["value"] == 0.5
    assert result.metrics["exact_match_flexible"]["value"] == 0.75
    assert result.metrics["exact_match_strict"]["count"] == 4
