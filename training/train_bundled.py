#!/usr/bin/env python3
"""Train the bundled image->CadQuery model and export it to ONNX.

  python3 training/train_bundled.py --data DIR --out DIR [--config tiny|small|base] [--steps N]
                                    [--device cpu|cuda] [--batch-size B] [--lr LR] [--seed S] [--max-minutes M]

DIR is an imagefolder dataset: DIR/metadata.jsonl with one JSON object per line carrying
`file_name` (image path relative to DIR), `code` (CadQuery program) and `tokens` (token ids from
the TypeScript tokenizer, src/core/model/tokenizer.ts), plus DIR/vocab.json from the same export.
Python never tokenises, so training and the extension can never disagree about token ids.

Writes to --out: model.onnx (one file, opset 17, see export_onnx.py), model.json (model card:
preprocessing, architecture, vocabulary, training facts), vocab.json, checkpoint.pt and
reference.json (torch logits on a fixed input, for checking the ONNX runtime against torch).
On a 2-core CPU set OMP_NUM_THREADS=1 (the default threading is ~30x slower under load).
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import platform
import random
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from export_onnx import INPUTS, OPSET, OUTPUTS, export_bundled  # noqa: E402
from gift_model import CONFIGS, GiftModel, build_config, count_parameters  # noqa: E402
from gift_preprocess import PREPROCESS_SPEC, preprocess_file  # noqa: E402

CARD_FORMAT = "gift-cad-model/1"
DEFAULT_LR = {"tiny": 2e-3, "small": 6e-4, "base": 3e-4}


def fail(message: str) -> None:
    raise SystemExit(f"train_bundled: {message}")


def load_vocab(data_dir: str) -> dict:
    path = os.path.join(data_dir, "vocab.json")
    if not os.path.exists(path):
        fail(f"{path} is missing. Export the dataset with token ids from the TypeScript tokenizer "
             "first (it writes vocab.json and a `tokens` list on every metadata.jsonl line).")
    with open(path, encoding="utf-8") as f:
        vocab = json.load(f)
    tokens = vocab.get("tokens")
    size = vocab.get("size", len(tokens) if isinstance(tokens, list) else None)
    if not isinstance(size, int) or size <= 0:
        fail(f"{path}: needs `size` or a `tokens` list")
    for key in ("bos", "eos", "pad"):
        if not isinstance(vocab.get(key), int) or not 0 <= vocab[key] < size:
            fail(f"{path}: `{key}` must be a token id in 0..{size - 1}")
    vocab["size"] = size
    return vocab


def load_examples(data_dir: str, vocab: dict, max_len: int):
    path = os.path.join(data_dir, "metadata.jsonl")
    if not os.path.exists(path):
        fail(f"{path} is missing (expected an imagefolder dataset: metadata.jsonl + images)")
    examples, too_long = [], 0
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                fail(f"{path}:{line_no}: not JSON ({e})")
            if "file_name" not in row:
                fail(f"{path}:{line_no}: no `file_name`")
            tokens = row.get("tokens")
            if tokens is None:
                fail(f"{path}:{line_no}: no `tokens`. Token ids come from the TypeScript tokenizer: "
                     "run the dataset export (it adds `tokens` to every line and writes vocab.json) "
                     "before training.")
            if not all(isinstance(t, int) and 0 <= t < vocab["size"] for t in tokens):
                fail(f"{path}:{line_no}: `tokens` must be ids in 0..{vocab['size'] - 1}")
            if tokens and tokens[0] == vocab["bos"]:
                tokens = tokens[1:]
            if tokens and tokens[-1] == vocab["eos"]:
                tokens = tokens[:-1]
            seq = [vocab["bos"]] + tokens + [vocab["eos"]]
            if len(seq) > max_len:
                too_long += 1
                continue
            image_path = os.path.join(data_dir, row["file_name"])
            if not os.path.exists(image_path):
                fail(f"{path}:{line_no}: image {image_path} does not exist")
            examples.append((image_path, seq))
    if not examples:
        fail(f"{path}: no usable examples ({too_long} longer than max_len {max_len})")
    return examples, too_long


def load_images(examples, size: int) -> torch.Tensor:
    images = np.zeros((len(examples), 1, size, size), dtype=np.float32)
    for i, (image_path, _) in enumerate(examples):
        images[i, 0] = preprocess_file(image_path, size)
    return torch.from_numpy(images)


def make_batch(seqs, pad: int):
    longest = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), longest), pad, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
    mask = torch.zeros_like(ids, dtype=torch.bool)
    for i, s in enumerate(seqs):
        mask[i, 1:len(s)] = True  # targets are ids[:, 1:]
    return ids[:, :-1], ids[:, 1:], mask[:, 1:]


def augment(images: torch.Tensor, max_shift: int) -> torch.Tensor:
    """Random translation with background (0) fill: renders are not always centred."""
    if max_shift <= 0:
        return images
    padded = F.pad(images, (max_shift,) * 4)
    out = torch.empty_like(images)
    size = images.shape[-1]
    for i in range(images.shape[0]):
        dy, dx = random.randint(0, 2 * max_shift), random.randint(0, 2 * max_shift)
        out[i] = padded[i, :, dy:dy + size, dx:dx + size]
    return out


@torch.no_grad()
def evaluate(model, images, seqs, pad, device, batch_size):
    model.eval()
    total_loss, total_tokens, correct = 0.0, 0, 0
    for start in range(0, len(seqs), batch_size):
        inp, tgt, mask = make_batch(seqs[start:start + batch_size], pad)
        inp, tgt, mask = inp.to(device), tgt.to(device), mask.to(device)
        logits = model(images[start:start + batch_size].to(device), inp)
        loss = F.cross_entropy(logits[mask], tgt[mask], reduction="sum")
        total_loss += loss.item()
        total_tokens += int(mask.sum())
        correct += int((logits.argmax(-1)[mask] == tgt[mask]).sum())
    model.train()
    return total_loss / max(total_tokens, 1), correct / max(total_tokens, 1)


@torch.no_grad()
def reference_outputs(model, image: torch.Tensor, seq, vocab, file_name: str, greedy_steps: int):
    """Torch's own answers on a fixed input, for the ONNX-vs-torch check on the TypeScript side."""
    model.eval()
    prefix = seq[:min(len(seq), 8)]
    cross = model.encode(image)
    logits, _ = model.decode(torch.tensor([prefix]), model.empty_past(1), cross)
    greedy, past, current = [], model.empty_past(1), [vocab["bos"]]
    for _ in range(greedy_steps):
        step_logits, past = model.decode(torch.tensor([current]), past, cross)
        nxt = int(step_logits[0, -1].argmax())
        greedy.append(nxt)
        if nxt == vocab["eos"]:
            break
        current = [nxt]
    return {
        "file_name": file_name,
        "pixels": [round(float(v), 7) for v in image.flatten()],
        "prefix": prefix,
        "logits": [[float(v) for v in row] for row in logits[0]],
        "greedy_tokens": greedy,
    }


