#!/usr/bin/env python3
"""Builds a tiny Qwen2.5-VL checkpoint offline, for testing training/recipe_vlm.py without a model hub.

  python make_tiny_qwen25vl.py OUT_MODEL_DIR OUT_DATA_DIR [--examples N] [--seed S]

OUT_MODEL_DIR: random weights from a tiny Qwen2_5_VLConfig (2 vision blocks, 2 text layers,
hidden 64), a byte-level BPE tokenizer trained here with the `tokenizers` library on the data's
text (with every special token the Qwen2.5-VL processor and chat template use), the Qwen2-VL
image processor and Qwen2.5-VL's chat template: loadable with AutoProcessor / from_pretrained
like a hub checkpoint.
OUT_DATA_DIR: `gift dataset export --format chat` style data: chat.jsonl lines {id, image,
conversations: [{from: human, value: "<image>\\n<prompt>"}, {from: gpt, value: <code>}]} and
images/*.png (small renders of a dark rectangle on white, the code a CadQuery box of that size).
Prints one JSON line describing what it wrote.
"""
from __future__ import annotations

import argparse
import json
import os
import random

PROMPT = "Generate the CadQuery code for the part in the image."
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
           "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
           "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]
# Qwen2-VL / Qwen2.5-VL-Instruct's chat template (system prompt by default, images as vision_start/pad/end).
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def write_data(data_dir: str, count: int, seed: int):
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    os.makedirs(os.path.join(data_dir, "images"), exist_ok=True)
    rows = []
    for i in range(count):
        w, h = rng.randint(10, 40), rng.randint(10, 40)
        image = Image.new("RGB", (56, 56), "white")
        ImageDraw.Draw(image).rectangle([28 - w // 2, 28 - h // 2, 28 + w // 2, 28 + h // 2], fill=(90, 90, 140))
        name = f"images/part_{i:03d}.png"
        image.save(os.path.join(data_dir, name))
        code = f'import cadquery as cq\nresult = cq.Workplane("XY").box({w}, {h}, 5)\n'
        rows.append({"id": f"part_{i:03d}", "image": name,
                     "conversations": [{"from": "human", "value": f"<image>\n{PROMPT}"}, {"from": "gpt", "value": code}]})
    with open(os.path.join(data_dir, "chat.jsonl"), "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return rows


def make_tokenizer(texts):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   unk_token=None, additional_special_tokens=SPECIAL[1:],
                                   model_max_length=32768, padding_side="right", chat_template=CHAT_TEMPLATE)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("data_dir")
    ap.add_argument("--examples", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    import torch
    import transformers
    from transformers import (AutoProcessor, Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration,
                              Qwen2_5_VLProcessor)

    from transformers import Qwen2VLImageProcessor, Qwen2VLVideoProcessor  # these need torchvision, as on a GPU box

    rows = write_data(args.data_dir, args.examples, args.seed)
    texts = [r["conversations"][1]["value"] for r in rows] + [PROMPT, "You are a helpful assistant.", "system user assistant"]
    tokenizer = make_tokenizer(texts * 4)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL}

    vision = dict(patch_size=14, merge_size=2, temporal_patch_size=2)
    processor = Qwen2_5_VLProcessor(image_processor=Qwen2VLImageProcessor(min_pixels=56 * 56, max_pixels=112 * 112, **vision),
                                    video_processor=Qwen2VLVideoProcessor(**vision), tokenizer=tokenizer,
                                    chat_template=CHAT_TEMPLATE)

    torch.manual_seed(args.seed)
    config = Qwen2_5_VLConfig(
        text_config=dict(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                         rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [2, 3, 3]},
                         bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"]),
        vision_config=dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                           patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=56,
                           fullatt_block_indexes=[1]),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"],
    )
    model = Qwen2_5_VLForConditionalGeneration(config)
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    model.save_pretrained(args.model_dir, safe_serialization=True)
    processor.save_pretrained(args.model_dir)

    # It loads back the way recipe_vlm.py loads a hub checkpoint.
    AutoProcessor.from_pretrained(args.model_dir)
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"model": os.path.abspath(args.model_dir), "data": os.path.abspath(os.path.join(args.data_dir, "chat.jsonl")),
                      "examples": len(rows), "vocab": len(tokenizer), "parameters": params,
                      "transformers": transformers.__version__, "torch": torch.__version__}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
