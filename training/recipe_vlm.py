#!/usr/bin/env python3
"""Supervised fine-tuning of a Qwen2.5-VL image->CadQuery model (the CAD-Coder setting of the GIFT
paper: retrain with plain SFT on base + SRS + FDA) on GIFT's chat export.

  torchrun --nproc-per-node G training/recipe_vlm.py --data DIR/chat.jsonl --image-root DIR \
      --model CHECKPOINT --out OUT [--lora] [--epochs E | --max-steps N] [--resume auto]
  python3 training/recipe_vlm.py --data DIR/chat.jsonl --image-root DIR --model M --out OUT --dry-run

The data is `gift dataset export DIR --format chat --out DIR`: chat.jsonl lines
{id, image, conversations: [{from: human, value: "<image>\\n<prompt>"}, {from: gpt, value: <code>}]}
with `image` relative to --image-root. Training: loss on the assistant's code only (prompt, image
and padding tokens are masked), vision tower frozen, bf16, gradient checkpointing, optional LoRA
adapters on the language model (merged into the final checkpoint), checkpoints every --save-steps
and resumption from the newest one, several GPUs through torchrun (DDP). Without CUDA it runs on
the CPU (bf16 autocast): only for tests and smoke runs with a tiny model.

Needs transformers >= 4.49 (Qwen2.5-VL); checked end to end only with 5.23 and the other pins of
scripts/install-python-pypi.sh (test/training-pypi/recipe-vlm-pypi.test.ts). Where an option was
renamed between versions it passes the name the installed version has.

Writes OUT/checkpoint-*/ while training, OUT/final/ (model + processor, loadable by
`vllm serve OUT/final`), OUT/model_card.json, OUT/plan.json and OUT/trainer_log.jsonl.

--dry-run needs neither torch nor transformers: it validates every line and image and prints the
plan as JSON (exit 2 with FILE:LINE messages when the data is bad). Importing this file has no side
effects and needs only the standard library.
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import re
import sys
import time

DEFAULT_MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"
IMAGE_TAG = "<image>"
# LoRA on the language model's projections only: the vision tower (whose module names contain
# "visual") stays frozen. peft full-matches this against module names.
LORA_TARGETS = r"^(?!.*visual).*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)$"


class DataError(Exception):
    pass


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="chat.jsonl from `gift dataset export --format chat`")
    ap.add_argument("--image-root", default=None, help="folder the `image` paths are relative to (default: beside --data)")
    ap.add_argument("--model", default=DEFAULT_MODEL, help="checkpoint to fine-tune (Hugging Face id or path)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--max-steps", type=int, default=-1, help="optimizer steps (overrides --epochs)")
    ap.add_argument("--batch-size", type=int, default=1, help="per GPU")
    ap.add_argument("--grad-accum", type=int, default=8)
    ap.add_argument("--lr", type=float, default=None, help="default 1e-5 (full) or 1e-4 (LoRA)")
    ap.add_argument("--warmup-ratio", type=float, default=0.03)
    ap.add_argument("--max-len", type=int, default=4096, help="longer examples (prompt+image+code tokens) are skipped")
    ap.add_argument("--lora", action="store_true", help="train LoRA adapters instead of the whole language model")
    ap.add_argument("--lora-r", type=int, default=64)
    ap.add_argument("--lora-alpha", type=int, default=128)
    ap.add_argument("--lora-dropout", type=float, default=0.05)
    ap.add_argument("--train-vision", action="store_true", help="do not freeze the vision tower")
    ap.add_argument("--save-steps", type=int, default=500)
    ap.add_argument("--resume", default="auto", help="auto (newest OUT/checkpoint-*), none, or a checkpoint path")
    ap.add_argument("--min-pixels", type=int, default=256 * 28 * 28)
    ap.add_argument("--max-pixels", type=int, default=1024 * 28 * 28)
    ap.add_argument("--workers", type=int, default=4, help="dataloader workers per GPU")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gpus", type=int, default=None, help="dry-run only: GPUs to plan for (default $WORLD_SIZE or 1)")
    ap.add_argument("--dry-run", action="store_true", help="validate the data and print the plan; no training")
    args = ap.parse_args(argv)
    if args.image_root is None:
        args.image_root = os.path.dirname(os.path.abspath(args.data))
    if args.lr is None:
        args.lr = 1e-4 if args.lora else 1e-5
    for name in ("batch_size", "grad_accum", "max_len", "save_steps"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 <= args.warmup_ratio < 1:
        ap.error("--warmup-ratio must be in [0, 1)")
    if args.max_steps <= 0 and args.epochs <= 0:
        ap.error("--epochs must be positive (or give --max-steps)")
    return args


def load_chat(path: str, image_root: str):
    """Reads and checks chat.jsonl; returns (examples, problems). Each example: id, image (absolute), prompt, code."""
    if not os.path.exists(path):
        raise DataError(f"{path} does not exist (export it with `gift dataset export DIR --format chat --out OUT`)")
    examples, problems = [], []
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                problems.append(f"{where}: not JSON ({e.msg})")
                continue
            if not isinstance(row, dict):
                problems.append(f"{where}: not a JSON object")
                continue
            conv = row.get("conversations")
            image = row.get("image")
            if not isinstance(image, str) or not image:
                problems.append(f"{where}: no `image`")
                continue
            if os.path.isabs(image) or ".." in image.replace("\\", "/").split("/"):
                problems.append(f"{where}: `image` must be relative to the image root, got {image!r}")
                continue
            image_path = os.path.join(image_root, image)
            if not os.path.isfile(image_path):
                problems.append(f"{where}: image {image_path} does not exist")
                continue
            if (not isinstance(conv, list) or len(conv) != 2 or not all(isinstance(t, dict) for t in conv)
                    or conv[0].get("from") != "human" or conv[1].get("from") != "gpt"):
                problems.append(f"{where}: `conversations` must be [{{from: human}}, {{from: gpt}}]")
                continue
            prompt, code = conv[0].get("value"), conv[1].get("value")
            if not isinstance(prompt, str) or IMAGE_TAG not in prompt:
                problems.append(f"{where}: the human turn must contain {IMAGE_TAG}")
                continue
            if not isinstance(code, str) or not code.strip():
                problems.append(f"{where}: the gpt turn (the code) is empty")
                continue
            examples.append({"id": str(row.get("id", line_no)), "image": image_path,
                             "prompt": prompt.replace(IMAGE_TAG, "").strip(), "code": code})
    if not examples and not problems:
        problems.append(f"{path}: no examples")
    return examples, problems


def latest_checkpoint(out: str):
    found = []
    for d in glob.glob(os.path.join(out, "checkpoint-*")):
        m = re.search(r"checkpoint-(\d+)$", d)
        if m and os.path.isdir(d):
            found.append((int(m.group(1)), d))
    return max(found)[1] if found else None


def make_plan(args, examples, world_size: int):
    per_step = args.batch_size * args.grad_accum * world_size
    steps_per_epoch = max(1, math.ceil(len(examples) / per_step))
    total_steps = args.max_steps if args.max_steps > 0 else max(1, math.ceil(steps_per_epoch * args.epochs))
    if args.resume == "auto":
        resume = latest_checkpoint(args.out)
    elif args.resume == "none":
        resume = None
    else:
        resume = args.resume
    code_chars = sorted(len(e["code"]) for e in examples) or [0]
    return {
        "model": args.model,
        "data": os.path.abspath(args.data),
        "examples": len(examples),
        "code_chars": {"min": code_chars[0], "median": code_chars[len(code_chars) // 2], "max": code_chars[-1]},
        "gpus": world_size,
        "batch_per_gpu": args.batch_size,
        "grad_accum": args.grad_accum,
        "effective_batch": per_step,
        "steps_per_epoch": steps_per_epoch,
        "total_steps": total_steps,
        "epochs": (total_steps / steps_per_epoch) if args.max_steps > 0 else args.epochs,
        "lr": args.lr,
        "schedule": f"cosine, warm-up {args.warmup_ratio:.0%}",
        "precision": "bf16",
        "gradient_checkpointing": True,
        "vision_tower": "trained" if args.train_vision else "frozen",
        "lora": {"r": args.lora_r, "alpha": args.lora_alpha, "dropout": args.lora_dropout, "targets": LORA_TARGETS} if args.lora else None,
        "loss": "assistant code tokens only",
        "max_len": args.max_len,
        "pixels": [args.min_pixels, args.max_pixels],
        "resume_from": resume,
        "save_steps": args.save_steps,
        "out": os.path.abspath(args.out),
        "final": os.path.join(os.path.abspath(args.out), "final"),
    }


# --- training (torch / transformers imported only here) ------------------------------------------


def messages_for(example, with_answer: bool):
    user = {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": example["prompt"]}]}
    if not with_answer:
        return [user]
    return [user, {"role": "assistant", "content": [{"type": "text", "text": example["code"]}]}]


def build_dataset(processor, examples, max_len: int):
    import torch
    from PIL import Image

    class ChatDataset(torch.utils.data.Dataset):
        """Tokenises lazily; labels are -100 everywhere but the assistant's code (and its end token)."""

        def __len__(self):
            return len(examples)

        def __getitem__(self, i):
            ex = examples[i]
            image = Image.open(ex["image"]).convert("RGB")
            full = processor.apply_chat_template(messages_for(ex, True), tokenize=False)
            prompt = processor.apply_chat_template(messages_for(ex, False), tokenize=False, add_generation_prompt=True)
            enc = processor(text=[full], images=[image], return_tensors="pt")
            prompt_len = processor(text=[prompt], images=[image], return_tensors="pt")["input_ids"].shape[1]
            ids = enc["input_ids"][0]
            if ids.shape[0] > max_len:
                return None  # dropped by the collator (counted there)
            labels = ids.clone()
            labels[:prompt_len] = -100
            item = {"input_ids": ids, "attention_mask": enc["attention_mask"][0], "labels": labels,
                    "pixel_values": enc["pixel_values"], "image_grid_thw": enc["image_grid_thw"]}
            if "mm_token_type_ids" in enc:
                # transformers >= 5 computes Qwen2.5-VL's 3D (M-RoPE) positions only when it gets these
                # (which tokens are image tokens); without them training would use 1D positions while
                # generation, fed the processor's full output, uses 3D ones.
                item["mm_token_type_ids"] = enc["mm_token_type_ids"][0]
            return item

    return ChatDataset()


