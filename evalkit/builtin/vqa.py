"""builtin:tiny-vqa: a random-weight LLaVA (CLIP vision tower + Llama) with its processor and
a LLaVA-1.5-style chat template, saved with save_pretrained and loaded back through
AutoModelForImageTextToText / AutoProcessor, as a hub image-text-to-text model is."""

from __future__ import annotations

from pathlib import Path

from evalkit.builtin.tokenizers import llama_tokenizer
from evalkit.hf import quiet_hf_logging

IMAGE_TOKEN = "<image>"
# llava-hf/llava-1.5-*-hf's conversation format: "USER: <image>\n{question} ASSISTANT:"
CHAT_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] == 'user' %}USER: {% for c in message['content'] %}"
    "{% if c['type'] == 'image' %}<image>\n{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %} "
    "{% else %}ASSISTANT: {% for c in message['content'] %}{{ c['text'] }}{% endfor %}</s>{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)


def build_tiny_vqa(out_dir: Path, seed: int = 0) -> None:
    import torch
    from transformers import (CLIPImageProcessor, CLIPVisionConfig, LlamaConfig, LlavaConfig,
                              LlavaForConditionalGeneration, LlavaProcessor)

    tokenizer = llama_tokenizer((IMAGE_TOKEN,))
    vocab = tokenizer.get_vocab()
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                                       image_size=32, patch_size=16),
        text_config=LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                                pad_token_id=vocab["<pad>"], bos_token_id=vocab["<s>"], eos_token_id=vocab["</s>"]),
        image_token_index=vocab[IMAGE_TOKEN], vision_feature_select_strategy="default", vision_feature_layer=-2,
    )
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config).eval()
    images = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor = LlavaProcessor(image_processor=images, tokenizer=tokenizer, patch_size=16, chat_template=CHAT_TEMPLATE,
                               vision_feature_select_strategy="default", num_additional_image_tokens=1)
    quiet_hf_logging()
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
