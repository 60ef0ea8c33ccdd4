"""The `hf` backend against lm-evaluation-harness' `hf` model (HFLM) and transformers' own `generate`.

A tiny random-weight Llama and a byte-level BPE tokenizer trained on the fly are saved to a temporary
folder; both our backend and lm-eval load that folder, offline.
"""
from __future__ import annotations

import asyncio
import math
import random
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from gage_eval.backends.base import GenerationRequest
from gage_eval.backends.hf import HFBackend
from gage_eval.errors import ConfigError

from .tiny_model import build_tiny_llama, vocabulary_words

MAX_POSITIONS = 128  # small, so that long contexts exercise lm-eval's left truncation


@pytest.fixture(scope="module")
def offline() -> Any:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("HF_DATASETS_OFFLINE", "1")
        import huggingface_hub.constants as hub_constants
        mp.setattr(hub_constants, "HF_HUB_OFFLINE", True)  # read at import time: the env var alone may be late
        yield


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, offline: None) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), MAX_POSITIONS)


@pytest.fixture(scope="module")
def reference(model_dir: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(model_dir).eval(), AutoTokenizer.from_pretrained(model_dir)


def _greedy_text(reference: tuple[Any, Any], ids: list[int], max_new_tokens: int) -> str:
    import torch

    model, tok = reference
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), do_sample=False, max_new_tokens=max_new_tokens)
    return tok.decode(out[0, len(ids):], skip_special_tokens=True)


@pytest.fixture(scope="module")
def questions(reference: tuple[Any, Any]) -> list[tuple[str, list[str]]]:
    """50 multiple-choice questions with the edge cases lm-eval treats specially."""
    rng = random.Random(7)
    words = vocabulary_words(random.Random(0))
    tok = reference[1]
    out: list[tuple[str, list[str]]] = []
    for i in range(50):
        subject = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
        context = f"Question: what is the {subject}?\nAnswer:"
        if i % 10 == 3:  # longer than the model's 128 positions: truncated from the left
            context = " ".join(rng.choice(words) for _ in range(120)) + "\n" + context
        choices = [" " + " ".join(rng.choice(words) for _ in range(rng.randint(1, 3))) for _ in range(4)]
        if i % 7 == 1:  # trailing space in the context moves into the continuation
            context += " "
            choices = [c.lstrip() for c in choices]
        if i == 0:  # empty context: scored after the prefix (BOS) token
            context, choices = "", [c.lstrip() for c in choices]
        if i % 5 == 2:  # the model's own greedy continuation, so that some pairs are greedy
            choices[1] = _greedy_text(reference, tok.encode(context), 2)
            if not choices[1]:
                choices[1] = " zz"
        out.append((context, choices))
    return out


def _lm_eval_scores(model_dir: Path, pairs: list[tuple[str, str]]) -> list[tuple[float, bool]]:
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=str(model_dir), device="cpu", batch_size=8)
    requests = [Instance("loglikelihood", {}, pair, i) for i, pair in enumerate(pairs)]
    return lm.loglikelihood(requests, disable_tqdm=True)


def _acc(lls: list[float], choices: list[str]) -> tuple[int, int]:
    norm = [ll / len(c) for ll, c in zip(lls, choices)]  # lm-eval acc_norm: per character of the choice
    return max(range(len(lls)), key=lls.__getitem__), max(range(len(norm)), key=norm.__getitem__)


def _backend(model_dir: Path, **extra: Any) -> HFBackend:
    return HFBackend.from_config({"model_path": str(model_dir), "device": "cpu", "batch_size": 8, **extra})