def make_collator(pad_id: int):
    import torch

    skipped = {"too_long": 0}

    def collate(batch):
        kept = [b for b in batch if b is not None]
        skipped["too_long"] += len(batch) - len(kept)
        if not kept:
            raise RuntimeError("every example of a batch is longer than --max-len; raise it")
        n = max(b["input_ids"].shape[0] for b in kept)
        ids = torch.full((len(kept), n), pad_id, dtype=torch.long)
        mask = torch.zeros((len(kept), n), dtype=torch.long)
        labels = torch.full((len(kept), n), -100, dtype=torch.long)
        for i, b in enumerate(kept):
            L = b["input_ids"].shape[0]
            ids[i, :L], mask[i, :L], labels[i, :L] = b["input_ids"], b["attention_mask"], b["labels"]
        batch = {"input_ids": ids, "attention_mask": mask, "labels": labels,
                 "pixel_values": torch.cat([b["pixel_values"] for b in kept]),
                 "image_grid_thw": torch.cat([b["image_grid_thw"] for b in kept])}
        if all("mm_token_type_ids" in b for b in kept):
            types = torch.zeros((len(kept), n), dtype=kept[0]["mm_token_type_ids"].dtype)
            for i, b in enumerate(kept):
                types[i, :b["mm_token_type_ids"].shape[0]] = b["mm_token_type_ids"]
            batch["mm_token_type_ids"] = types
        return batch

    collate.skipped = skipped
    return collate


