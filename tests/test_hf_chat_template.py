"""Local checkpoints whose tokenizer HAS a chat template: `gage eval` gives the model exactly lm-eval's prompts.

Without a flag, lm-eval's `hf` model scores the plain prompt; with `--apply_chat_template` it renders its
few-shot context as chat turns (`fewshot_as_multiturn`, on by default with that flag) through the tokenizer's
template, and drops the target delimiter of multiple-choice continuations. The reference is lm-eval 0.4.x
itself: `simple_evaluate` with its own gsm8k / arc_easy task objects (over the same records) and its HFLM on
the same tiny checkpoint. Our side is a real `gage eval` run; a spy on the hf runtime records the strings it
tokenises (the chat-rendered text included), and the outputs / log-likelihoods are compared as well.
"""
from __future__ import annotations

import json
import logging
import random
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("lm_eval")

from gage_eval.backends.hf_runtime import HFRuntime  # noqa: E402
from gage_eval.cli.app import main  # noqa: E402

from .conftest import read_jsonl, write_jsonl  # noqa: E402
from .test_bench_gsm8k import TEST as GSM_TEST  # noqa: E402
from .test_bench_gsm8k import TRAIN as GSM_TRAIN  # noqa: E402
from .test_bench_mc_reasoning import arc_docs, lm_task  # noqa: E402
from .tiny_model import build_tiny_llama  # noqa: E402

logging.getLogger("lm_eval").setLevel(logging.ERROR)
ARC_SHOTS = 3
MAX_NEW = 8


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = build_tiny_llama(tmp_path_factory.mktemp("tiny-chat"), 2048)
    assert "chat_template" in (path / "tokenizer_config.json").read_text() or (path / "chat_template.jinja").exists()
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("data")
    rng = random.Random(3)
    arc_test, arc_train = arc_docs(rng, 8), arc_docs(rng, 6, prefix="train")
    return {"arc_test": arc_test, "arc_train": arc_train,
            "paths": {"gsm8k": {"local_path": str(write_jsonl(root / "gsm8k_test.jsonl", GSM_TEST)),
                                "few_shot_path": str(write_jsonl(root / "gsm8k_train.jsonl", GSM_TRAIN))},
                      "arc_easy": {"local_path": str(write_jsonl(root / "arc_test.jsonl", arc_test)),
                                   "few_shot_path": str(write_jsonl(root / "arc_train.jsonl", arc_train)),
                                   "few_shot_num": ARC_SHOTS}}}


def _lm_eval(model_dir: Path, data: dict[str, Any], chat: bool) -> dict[str, list[dict[str, Any]]]:
    """lm-eval's logged samples (arguments = the exact requests, resps = the model's answers), per task."""
    import datasets
    from lm_eval.api.task import ConfigurableTask
    from lm_eval.evaluator import simple_evaluate
    from lm_eval.models.huggingface import HFLM

    from .test_bench_gsm8k import LM_YAML

    import yaml
    cfg = yaml.safe_load(LM_YAML.read_text(encoding="utf-8"))
    cfg["custom_dataset"] = lambda **_: datasets.DatasetDict({"train": datasets.Dataset.from_list(GSM_TRAIN),
                                                               "test": datasets.Dataset.from_list(GSM_TEST)})
    gsm8k = ConfigurableTask(config=cfg)
    arc = lm_task("arc/arc_easy.yaml", {"test": data["arc_test"], "validation": data["arc_test"],
                                        "train": data["arc_train"]}, num_fewshot=ARC_SHOTS)
    lm = HFLM(pretrained=str(model_dir), device="cpu", batch_size=1)
    out = simple_evaluate(model=lm, tasks=[gsm8k, arc], apply_chat_template=chat, log_samples=True,
                          bootstrap_iters=0, gen_kwargs={"max_gen_toks": MAX_NEW})
    assert out is not None
    # one logged sample per document and filter (GSM8K has two): keep one per document, in order
    return {name: sorted({s["doc_id"]: s for s in samples}.values(), key=lambda s: s["doc_id"])
            for name, samples in out["samples"].items()}