async def test_loglikelihood_matches_lm_eval_hflm(model_dir: Path, questions: list[tuple[str, list[str]]]) -> None:
    pytest.importorskip("lm_eval")
    pytest.importorskip("accelerate", reason="lm-eval's HFLM imports accelerate")
    backend = _backend(model_dir)
    ours = await asyncio.gather(*(backend.loglikelihood(ctx, choices) for ctx, choices in questions))
    pairs = [(ctx, c) for ctx, choices in questions for c in choices]
    theirs = _lm_eval_scores(model_dir, pairs)
    flat = [score for per_question in ours for score in per_question]
    assert len(flat) == len(theirs) == 200
    for (ctx, cont), (ll, greedy), (ref_ll, ref_greedy) in zip(pairs, flat, theirs):
        assert abs(ll - ref_ll) < 1e-4, (ctx[-40:], cont, ll, ref_ll)
        assert greedy == ref_greedy, (ctx[-40:], cont)
    assert any(g for _, g in theirs), "the set must contain greedy continuations for is_greedy to be tested"
    assert not all(g for _, g in theirs)
    for q, (_, choices) in enumerate(questions):
        ref = [ll for ll, _ in theirs[4 * q:4 * q + 4]]
        assert _acc([ll for ll, _ in ours[q]], choices) == _acc(ref, choices)
    assert all(math.isfinite(ll) and ll < 0 for ll, _ in flat)
    await backend.aclose()


async def test_concurrent_calls_are_batched_without_changing_results(
        model_dir: Path, questions: list[tuple[str, list[str]]]) -> None:
    calls = [questions[i % len(questions)] for i in range(64)]
    sequential_backend = _backend(model_dir)
    sequential = [await sequential_backend.loglikelihood(ctx, choices) for ctx, choices in calls]
    assert sequential_backend.forward_passes == 64  # one call at a time: 4 pairs per forward pass
    backend = _backend(model_dir)
    concurrent = await asyncio.gather(*(backend.loglikelihood(ctx, choices) for ctx, choices in calls))
    assert backend.forward_passes == 64 * 4 // 8  # full batches of 8 pairs
    for seq, con in zip(sequential, concurrent):
        for (a, ga), (b, gb) in zip(seq, con):
            assert abs(a - b) < 1e-5 and ga == gb


async def test_greedy_generation_matches_transformers_generate(model_dir: Path, reference: tuple[Any, Any]) -> None:
    tok = reference[1]
    backend = _backend(model_dir)
    prompts = ["Question: what is the river?\nAnswer:", "apple stone", "Question: what is the blue cat tree?"]
    expected = [_greedy_text(reference, tok.encode(p), 12) for p in prompts]
    alone = await backend.generate(GenerationRequest(prompt=prompts[0], params={"max_tokens": 12, "temperature": 0}))
    assert alone.text == expected[0] and alone.texts == [expected[0]]
    assert alone.usage["prompt_tokens"] == len(tok.encode(prompts[0]))
    assert alone.finish_reason in ("length", "stop")
    calls_before = backend.generate_calls
    together = await asyncio.gather(*(backend.generate(GenerationRequest(prompt=p, params={"max_new_tokens": 12}))
                                      for p in prompts))
    assert [r.text for r in together] == expected  # left padding does not change greedy output
    assert backend.generate_calls - calls_before == 1


async def test_stop_strings_cut_the_output(model_dir: Path, reference: tuple[Any, Any]) -> None:
    prompt = "Question: what is the river?\nAnswer:"
    full = _greedy_text(reference, reference[1].encode(prompt), 12)
    stop = full[4:6]
    assert len(full) > 6 and stop
    backend = _backend(model_dir)
    out = await backend.generate(GenerationRequest(prompt=prompt, params={"max_tokens": 12, "stop": [stop]}))
    assert out.text == full[:full.find(stop)]
    assert out.finish_reason == "stop"
    assert out.usage["completion_tokens"] < 12  # the stopping criterion ended generation early


