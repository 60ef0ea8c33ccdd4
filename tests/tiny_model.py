"""A tiny random-weight Llama with a byte-level BPE tokenizer trained on the fly, saved to a folder: the
local checkpoint the hf backend (and lm-eval's HFLM) load in tests, offline and in seconds."""
from __future__ import annotations

import random
from pathlib import Path

CHAT_TEMPLATE = ("{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>{% endif %}")


def vocabulary_words(rng: random.Random) -> list[str]:
    base = ["apple", "river", "stone", "blue", "green", "quick", "slow", "house", "tree", "cloud", "paris",
            "london", "seven", "three", "cat", "dog", "bird", "fish", "answer", "question"]
    return base + ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 8)))
                   for _ in range(250)]


def _train_bpe(add_bos: bool) -> object:
    """A byte-level BPE tokenizer trained on the fly (no download), as PreTrainedTokenizerFast."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    rng = random.Random(0)
    words = vocabulary_words(rng)
    corpus = [" ".join(rng.choice(words) for _ in range(12)) for _ in range(400)]
    corpus += [f"Question: what is the {rng.choice(words)}?\nAnswer: {rng.choice(words)}" for _ in range(100)]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=500, special_tokens=["<pad>", "<s>", "</s>"],
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    if add_bos:  # like Llama: BOS is added by default, so the "no second BOS" and empty-context rules are exercised
        bpe.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                           special_tokens=[("<s>", bpe.token_to_id("<s>"))])
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    tok.chat_template = CHAT_TEMPLATE
    return tok


def build_tiny_llama(out: Path, max_positions: int = 128, hidden_size: int = 32) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = _train_bpe(add_bos=True)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=hidden_size, intermediate_size=2 * hidden_size, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=max_positions,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id, tie_word_embeddings=False)
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        for p in model.parameters():  # larger than the default init: peaked, distinguishable distributions
            p.normal_(0.0, 0.5)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def build_tiny_gpt2(out: Path, n_positions: int = 1024, n_embd: int = 64, n_layer: int = 2,
                    chat_template: bool = False) -> Path:
    """A random-weight GPT-2 (no BOS added by the tokenizer, learned positions, as the real one).
    `chat_template=True` gives the tokenizer one, as most current base models ship."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    tok = _train_bpe(add_bos=False)
    if not chat_template:
        tok.chat_template = None
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tok), n_positions=n_positions, n_embd=n_embd, n_layer=n_layer,
                        n_head=max(1, n_embd // 64), bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                        pad_token_id=tok.pad_token_id)
    model = GPT2LMHeadModel(config)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out
