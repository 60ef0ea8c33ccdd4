"""`gage eval` takes lm-eval's spellings: an lm-eval command line runs unchanged on a tiny local checkpoint, each
alias compiles to the same pipeline as the gage spelling, and `--help` is never cut short."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gage_eval.cli.app import main
from gage_eval.errors import ConfigError

from .conftest import write_jsonl

ROOT = Path(__file__).resolve().parents[1]


def _gage(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        main(args)
    captured = capsys.readouterr()
    return done.value.code or 0, captured.out + captured.err


def _dry(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out = _gage(["eval", *args, "--dry-run"], capsys)
    assert code == 0, out
    return yaml.safe_load(out)


def _data_dir(tmp_path: Path) -> Path:
    """Local copies as `--dataset-dir` reads them (DIR/<benchmark>/<split>.jsonl): the tests never download."""
    root = tmp_path / "data"
    arc = [{"id": f"a{i}", "question": f"What is {i}?", "choices": {"text": ["one", "two", "three"],
                                                                     "label": ["A", "B", "C"]},
            "answerKey": "ABC"[i % 3]} for i in range(12)]
    gsm = [{"question": f"Tom has {i} apples and buys 3. How many?", "answer": f"{i} + 3 = {i + 3}\n#### {i + 3}"}
           for i in range(12)]
    (root / "arc_easy").mkdir(parents=True)
    (root / "gsm8k").mkdir()
    write_jsonl(root / "arc_easy" / "test.jsonl", arc)
    write_jsonl(root / "gsm8k" / "test.jsonl", gsm)
    return root


def test_an_lm_eval_command_line_runs_on_a_local_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    from .tiny_model import build_tiny_llama

    build_tiny_llama(tmp_path / "ckpt", 512)
    data = _data_dir(tmp_path)
    monkeypatch.chdir(tmp_path)  # ./ckpt and out are relative, as an lm-eval user types them
    lm_eval_line = ("--model hf --model_args pretrained=./ckpt --tasks arc_easy,gsm8k --num_fewshot 0 "
                    "--batch_size 8 --limit 10 --output_path out --log_samples").split()
    # the lm-eval line unchanged; only --dataset-dir is added, because the tests run offline
    code, out = _gage(["eval", *lm_eval_line, "--dataset-dir", str(data)], capsys)
    assert code == 0, out
    (run_dir,) = (tmp_path / "out").iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["run"]["status"] == "completed"
    tasks = {t["task_id"]: t for t in summary["tasks"]}
    assert set(tasks) == {"arc_easy", "gsm8k"}
    assert all(t["sample_count"] == 10 for t in tasks.values())  # --limit 10
    assert set(tasks["arc_easy"]["metrics"]) >= {"acc", "acc_norm"}  # log-likelihoods on the checkpoint
    config = json.loads((run_dir / "config.json").read_text())
    assert config["backends"][0]["type"] == "hf" and config["backends"][0]["config"]["model_path"] == "./ckpt"
    assert config["backends"][0]["config"]["batch_size"] == 8
    for ds in config["datasets"]:  # --num_fewshot 0 for every task: gsm8k's default is 5 shots
        assert ds["params"]["preprocess_kwargs"]["num_fewshot"] == 0
    samples = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 20  # --log_samples: samples are always logged
    assert all(s["sample"]["metadata"]["num_fewshot"] == 0 for s in samples)


def test_each_lm_eval_alias_compiles_like_the_gage_spelling(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    gage = _dry(["--model", str(ckpt), "--datasets", "arc_easy", "gsm8k", "--eval-batch-size", "4",
                 "--model-args", "dtype=float16,device=cpu", "--dataset-args",
                 json.dumps({"arc_easy": {"few_shot_num": 3}, "gsm8k": {"few_shot_num": 3}})], capsys)
    lm_eval = _dry(["--model", "hf", "--model_args", f"pretrained={ckpt},dtype=half", "--device", "cpu",
                    "--tasks", "arc_easy,gsm8k", "--num_fewshot", "3", "--batch_size", "4"], capsys)
    assert lm_eval == gage
    # gage's own `hf` backend spelling keeps working
    own = _dry(["--model", "hf", "--model-args", f"model_path={ckpt},dtype=float16,device=cpu", "--datasets",
                "arc_easy", "gsm8k", "--eval-batch-size", "4", "--dataset-args",
                json.dumps({"arc_easy": {"few_shot_num": 3}, "gsm8k": {"few_shot_num": 3}})], capsys)
    assert own["backends"] == gage["backends"]
    # --num_fewshot gives way to an explicit few_shot_num for one benchmark
    mixed = _dry(["--model", str(ckpt), "--tasks", "arc_easy", "gsm8k", "--num_fewshot", "2", "--dataset-args",
                  json.dumps({"gsm8k": {"few_shot_num": 1}})], capsys)
    shots = {d["dataset_id"]: d["params"]["preprocess_kwargs"]["num_fewshot"] for d in mixed["datasets"]}
    assert shots == {"arc_easy": 2, "gsm8k": 1}
    # lm-eval's task names that differ from ours; batch_size auto = our default
    renamed = _dry(["--model", str(ckpt), "--tasks", "ceval-valid,hendrycks_math", "--batch_size", "auto"], capsys)
    assert [t["task_id"] for t in renamed["tasks"]] == ["ceval", "math"]
    assert renamed["backends"][0]["config"]["batch_size"] == 8
    # a served model the lm-eval way
    served = _dry(["--model", "local-completions", "--model_args",
                   "model=base,base_url=http://127.0.0.1:9/v1/completions,num_concurrent=4", "--tasks", "arc_easy"],
                  capsys)
    assert served["backends"][0] == {"backend_id": "model", "type": "openai_http",
                                     "config": {"base_url": "http://127.0.0.1:9/v1", "model": "base",
                                                "api": "completions"}}


@pytest.mark.parametrize("args, where, words", [
    (["--model", "hf", "--tasks", "gsm8k"], "--model_args", "pretrained=PATH"),
    (["--model", "dummy", "--tasks", "gsm8k", "--datasets", "mmlu"], "--tasks", "both --datasets and --tasks"),
    (["--model", "dummy"], "--datasets", "no benchmark given"),
    (["--model", "dummy", "--tasks", "gsm8k", "--batch_size", "big"], "--batch_size", "not a positive whole number"),
    (["--model", "dummy", "--tasks", "gsm8k", "--output_path", "a", "--output-dir", "b"], "--output_path", "both"),
    (["--model", "http://127.0.0.1:9/v1", "--model-id", "m", "--tasks", "gsm8k", "--device", "cuda"], "--device",
     "local checkpoint"),
])
def test_lm_eval_alias_mistakes_are_clear(capsys: pytest.CaptureFixture[str], args: list[str], where: str,
                                          words: str) -> None:
    code, out = _gage(["eval", *args, "--dry-run"], capsys)
    assert code == ConfigError.exit_code and f"error: {where}: " in out and words in out and "Traceback" not in out


def _help(args: list[str]) -> str:
    env = {**os.environ, "COLUMNS": "80", "PYTHONPATH": str(ROOT / "src")}
    env.pop("FORCE_COLOR", None)
    done = subprocess.run([sys.executable, "-m", "gage_eval", *args, "--help"], capture_output=True, text=True,
                          env=env, timeout=120, check=True)  # piped: not a terminal
    return done.stdout


def test_help_is_never_truncated() -> None:
    import typer.main

    from gage_eval.cli.app import _register, app

    _register()
    group: Any = typer.main.get_command(app)  # typer vendors click: a group with .commands
    verbs = ["eval", "run", "arena", "perf"]  # the verbs with the most (and longest) options
    for verb in verbs:
        text = _help([verb])
        assert "…" not in text, verb
        assert max(len(line) for line in text.splitlines()) <= 80, verb
        for param in group.commands[verb].params:
            for name in getattr(param, "opts", []):
                if name.startswith("-"):
                    assert name in text, (verb, name)
    eval_help = _help(["eval"])
    assert "--log_samples" in eval_help and "always written to" in eval_help
    top = _help([])
    for verb, command in group.commands.items():
        # hidden: `arena-play`, reached as `gage arena play` and listed in `gage arena --help`
        assert command.hidden or verb in top