def _gage(model_dir: Path, data: dict[str, Any], out: Path, chat: bool, monkeypatch: pytest.MonkeyPatch
          ) -> tuple[list[str], list[tuple[str, str]], dict[str, list[dict[str, Any]]]]:
    prompts: list[str] = []
    pairs: list[tuple[str, str]] = []
    prompt_text, encode_pair = HFRuntime._prompt_text, HFRuntime.encode_pair

    def spy_prompt(self: HFRuntime, prompt: str | None, messages: list[dict[str, Any]]) -> str:
        prompts.append(prompt_text(self, prompt, messages))
        return prompts[-1]

    def spy_pair(self: HFRuntime, context: str, continuation: str) -> tuple[list[int], list[int]]:
        pairs.append((context, continuation))
        return encode_pair(self, context, continuation)

    monkeypatch.setattr(HFRuntime, "_prompt_text", spy_prompt)
    monkeypatch.setattr(HFRuntime, "encode_pair", spy_pair)
    with pytest.raises(SystemExit) as done:
        main(["eval", "--model", str(model_dir), "--datasets", "gsm8k", "arc_easy", "--eval-batch-size", "1",
              "--dataset-args", json.dumps(data["paths"]), "--generation-config", f"max_new_tokens={MAX_NEW}",
              "--work-dir", str(out), "--run-id", "r", "--progress", "off",
              *(["--apply_chat_template"] if chat else [])])
    assert done.value.code in (0, None)
    records: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(read_jsonl(out / "r" / "samples.jsonl"), key=lambda r: r["seq"]):
        records.setdefault(r["task_id"], []).append(r)
    return prompts, pairs, records


@pytest.mark.parametrize("chat", [False, True], ids=["default", "apply_chat_template"])
def test_prompts_and_answers_equal_lm_evals(model_dir: Path, data: dict[str, Any], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch, chat: bool) -> None:
    reference = _lm_eval(model_dir, data, chat)
    prompts, pairs, records = _gage(model_dir, data, tmp_path / "runs", chat, monkeypatch)

    # GSM8K (generation): the exact prompt strings, and the same greedy answers
    ref_gsm = reference["gsm8k"]
    assert sorted(prompts) == sorted(s["arguments"][0][0] for s in ref_gsm)
    assert [r["model_output"]["answer"] for r in records["gsm8k"]] == [s["resps"][0][0] for s in ref_gsm]
    # ARC (log-likelihood, few-shot): the exact (context, continuation) pairs, and the same log-likelihoods
    ref_arc = reference["arc_easy"]
    expected_pairs = [(context, continuation) for s in ref_arc for context, continuation in s["arguments"]]
    assert sorted(pairs) == sorted(expected_pairs)
    for record, ref in zip(records["arc_easy"], ref_arc, strict=True):
        lls = [resp[0][0] for resp in ref["resps"]]
        assert record["model_output"]["loglikelihoods"] == pytest.approx(lls, abs=1e-4)

    fmt = "chat_template" if chat else "plain"
    for task_records in records.values():
        for r in task_records:
            assert r["model_output"]["prompt_format"] == r["sample"]["metadata"]["prompt_format"] == fmt
    first_gsm, first_arc = sorted(prompts)[0], expected_pairs[0][0]
    if chat:  # really the template, with the few-shot examples as separate turns
        assert first_gsm.startswith("<s><|user|>Question:") and first_gsm.endswith("<|assistant|>")
        assert first_gsm.count("<|user|>") == 6 and first_gsm.count("<|assistant|>") == 6
        assert first_arc.count("<|user|>") == ARC_SHOTS + 1
        assert not expected_pairs[0][1].startswith(" ")  # lm-eval drops the target delimiter under a template
    else:
        assert "<|" not in first_gsm + first_arc and first_gsm.startswith("Question:")
        assert expected_pairs[0][1].startswith(" ")


