"""Tool calling on a local model through the hf backend: a tiny Llama whose chat template renders tools and
tool-call turns (Hermes style), trained in the test until it writes a `<tool_call>` for its task and then
answers from the tool's result — so the calls parsed here come out of a real model's generation."""
from __future__ import annotations

from pathlib import Path

import pytest

from gage_eval.agents.python_tools import PythonTool
from gage_eval.backends.base import GenerationRequest
from gage_eval.backends.lm_tokens import LMEncoder
from gage_eval.errors import BackendError

pytest.importorskip("torch")
pytest.importorskip("transformers")

TOOL_TEMPLATE = (
    "{{ bos_token }}{% if tools %}<|system|>Tools:{% for t in tools %}\n{{ t['function'] | tojson }}{% endfor %}\n"
    "{% endif %}{% for m in messages %}"
    "{% if m['role'] == 'assistant' and m.get('tool_calls') %}<|assistant|>{{ m['content'] or '' }}"
    "{% for c in m['tool_calls'] %}<tool_call>{\"name\": \"{{ c['function']['name'] }}\", \"arguments\": "
    "{{ c['function']['arguments'] | tojson }}}</tool_call>{% endfor %}\n"
    "{% elif m['role'] == 'tool' %}<|tool|><tool_response>{{ m['content'] }}</tool_response>\n"
    "{% else %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}")
SPECIALS = ["<pad>", "<s>", "</s>"]
# Added but not special, as in Qwen's tokenizer: one token each, and kept when the output is decoded.
MARKERS = ["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<|system|>", "<|user|>",
           "<|assistant|>", "<|tool|>"]
TASK = [{"role": "user", "content": "add 2 and 3"}]
CALL = '<tool_call>{"name": "add", "arguments": {"a": 2, "b": 3}}</tool_call>'
AFTER_CALL = [*TASK, {"role": "assistant", "content": None, "tool_calls": [
    {"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'}}]},
    {"role": "tool", "tool_call_id": "c1", "name": "add", "content": "5"}]


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


# The definition the agent's toolchain derives from `add` (so the trained prompt is the one the agent sends).
TOOLS = [PythonTool("add", add).spec.openai()]


def _tokenizer(template: str):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    import json

    corpus = [CALL, json.dumps(TOOLS[0]["function"]), "add 2 and 3", "the sum is 5", "Tools:"] * 50
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=400, special_tokens=SPECIALS,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    tok.add_tokens(MARKERS)
    tok.chat_template = template
    return tok


def _train(tok, model, examples: list[tuple[str, str]]) -> None:
    """Fit the random model to the given (prompt, completion) pairs: a few seconds on one CPU thread."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread is several times faster than contending for a loaded machine's cores
    try:
        pairs = [(tok.encode(p, add_special_tokens=False), tok.encode(c, add_special_tokens=False) + [tok.eos_token_id])
                 for p, c in examples]
        pad = torch.nn.utils.rnn.pad_sequence
        ids = pad([torch.tensor(p + c) for p, c in pairs], batch_first=True, padding_value=tok.pad_token_id)
        labels = pad([torch.tensor([-100] * len(p) + c) for p, c in pairs], batch_first=True, padding_value=-100)
        mask = pad([torch.ones(len(p) + len(c), dtype=torch.long) for p, c in pairs], batch_first=True)
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(600):
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            opt.step()
            opt.zero_grad()
            if loss.item() < 0.01:
                break
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tool_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out = tmp_path_factory.mktemp("tool_model")
    tok = _tokenizer(TOOL_TEMPLATE)
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=4, max_position_embeddings=256, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id))
    enc = LMEncoder(tok)
    _train(tok, model, [(enc.chat_text(TASK, TOOLS), CALL), (enc.chat_text(AFTER_CALL, TOOLS), "the sum is 5")])
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def test_template_renders_tools_and_tool_turns() -> None:
    enc = LMEncoder(_tokenizer(TOOL_TEMPLATE))
    text = enc.chat_text(AFTER_CALL, TOOLS)
    assert '<|system|>Tools:{"name": "add", "description": "Add two integers."' in text
    # OpenAI sends arguments as JSON text; the template gets an object (rendered as JSON, not as a quoted string).
    assert CALL in text and "<|tool|><tool_response>5</tool_response>" in text and text.endswith("<|assistant|>")
    with pytest.raises(BackendError, match="does not render tool definitions"):
        LMEncoder(_tokenizer("{% for m in messages %}{{ m['content'] }}{% endfor %}")).check_renders_tools(TOOLS)


async def test_hf_backend_returns_the_models_tool_call(tool_model: Path) -> None:
    from gage_eval.backends.hf import HFBackend

    backend = HFBackend.from_config({"model_path": str(tool_model), "max_new_tokens": 40})
    try:
        first = await backend.generate(GenerationRequest(messages=TASK, tools=TOOLS))
        assert first.texts[0] == CALL  # what the model wrote
        assert first.text == "" and first.finish_reason == "tool_calls"
        assert [(c["name"], c["arguments"], c["error"]) for c in first.tool_calls] == [("add", {"a": 2, "b": 3}, None)]
        second = await backend.generate(GenerationRequest(messages=AFTER_CALL, tools=TOOLS))
        assert second.text == "the sum is 5" and second.tool_calls == []
        plain = await backend.generate(GenerationRequest(messages=TASK))  # no tools: no parsing, no tool prompt
        assert plain.tool_calls == []
    finally:
        await backend.aclose()


async def test_agent_run_on_the_local_model(tool_model: Path, tmp_path: Path) -> None:
    import gage_eval
    from tests.conftest import write_jsonl

    data = write_jsonl(tmp_path / "t.jsonl", [{"id": "a", "prompt": "add 2 and 3", "label": "the sum is 5"}])
    cfg = {"kind": "PipelineConfig", "metadata": {"name": "hf_agent"},
           "datasets": [{"dataset_id": "t", "loader": "jsonl", "params": {"path": str(data)}}],
           "backends": [{"backend_id": "local", "type": "hf",
                         "config": {"model_path": str(tool_model), "max_new_tokens": 40}}],
           "role_adapters": [{"adapter_id": "tools", "role_type": "toolchain",
                              "params": {"python_tools": ["tests.test_hf_tools:add"]}},
                             {"adapter_id": "agent", "role_type": "dut_agent", "backend_id": "local",
                              "params": {"max_turns": 3}}],
           "custom": {"steps": [{"step": "support", "adapter_id": "tools"},
                                {"step": "inference", "adapter_id": "agent"}, {"step": "auto_eval"}]},
           "metrics": ["exact_match"]}
    result = await gage_eval.arun(cfg, output_dir=tmp_path, run_id="hf", progress="off")
    assert result.status == "completed" and result.metrics["exact_match"]["value"] == 1.0
    from tests.conftest import read_jsonl

    traj = read_jsonl(tmp_path / "hf" / "samples.jsonl")[0]["trajectory"]
    assert traj["stop_reason"] == "final_answer" and traj["turn_count"] == 2
    call = traj["turns"][0]["tool_calls"][0]
    assert (call["name"], call["arguments"], call["status"]) == ("add", {"a": 2, "b": 3}, "ok")
    assert traj["messages"][2] == {"role": "tool", "tool_call_id": call["id"], "content": "5", "name": "add"}