def checkpoint_weight_names(checkpoint: str):
    """The tensor names in a checkpoint's safetensors weights (one file or an index), or None."""
    index = os.path.join(checkpoint, "model.safetensors.index.json")
    if os.path.isfile(index):
        with open(index, encoding="utf-8") as f:
            return set(json.load(f)["weight_map"])
    single = os.path.join(checkpoint, "model.safetensors")
    if os.path.isfile(single):
        from safetensors import safe_open

        with safe_open(single, framework="pt") as f:
            return set(f.keys())
    return None


def resumable_trainer(trainer_class, model_class, dtype_kwarg: dict):
    """Trainer whose resume loads a full checkpoint's weights under the model's own parameter names.
    Since transformers 4.52 save_pretrained writes Qwen2.5-VL under the hub's key names (`visual.*`,
    `model.layers.*`), but Trainer resumes with a plain load_state_dict(strict=False) on the new names
    (`model.visual.*`, `model.language_model.*`): nothing matches, only a warning is logged, and
    training silently goes on from the base weights (huggingface/transformers#43701, still so in 5.23).
    When the names differ, the checkpoint is loaded the way from_pretrained loads any checkpoint
    (which renames them) and copied in strictly. LoRA adapters and matching names: Trainer as is."""

    class ResumableTrainer(trainer_class):
        def _load_from_checkpoint(self, resume_from_checkpoint, model=None):
            target = model if model is not None else self.model
            names = checkpoint_weight_names(resume_from_checkpoint)
            own = set(target.state_dict())
            if names is None or names <= own or any(n.startswith("base_model.") for n in own):
                return super()._load_from_checkpoint(resume_from_checkpoint, model)
            loaded = model_class.from_pretrained(resume_from_checkpoint, **dtype_kwarg)
            target.load_state_dict(loaded.state_dict(), strict=True)
            del loaded
            if int(os.environ.get("RANK", "0")) == 0:
                print(f"recipe_vlm: resumed weights from {resume_from_checkpoint} (renamed as from_pretrained does)", flush=True)

    return ResumableTrainer