def hardware_description(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="imagefolder dataset directory")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--config", default="small", choices=sorted(CONFIGS))
    ap.add_argument("--steps", type=int, default=None, help="optimizer steps (default by config)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=["cpu", "cuda"])
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--image-size", type=int, default=None, help="override the config's input size")
    ap.add_argument("--max-len", type=int, default=None, help="override the config's max tokens")
    ap.add_argument("--augment-shift", type=int, default=None, help="max random shift in pixels")
    ap.add_argument("--max-minutes", type=float, default=None,
                    help="stop training after this long (the card records the steps done)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--name", default=None, help="model name recorded in the card")
    args = ap.parse_args(argv)

    if args.device == "cuda" and not torch.cuda.is_available():
        fail("--device cuda asked for, but torch sees no CUDA device")
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    # Same data + seed -> same model (CPU oneDNN kernels otherwise vary run to run).
    torch.use_deterministic_algorithms(True, warn_only=True)
    if args.device == "cpu":
        torch.backends.mkldnn.enabled = False
    started = time.time()

    vocab = load_vocab(args.data)
    # The tokenizer's own limit (vocabularyJson's maxTokens) is the natural length limit.
    max_len = args.max_len if args.max_len is not None else vocab.get("maxTokens")
    cfg = build_config(args.config, vocab["size"], image_size=args.image_size, max_len=max_len)
    examples, too_long = load_examples(args.data, vocab, cfg.max_len)
    images = load_images(examples, cfg.image_size)
    seqs = [seq for _, seq in examples]

    order = list(range(len(examples)))
    random.shuffle(order)
    val_count = min(500, len(order) // 50) if len(order) >= 100 else 0
    val_idx, train_idx = order[:val_count], order[val_count:]
    steps = args.steps if args.steps is not None else {"tiny": 300, "small": 20000, "base": 100000}[args.config]
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.config]
    shift = args.augment_shift if args.augment_shift is not None else (0 if args.config == "tiny" else cfg.image_size // 32)

    device = args.device
    model = GiftModel(cfg).to(device)
    params = count_parameters(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / max(1, steps)))))
    use_bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
    print(f"{len(train_idx)} train / {val_count} val examples ({too_long} skipped: longer than "
          f"{cfg.max_len} tokens), {params / 1e6:.2f} M parameters, {steps} steps on {device}", flush=True)

    model.train()
    train_loss, cursor, steps_done = float("nan"), len(train_idx), 0
    train_started = time.time()
    for step in range(steps):
        if args.max_minutes is not None and time.time() - train_started > args.max_minutes * 60:
            print(f"stopping after {step} steps: --max-minutes {args.max_minutes} reached", flush=True)
            break
        if cursor + args.batch_size > len(train_idx):
            random.shuffle(train_idx)
            cursor = 0
        batch = train_idx[cursor:cursor + args.batch_size]
        cursor += len(batch)
        inp, tgt, mask = make_batch([seqs[i] for i in batch], vocab["pad"])
        image = augment(images[batch], shift).to(device)
        inp, tgt, mask = inp.to(device), tgt.to(device), mask.to(device)
        if use_bf16:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                logits = model(image, inp)
        else:
            logits = model(image, inp)
        loss = F.cross_entropy(logits.float()[mask], tgt[mask])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        train_loss = loss.item() if step == 0 else 0.9 * train_loss + 0.1 * loss.item()
        steps_done = step + 1
        if step % max(1, steps // 20) == 0 or step == steps - 1:
            print(f"step {step + 1}/{steps} loss {train_loss:.4f} ({time.time() - started:.0f} s)", flush=True)
    train_seconds = time.time() - started
    if not math.isfinite(train_loss):
        fail(f"training diverged (loss {train_loss} after {steps_done} steps): lower --lr")

    eval_idx = val_idx if val_idx else train_idx[: min(len(train_idx), 256)]
    eval_loss, eval_acc = evaluate(model, images[eval_idx], [seqs[i] for i in eval_idx], vocab["pad"], device, args.batch_size)

    os.makedirs(args.out, exist_ok=True)
    model = model.cpu().eval()
    onnx_path = os.path.join(args.out, "model.onnx")
    export_bundled(model, onnx_path)
    torch.save({"config": cfg.to_json(), "state_dict": model.state_dict()}, os.path.join(args.out, "checkpoint.pt"))
    shutil.copyfile(os.path.join(args.data, "vocab.json"), os.path.join(args.out, "vocab.json"))

    first_image, first_seq = examples[0]
    reference = reference_outputs(model, images[:1], first_seq, vocab,
                                  os.path.relpath(first_image, args.data), greedy_steps=min(cfg.max_len - 1, 64))
    with open(os.path.join(args.out, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(reference, f)

    with open(os.path.join(args.data, "vocab.json"), "rb") as f:
        vocab_sha = hashlib.sha256(f.read()).hexdigest()
    with open(onnx_path, "rb") as f:
        onnx_sha = hashlib.sha256(f.read()).hexdigest()
    card = {
        "format": CARD_FORMAT,
        "name": args.name or f"gift-cad-{args.config}",
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "onnx": {"file": "model.onnx", "sha256": onnx_sha, "bytes": os.path.getsize(onnx_path),
                 "opset": OPSET, "inputs": INPUTS, "outputs": OUTPUTS},
        "preprocess": dict(PREPROCESS_SPEC, size=cfg.image_size),
        "architecture": dict(cfg.to_json(), config=args.config, parameters=params),
        "vocab": {"file": "vocab.json", "sha256": vocab_sha, "size": vocab["size"], "version": vocab.get("version"),
                  "bos": vocab["bos"], "eos": vocab["eos"], "pad": vocab["pad"]},
        "max_tokens": cfg.max_len,
        "training": {
            "data": os.path.abspath(args.data), "examples": len(train_idx), "val_examples": val_count,
            "skipped_too_long": too_long, "steps": steps_done, "planned_steps": steps,
            "batch_size": args.batch_size, "lr": lr,
            "augment_shift": shift, "seed": args.seed, "device": device,
            "hardware": hardware_description(device), "train_seconds": round(train_seconds, 1),
            "total_seconds": round(time.time() - started, 1), "final_train_loss": round(train_loss, 5),
            "eval_split": "val" if val_idx else "train (no val split under 100 examples)",
            "eval_loss": round(eval_loss, 5), "eval_token_accuracy": round(eval_acc, 5),
            "torch": torch.__version__, "python": platform.python_version(),
        },
    }
    with open(os.path.join(args.out, "model.json"), "w", encoding="utf-8") as f:
        json.dump(card, f, indent=2)
    print(f"wrote {onnx_path} ({card['onnx']['bytes'] / 1e6:.1f} MB), eval loss {eval_loss:.4f}, "
          f"token accuracy {eval_acc:.3f}, {card['training']['total_seconds']} s", flush=True)


if __name__ == "__main__":
    main()
