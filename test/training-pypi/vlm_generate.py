#!/usr/bin/env python3
"""Reloads a checkpoint written by training/recipe_vlm.py (OUT/final) and generates from images.

  python vlm_generate.py CHECKPOINT CHAT_JSONL IMAGE_ROOT [--max-new-tokens N] [--first K]

Asks the way recipe_vlm.py trains (its messages_for and the checkpoint's own chat template), greedy,
and prints one JSON line: per example the id, the generated text and the code it was trained on;
plus, for the first example, the fraction of the code's tokens the model predicts with teacher
forcing (labels masked exactly as in training, recipe_vlm.build_dataset + make_collator), that loss,
and how far those logits are from the processor's own full output for the same conversation (what
generate() is fed): training and inference must see the same positions. Also any keys the reload
reported missing or unexpected.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "training"))

import recipe_vlm  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("data")
    ap.add_argument("image_root")
    ap.add_argument("--max-new-tokens", type=int, default=48)
    ap.add_argument("--first", type=int, default=2)
    args = ap.parse_args(argv)

    import torch
    import transformers
    from PIL import Image
    from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration

    examples, problems = recipe_vlm.load_chat(args.data, args.image_root)
    if problems:
        raise SystemExit("\n".join(problems))
    processor = AutoProcessor.from_pretrained(args.checkpoint)
    model, info = Qwen2_5_VLForConditionalGeneration.from_pretrained(args.checkpoint, dtype=torch.float32, output_loading_info=True)
    model.eval()
    load_problems = {k: sorted(v) for k, v in info.items() if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
    results = []
    for ex in examples[: args.first]:
        image = Image.open(ex["image"]).convert("RGB")
        prompt = processor.apply_chat_template(recipe_vlm.messages_for(ex, False), tokenize=False, add_generation_prompt=True)
        inputs = processor(text=[prompt], images=[image], return_tensors="pt")
        with torch.no_grad():
            out = model.generate(**inputs, max_new_tokens=args.max_new_tokens, do_sample=False)
        new = out[0, inputs["input_ids"].shape[1]:]
        results.append({"id": ex["id"], "generated": processor.tokenizer.decode(new, skip_special_tokens=True),
                        "new_tokens": int(new.shape[0]), "code": ex["code"]})

    item = recipe_vlm.build_dataset(processor, examples, 100_000)[0]
    batch = recipe_vlm.make_collator(processor.tokenizer.pad_token_id)([item])
    with torch.no_grad():
        logits = model(**{k: v for k, v in batch.items() if k != "labels"}).logits[0, :-1]
        # What training sees must be what inference sees: the same conversation through the processor
        # as generate() gets it (all of the processor's outputs) gives the same logits.
        ex = examples[0]
        full = processor.apply_chat_template(recipe_vlm.messages_for(ex, True), tokenize=False)
        direct = processor(text=[full], images=[Image.open(ex["image"]).convert("RGB")], return_tensors="pt")
        same_ids = torch.equal(direct["input_ids"][0], batch["input_ids"][0])
        train_vs_inference = float((model(**direct).logits[0, :-1] - logits).abs().max()) if same_ids else None
    labels = batch["labels"][0, 1:]
    keep = labels != -100
    loss = torch.nn.functional.cross_entropy(logits[keep], labels[keep]).item()
    accuracy = (logits[keep].argmax(-1) == labels[keep]).float().mean().item()
    print(json.dumps({"results": results, "load_problems": load_problems,
                      "teacher_forced": {"loss": loss, "token_accuracy": accuracy, "code_tokens": int(keep.sum()),
                                         "same_ids_as_processor": same_ids, "max_abs_vs_processor": train_vs_inference},
                      "transformers": transformers.__version__, "torch": torch.__version__}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