async def test_chat_template_is_used_for_messages(model_dir: Path, reference: tuple[Any, Any]) -> None:
    tok = reference[1]
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "what is the river?"}]
    rendered = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert rendered.startswith("<s><|system|>")
    ids = tok.encode(rendered, add_special_tokens=False)  # the template already holds BOS
    chat = await _backend(model_dir).generate(GenerationRequest(messages=messages, params={"max_tokens": 8}))
    assert chat.usage["prompt_tokens"] == len(ids)
    assert chat.text == _greedy_text(reference, ids, 8)
    plain_ids = tok.encode("be brief\n\nwhat is the river?")
    plain = await _backend(model_dir, use_chat_template=False).generate(
        GenerationRequest(messages=messages, params={"max_tokens": 8}))
    assert plain.usage["prompt_tokens"] == len(plain_ids)
    assert plain.text == _greedy_text(reference, plain_ids, 8)


async def test_sampling_with_seed_and_n(model_dir: Path) -> None:
    backend = _backend(model_dir, generation={"temperature": 1.0})
    request = GenerationRequest(prompt="apple", params={"max_tokens": 8, "n": 3, "seed": 11})
    first, again = await backend.generate(request), await backend.generate(request)
    assert len(first.texts) == 3 and first.texts == again.texts and first.text == first.texts[0]
    assert len(set(first.texts)) > 1  # three samples, not one answer repeated
    other = await backend.generate(GenerationRequest(prompt="apple", params={"max_tokens": 8, "n": 3, "seed": 12}))
    assert other.texts != first.texts
    greedy = await backend.generate(GenerationRequest(prompt="apple", params={"max_tokens": 8, "n": 2,
                                                                               "temperature": 0}))
    assert greedy.texts == [greedy.text] * 2


def test_identity_ignores_device() -> None:
    # A hub-style id needs no folder; identity must not depend on where the model runs.
    a = HFBackend.from_config({"model_path": "org/model", "device": "cpu", "batch_size": 4})
    b = HFBackend.from_config({"model_path": "org/model", "device": "cuda:1", "batch_size": 16})
    c = HFBackend.from_config({"model_path": "org/model", "dtype": "bfloat16"})
    assert a.identity() == b.identity() != c.identity()
    assert a.identity()["model_path"] == "org/model"


def test_missing_model_folder_is_a_clear_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ConfigError) as info:
        HFBackend.from_config({"model_path": str(missing)})
    assert str(missing) in info.value.message and info.value.path == "config.model_path"
    assert info.value.__cause__ is None and info.value.__context__ is None
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no config.json"):
        HFBackend.from_config({"model_path": str(tmp_path / "empty")})
    with pytest.raises(ConfigError, match="device"):
        HFBackend.from_config({"model_path": "org/model", "device": "gpu"})


async def test_unavailable_hub_model_fails_every_call_with_the_id(offline: None) -> None:
    backend = HFBackend.from_config({"model_path": "gage-test-org/does-not-exist", "device": "cpu"})
    for _ in range(2):  # the load error is remembered, not retried per sample
        with pytest.raises(ConfigError, match="gage-test-org/does-not-exist") as info:
            await backend.loglikelihood("a", [" b"])
        assert info.value.__suppress_context__ and info.value.path == "config.model_path"


async def test_unscorable_pair_fails_alone(model_dir: Path) -> None:
    from gage_eval.errors import BackendError

    backend = _backend(model_dir)
    bad, good = await asyncio.gather(backend.loglikelihood("Answer:", [""]), backend.loglikelihood("Answer:", [" x"]),
                                     return_exceptions=True)
    assert isinstance(bad, BackendError) and "no tokens" in str(bad)
    assert isinstance(good, list) and good[0][0] < 0


def test_registration_and_listing_do_not_import_torch() -> None:
    import subprocess
    import sys

    code = ("import sys, gage_eval; from gage_eval.registry import registry; registry.discover(); "
            "assert registry.has('backends', 'hf'); "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_missing_torch_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    with pytest.raises(ConfigError) as info:
        HFBackend.from_config({"model_path": "org/model"})
    assert "torch" in info.value.message and "pip install 'gage-eval[hf]'" in (info.value.fix or "")
    assert "torch==2.13.0" in (info.value.fix or "")
