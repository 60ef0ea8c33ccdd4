"""Small benchmark copies and a scripted judge for the `gage sweep` tests."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .conftest import write_jsonl

_A = re.compile(r"\[The Start of Assistant A's Answer\]\n(.*?)\n\[The End of Assistant A", re.S)
_B = re.compile(r"\[The Start of Assistant B's Answer\]\n(.*?)\n\[The End of Assistant B", re.S)


def judge_script(body: dict[str, Any]) -> str:
    """A deterministic judge: the longer answer wins a pair; an answer is truthful when it has an even number of
    characters and informative when it has more than 3 words."""
    text = body["messages"][-1]["content"]
    if "[The Start of Assistant A's Answer]" in text:
        a, b = _A.search(text).group(1), _B.search(text).group(1)  # type: ignore[union-attr]
        return "[[A]]" if len(a) >= len(b) else "[[B]]"
    answer = text.split("[Answer to judge]")[-1]
    if "TRUTHFUL" in text:
        return "[[YES]]" if len(answer.strip()) % 2 == 0 else "[[NO]]"
    if "INFORMATIVE" in text:
        return "[[YES]]" if len(answer.split()) > 3 else "[[NO]]"
    return "[[YES]]"


def write_datasets(root: Path, n: int = 3, n_alpaca: int = 12) -> dict[str, dict[str, Any]]:
    """Local copies of every template the sweep runs (except LiveBench); returns --dataset-args."""
    root.mkdir(parents=True, exist_ok=True)
    ifeval = [{"key": i, "prompt": f"Write about topic {i} in lowercase letters only.",
               "instruction_id_list": ["change_case:english_lowercase", "punctuation:no_comma"],
               "kwargs": [{}, {}]} for i in range(n)]
    tqa = [{"type": "Adversarial", "category": "Myths", "question": f"Question {i}: do cats always land on feet?",
            "best_answer": "Not always", "correct_answers": ["Not always"], "incorrect_answers": ["Always"],
            "source": "x"} for i in range(n)]
    mc = [{"question": f"Question {i}: do cats always land on feet?",
           "mc1_targets": {"choices": ["Not always.", "Always."], "labels": [1, 0]},
           "mc2_targets": {"choices": ["Not always.", "Often.", "Always."], "labels": [1, 1, 0]}} for i in range(n)]
    alpaca = [{"instruction": f"Instruction {i}: describe a river.", "output": "word " * (2 + i),
               "generator": "gpt4_turbo", "dataset": "helpful_base"} for i in range(n_alpaca)]
    (root / "alpaca_eval_gpt4_baseline.json").write_text(json.dumps(alpaca))
    return {"ifeval": {"local_path": str(write_jsonl(root / "ifeval.jsonl", ifeval))},
            "truthfulqa_gen": {"local_path": str(write_jsonl(root / "tqa_gen.jsonl", tqa))},
            "truthfulqa_mc1": {"local_path": str(write_jsonl(root / "tqa_mc.jsonl", mc))},
            "truthfulqa_mc2": {"local_path": str(root / "tqa_mc.jsonl")},
            "alpaca_eval2": {"local_path": str(root / "alpaca_eval_gpt4_baseline.json")}}


def write_livebench(root: Path, categories: dict[str, list[dict[str, Any]]]) -> Path:
    """LiveBench's repository layout: <root>/<category>/<task>/question.jsonl."""
    for category, questions in categories.items():
        for q in questions:
            folder = root / category / q["task"]
            folder.mkdir(parents=True, exist_ok=True)
            with (folder / "question.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(q) + "\n")
    return root
