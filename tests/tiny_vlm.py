"""A tiny random-weight LLaVA (CLIP vision tower + Llama) with its processor, built offline and saved to a
folder: the vision-language checkpoint the hf backend loads in tests (AutoProcessor +
AutoModelForImageTextToText), in a few seconds. LLaVA because transformers builds its processor without
torchvision (Qwen2-VL's needs a video processor that does)."""
from __future__ import annotations

from pathlib import Path

from .tiny_model import _train_bpe

# The chat template of LLaVA-style checkpoints: image parts become the <image> token, in place.
VLM_TEMPLATE = ("{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{% if m['content'] is string %}"
                "{{ m['content'] }}{% else %}{% for p in m['content'] %}{% if p['type'] == 'image' %}<image>"
                "{% else %}{{ p['text'] }}{% endif %}{% endfor %}{% endif %}\n{% endfor %}"
                "{% if add_generation_prompt %}<|assistant|>{% endif %}")
IMAGE_SIZE = 28


def build_tiny_llava(out: Path, max_positions: int = 512) -> Path:
    import torch
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor

    try:
        from transformers import CLIPImageProcessorPil as ImageProcessor  # no torchvision needed
    except ImportError:  # older transformers
        from transformers import CLIPImageProcessor as ImageProcessor

    tok = _train_bpe(add_bos=True)
    tok.add_special_tokens({"additional_special_tokens": ["<image>"]})
    image_id = tok.convert_tokens_to_ids("<image>")
    vision = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                              image_size=IMAGE_SIZE, patch_size=14, projection_dim=32)
    text = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=max_positions,
                       bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    config = LlavaConfig(vision_config=vision, text_config=text, image_token_index=image_id,
                         vision_feature_select_strategy="default", vision_feature_layer=-1)
    torch.manual_seed(0)
    model = LlavaForConditionalGeneration(config)
    with torch.no_grad():
        for p in model.parameters():  # peaked distributions: images visibly change the greedy answer
            p.normal_(0.0, 0.5)
    processor = LlavaProcessor(image_processor=ImageProcessor(size={"shortest_edge": IMAGE_SIZE},
                                                              crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}),
                               tokenizer=tok, patch_size=14, vision_feature_select_strategy="default",
                               chat_template=VLM_TEMPLATE, image_token="<image>", num_additional_image_tokens=1)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out