def test_mmlu_chat_turns_put_the_subject_description_in_the_system_message(tmp_path: Path) -> None:
    """The layout itself, per MMLU subject and without a model: lm-eval's description becomes the system
    message, each 5-shot example a user/assistant pair (its fewshot_context with a template that returns the
    messages it is given), and the continuations are lm-eval's chat-template ones (no leading space)."""
    from gage_eval.config.models import DatasetSpec

    from .test_bench_mc_knowledge import MMLU_SUBJECTS, lm_task, mmlu_setup, samples_of

    dev, test, plain = mmlu_setup(tmp_path, 5)
    spec = DatasetSpec(dataset_id="mmlu", loader="hf_hub", hub_params={"split": "test"}, params={
        "path": str(tmp_path / "test.parquet"), "preprocess": "mmlu", "preprocess_kwargs": {
            "num_fewshot": 5, "fewshot_split": "dev", "fewshot_sampler": "first_n",
            "fewshot_path": str(tmp_path / "dev.parquet"), "style": "lm_eval_chat"}})
    samples = samples_of(spec)
    assert [s.inputs["ll_context"] for s in samples] == [s.inputs["ll_context"] for s in plain]  # plain untouched

    def as_messages(messages: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        return json.dumps(messages)

    checked = 0
    for subject in MMLU_SUBJECTS:
        task = lm_task(f"mmlu/default/mmlu_{subject}.yaml", {
            "test": [d for d in test if d["subject"] == subject], "dev": [d for d in dev if d["subject"] == subject]})
        ours = [s for s in samples if s.metadata["subject"] == subject]
        for doc, sample in zip(task.test_docs(), ours, strict=True):
            context = task.fewshot_context(doc, 5, apply_chat_template=True, fewshot_as_multiturn=True,
                                           chat_template=as_messages)
            assert [m.model_dump(exclude_none=True) for m in sample.messages] == json.loads(context)
            requests = task.construct_requests(doc, context, apply_chat_template=True)
            assert [inst.arguments[1] for inst in requests] == sample.inputs["ll_continuations"]
            checked += 1
    first = json.loads(task.fewshot_context(next(iter(task.test_docs())), 5, apply_chat_template=True,
                                            fewshot_as_multiturn=True, chat_template=as_messages))
    assert first[0]["role"] == "system" and first[0]["content"].startswith("The following are multiple choice")
    assert [m["role"] for m in first[1:]] == ["user", "assistant"] * 5 + ["user"]
    assert checked == len(samples)


def test_flag_spellings_and_contradictions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    from gage_eval.config.quick import compile_quick, quick_task
    from gage_eval.errors import ConfigError

    (tmp_path / "config.json").write_text("{}")
    for flag in ("--apply-chat-template", "--apply_chat_template", None):
        with pytest.raises(SystemExit):
            main(["eval", "--model", str(tmp_path), "--datasets", "gsm8k", "arc_easy", "--dry-run",
                  *([flag] if flag else [])])
        cfg = yaml.safe_load(capsys.readouterr().out)
        fmt = "chat_template" if flag else "plain"
        assert cfg["backends"][0]["config"]["use_chat_template"] is bool(flag)
        assert {a["params"]["prompt_format"] for a in cfg["role_adapters"]} == {fmt}
        styles = {d["dataset_id"]: d["params"]["preprocess_kwargs"].get("style") for d in cfg["datasets"]}
        assert styles == ({"gsm8k": "lm_eval_chat", "arc_easy": "lm_eval_chat"} if flag
                          else {"gsm8k": "completion", "arc_easy": None})
    chat = compile_quick(quick_task({"model": str(tmp_path), "datasets": ["gsm8k"], "template_type": "chat"}))
    assert chat["role_adapters"][0]["params"]["prompt_format"] == "chat_template"
    with pytest.raises(ConfigError, match="contradicts"):
        compile_quick(quick_task({"model": str(tmp_path), "datasets": ["gsm8k"], "template_type": "base",
                                  "apply_chat_template": True}))
    with pytest.raises(ConfigError, match="completions endpoint"):
        compile_quick(quick_task({"model": "m", "api_url": "http://127.0.0.1:9/v1/completions",
                                  "datasets": ["gsm8k"], "apply_chat_template": True}))
    served = compile_quick(quick_task({"model": "m", "api_url": "http://127.0.0.1:9/v1", "datasets": ["gsm8k"],
                                       "apply_chat_template": True}))  # a chat endpoint templates server-side
    assert served["datasets"][0]["params"]["preprocess_kwargs"]["style"] == "lm_eval_chat"