def vision_module(model):
    for path in ("visual", "model.visual", "base_model.model.visual", "base_model.model.model.visual"):
        obj = model
        for part in path.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is not None:
            return obj
    return None


def _transformers_version(transformers) -> tuple:
    return tuple(int(p) for p in re.findall(r"\d+", transformers.__version__)[:2])


def _dtype_kwarg(transformers, dtype) -> dict:
    """from_pretrained's dtype argument: `dtype` since transformers 4.56 (`torch_dtype` warns, then goes)."""
    return {"dtype": dtype} if _transformers_version(transformers) >= (4, 56) else {"torch_dtype": dtype}


def _pixels_kwargs(transformers, min_pixels: int, max_pixels: int) -> dict:
    """The image processor's pixel budget: `size` in transformers 5 (min_pixels/max_pixels warn there and
    are being removed); min_pixels/max_pixels, as before, for 4.x."""
    if _transformers_version(transformers) >= (5, 0):
        return {"size": {"shortest_edge": min_pixels, "longest_edge": max_pixels}}
    return {"min_pixels": min_pixels, "max_pixels": max_pixels}


def _version_kwargs(training_arguments_class, warmup_ratio: float, cpu: bool) -> dict:
    """TrainingArguments options whose names changed across transformers versions.
    Warm-up as a fraction of the steps: `warmup_ratio` where it exists (< 5.0); transformers 5 dropped
    it and reads a `warmup_steps` below 1 as that fraction. Checkpointing: `activation_checkpointing`
    (5.x; `gradient_checkpointing` warns) or `gradient_checkpointing`. Without CUDA, bf16 needs `use_cpu`
    (older: `no_cuda`), else TrainingArguments refuses it (a CPU run: tests, smoke runs)."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(training_arguments_class)}
    kw = {"warmup_ratio": warmup_ratio} if "warmup_ratio" in names else {"warmup_steps": warmup_ratio}
    ckpt = "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"
    kw[ckpt] = True
    kw[ckpt + "_kwargs"] = {"use_reentrant": False}
    if cpu:
        kw["use_cpu" if "use_cpu" in names else "no_cuda"] = True
    return kw


def train(args, examples, plan):
    import torch
    import transformers
    from transformers import AutoProcessor, Trainer, TrainerCallback, TrainingArguments

    try:
        from transformers import Qwen2_5_VLForConditionalGeneration as ModelClass
    except ImportError as e:  # transformers < 4.49
        raise SystemExit(f"recipe_vlm: transformers {transformers.__version__} has no Qwen2.5-VL ({e}); install >= 4.49")

    rank = int(os.environ.get("RANK", "0"))
    transformers.set_seed(args.seed)
    processor = AutoProcessor.from_pretrained(args.model, **_pixels_kwargs(transformers, args.min_pixels, args.max_pixels))
    model = ModelClass.from_pretrained(args.model, attn_implementation="sdpa", **_dtype_kwarg(transformers, torch.bfloat16))
    model.config.use_cache = False
    if not args.train_vision:
        visual = vision_module(model)
        if visual is None:
            raise SystemExit("recipe_vlm: cannot find the vision tower (model.visual) to freeze")
        for p in visual.parameters():
            p.requires_grad_(False)
    if args.lora:
        from peft import LoraConfig, get_peft_model

        model.enable_input_require_grads()  # gradient checkpointing through frozen embeddings
        model = get_peft_model(model, LoraConfig(r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout,
                                                 target_modules=LORA_TARGETS, task_type="CAUSAL_LM"))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    if rank == 0:
        print(f"recipe_vlm: {trainable / 1e6:.1f} M of {total / 1e6:.1f} M parameters trainable", flush=True)

    dataset = build_dataset(processor, examples, args.max_len)
    collator = make_collator(processor.tokenizer.pad_token_id)
    log_path = os.path.join(args.out, "trainer_log.jsonl")

    class JsonlLog(TrainerCallback):
        def on_log(self, _args, state, _control, logs=None, **_):
            if state.is_world_process_zero and logs:
                with open(log_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"step": state.global_step, "time": time.time(), **logs}) + "\n")

    targs = TrainingArguments(
        **_version_kwargs(TrainingArguments, args.warmup_ratio, cpu=not torch.cuda.is_available()),
        output_dir=args.out, per_device_train_batch_size=args.batch_size, gradient_accumulation_steps=args.grad_accum,
        learning_rate=args.lr, num_train_epochs=args.epochs, max_steps=args.max_steps, lr_scheduler_type="cosine",
        weight_decay=0.0, bf16=True, logging_steps=10, save_strategy="steps",
        save_steps=args.save_steps, save_total_limit=2, report_to="none", remove_unused_columns=False,
        dataloader_num_workers=args.workers, ddp_find_unused_parameters=False, seed=args.seed,
    )
    trainer_class = resumable_trainer(Trainer, ModelClass, _dtype_kwarg(transformers, torch.bfloat16))
    trainer = trainer_class(model=model, args=targs, train_dataset=dataset, data_collator=collator, callbacks=[JsonlLog()])
    started = time.time()
    result = trainer.train(resume_from_checkpoint=plan["resume_from"])
    final = plan["final"]
    if args.lora:
        model = trainer.model.merge_and_unload()
    else:
        model = trainer.model
    if trainer.is_world_process_zero():
        model.config.use_cache = True
        model.save_pretrained(final, safe_serialization=True)
        processor.save_pretrained(final)
        card = {
            "format": "gift-cad-vlm/1", "base_model": args.model, "checkpoint": final,
            "examples": len(examples), "skipped_too_long": collator.skipped["too_long"],
            "steps": result.global_step, "train_loss": result.training_loss,
            "seconds": round(time.time() - started, 1), "plan": plan,
            "torch": torch.__version__, "transformers": transformers.__version__,
            "serve": f"vllm serve {final} --served-model-name gift-cadcoder",
        }
        with open(os.path.join(args.out, "model_card.json"), "w", encoding="utf-8") as f:
            json.dump(card, f, indent=2)
        print(f"recipe_vlm: wrote {final} ({result.global_step} steps, loss {result.training_loss:.4f})", flush=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        examples, problems = load_chat(args.data, args.image_root)
    except DataError as e:
        print(f"recipe_vlm: {e}", file=sys.stderr)
        return 2
    if problems:
        for p in problems[:50]:
            print(p, file=sys.stderr)
        if len(problems) > 50:
            print(f"… and {len(problems) - 50} more problems", file=sys.stderr)
        print(f"recipe_vlm: {len(problems)} bad lines in {args.data}; fix the export", file=sys.stderr)
        return 2
    world = args.gpus if args.dry_run and args.gpus else int(os.environ.get("WORLD_SIZE", "1"))
    plan = make_plan(args, examples, world)
    if args.dry_run:
        print(json.dumps(plan, indent=2))
        return 0
    if int(os.environ.get("RANK", "0")) == 0:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "plan.json"), "w", encoding="utf-8") as f:
            json.dump(plan, f, indent=2)
        print("recipe_vlm: plan " + json.dumps(plan), flush=True)
    train(args, examples, plan)
    return 0


if __name__ == "__main__":
    sys.exit(main())
