#!/usr/bin/env python3
"""Train the bundled image->CadQuery model and export it to ONNX.

  python3 training/train_bundled.py --data DIR --out DIR [--config tiny|compact|small|base] [--steps N]
                                    [--device cpu|cuda] [--batch-size B] [--lr LR] [--seed S] [--max-minutes M]
                                    [--init MODEL_DIR|WEIGHTS.pt] [--resume]

DIR is an imagefolder dataset: DIR/metadata.jsonl with one JSON object per line carrying
`file_name` (image path relative to DIR), `code` (CadQuery program) and `tokens` (token ids from
the TypeScript tokenizer, src/core/model/tokenizer.ts), plus DIR/vocab.json from the same export.
Python never tokenises, so training and the extension can never disagree about token ids.

Writes to --out: model.onnx (one file, opset 17, or 18 with GIFT_ONNX_EXPORTER=dynamo; see
export_onnx.py), model.json (model card: preprocessing, architecture, vocabulary, training
facts), vocab.json, checkpoint.pt and reference.json (torch logits on a fixed input, for checking
the ONNX runtime against torch).
On a 2-core CPU set OMP_NUM_THREADS=1 (the default threading is ~30x slower under load).

--init starts from a model's weights with a fresh optimizer and schedule (a new run; --resume
continues one): a bundled model directory (its weights recovered from model.onnx by
onnx_weights.py and checked against its reference.json), a .pt written by onnx_weights.py, or a
checkpoint.pt written here. The architecture is the init's: a --config, --image-size or --max-len
that says otherwise is refused, and so is data whose vocab.json is not the init's vocabulary. The
card's `training` records `init` (the path) and `init_name` (the init's card name). With --resume
as well, OUT/checkpoint.pt wins when it exists (an --init run resumes like any other).
"""
from __future__ import annotations

import argparse
import dataclasses
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
import warnings
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from export_onnx import INPUTS, OUTPUTS, export_bundled  # noqa: E402
from gift_model import CONFIGS, GiftModel, ModelConfig, build_config, count_parameters  # noqa: E402
from gift_preprocess import PREPROCESS_SPEC, preprocess_file  # noqa: E402
from onnx_weights import config_from_card, recover_model  # noqa: E402

CARD_FORMAT = "gift-cad-model/1"
DEFAULT_LR = {"tiny": 2e-3, "compact": 1e-3, "small": 6e-4, "base": 3e-4}


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


def read_rows(path: str):
    """Complete lines of metadata.jsonl (a shard still being written may end in half a line)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    return lines[:-1]


def load_examples(data_dir: str, vocab: dict, max_len: int, image_size: int):
    """One dataset directory -> (examples, skipped). An example is (image, seq) where image is a
    PNG path, or ("array", path, row) into DIR/images-SIZE.u8 (make_dataset.ts --array SIZE:
    already preprocessed, uint8 = round(255 x)) when that file exists for this input size."""
    path = os.path.join(data_dir, "metadata.jsonl")
    if not os.path.exists(path):
        fail(f"{path} is missing (expected an imagefolder dataset: metadata.jsonl + images)")
    array_path = os.path.join(data_dir, f"images-{image_size}.u8")
    use_array = os.path.exists(array_path)
    examples, too_long = [], 0
    for line_no, line in enumerate(read_rows(path), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            fail(f"{path}:{line_no}: not JSON ({e})")
        if not use_array and "file_name" not in row:
            fail(f"{path}:{line_no}: no `file_name` (and no {os.path.basename(array_path)} for image size {image_size})")
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
        if use_array:
            examples.append((("array", array_path, line_no - 1), seq))
            continue
        image_path = os.path.join(data_dir, row["file_name"])
        if not os.path.exists(image_path):
            fail(f"{path}:{line_no}: image {image_path} does not exist")
        examples.append((image_path, seq))
    return examples, too_long


def example_id(image) -> str:
    """A stable name for an example's image: its PNG path, or array file#row."""
    return f"{image[1]}#{image[2]}" if isinstance(image, tuple) else image


def load_all_examples(data_dirs, vocab: dict, max_len: int, image_size: int, known=None):
    """Examples of all directories; with `known` (directory -> rows already loaded, updated here)
    only the rows each directory gained since."""
    examples, too_long = [], 0
    for data_dir in data_dirs:
        found, skipped = load_examples(data_dir, vocab, max_len, image_size)
        if known is not None:
            already = known.get(data_dir, 0)
            known[data_dir] = len(found)
            found = found[already:]
        examples += found
        too_long += skipped
    if not examples and known is None:
        fail(f"{', '.join(data_dirs)}: no usable examples ({too_long} longer than max_len {max_len})")
    return examples, too_long


def load_images(examples, size: int) -> torch.Tensor:
    images = np.zeros((len(examples), 1, size, size), dtype=np.float32)
    arrays = {}
    for i, (image, _) in enumerate(examples):
        if isinstance(image, tuple):
            _, array_path, row = image
            if array_path not in arrays:
                arrays[array_path] = np.memmap(array_path, dtype=np.uint8, mode="r")
            data = arrays[array_path]
            if (row + 1) * size * size > data.shape[0]:
                fail(f"{array_path}: has {data.shape[0] // (size * size)} images, metadata.jsonl wants row {row}")
            x = data[row * size * size:(row + 1) * size * size].reshape(size, size).astype(np.float32) / 255.0
            images[i, 0] = (x - PREPROCESS_SPEC["mean"]) / PREPROCESS_SPEC["std"]
        else:
            images[i, 0] = preprocess_file(image, size)
    return torch.from_numpy(images)


def length_bucketed_batches(indices, seqs, batch_size: int, window: int = 50):
    """One pass over `indices` in batches of similar lengths: shuffle, sort each window of
    `window` batches by length, cut, shuffle the batches. A batch pads to its longest program, and
    GenCAD programs run from ~20 to ~200 tokens, so random batches were ~3x padding."""
    order = list(indices)
    random.shuffle(order)
    batches = []
    span = batch_size * window
    for start in range(0, len(order), span):
        chunk = sorted(order[start:start + span], key=lambda i: len(seqs[i]))
        batches += [chunk[k:k + batch_size] for k in range(0, len(chunk), batch_size)]
    batches = [b for b in batches if len(b) == batch_size] or batches
    random.shuffle(batches)
    return batches


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


def read_json(path: str):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def preset_of(cfg: ModelConfig) -> str | None:
    """The --config whose architecture this is (image size and max length may be overridden)."""
    mine = cfg.to_json()
    for name, preset in CONFIGS.items():
        if all((list(v) if k == "cnn_channels" else v) == mine[k] for k, v in preset.items() if k not in ("image_size", "max_len")):
            return name
    return None


@dataclasses.dataclass
class Init:
    """--init, read far enough to check the run against it; weights() loads its state_dict."""
    path: str
    cfg: ModelConfig
    config_name: str
    name: str | None  # the init's card name
    vocab: dict | None  # the vocabulary it was trained with, as its vocab.json holds it
    vocab_file: str  # where that vocabulary comes from, for messages
    weights: Callable[[], dict]  # -> state_dict


def read_init(path: str) -> Init:
    """A bundled model directory (weights recovered from model.onnx, checked against reference.json),
    a .pt from onnx_weights.py, or a checkpoint.pt from this script."""
    if os.path.isdir(path):
        card_path = os.path.join(path, "model.json")
        if not os.path.exists(os.path.join(path, "model.onnx")) or not os.path.exists(card_path):
            fail(f"--init {path}: a directory must be a bundled model (model.onnx and model.json; see models/README.md)")
        card = read_json(card_path)
        cfg, config_name = config_from_card(card, card_path)
        vocab_file = os.path.join(path, card.get("vocab", {}).get("file", "vocab.json"))

        def recovered_weights():
            recovered = recover_model(path)
            print(f"recovered the weights of {path}/model.onnx: max logit difference vs reference.json "
                  f"{recovered.max_logit_diff:.3g}", flush=True)
            return recovered.model.state_dict()
        return Init(path, cfg, config_name, card.get("name"), read_json(vocab_file) if os.path.exists(vocab_file) else None,
                    vocab_file, recovered_weights)
    if not os.path.isfile(path):
        fail(f"--init {path} does not exist")
    state = torch.load(path, map_location="cpu")
    if not isinstance(state, dict) or "state_dict" not in state or "config" not in state:
        fail(f"--init {path}: not a checkpoint of train_bundled.py or onnx_weights.py (no state_dict and config)")
    fields = {f.name for f in dataclasses.fields(ModelConfig)}
    cfg = ModelConfig(**{k: tuple(v) if k == "cnn_channels" else v for k, v in state["config"].items() if k in fields})
    # A checkpoint.pt of a finished run has the run's card and vocab.json beside it.
    card_path = os.path.join(os.path.dirname(path), "model.json")
    card = read_json(card_path) if os.path.exists(card_path) else {}
    if {k: v for k, v in card.get("architecture", {}).items() if k in fields} != {k: v for k, v in cfg.to_json().items() if k in fields}:
        card = {}  # a card of another run
    config_name = state.get("config_name") or card.get("architecture", {}).get("config") or preset_of(cfg)
    if config_name not in CONFIGS:
        fail(f"--init {path}: its architecture is none of the --config presets ({', '.join(CONFIGS)})")
    vocab, vocab_file = state.get("vocab"), f"{state.get('vocab_file', 'the vocab.json')} (as recorded in {path})"
    if vocab is None:
        vocab_file = os.path.join(os.path.dirname(path), "vocab.json")
        vocab = read_json(vocab_file) if os.path.exists(vocab_file) else None
    return Init(path, cfg, config_name, state.get("name") or card.get("name"), vocab, vocab_file, lambda: state["state_dict"])


def vocab_difference(a: dict, b: dict) -> str:
    for key in ("size", "version", "bos", "eos", "pad"):
        if a.get(key) != b.get(key):
            return f"{key} {a.get(key)!r} vs {b.get(key)!r}"
    tokens_a, tokens_b = a.get("tokens") or [], b.get("tokens") or []
    for i, (x, y) in enumerate(zip(tokens_a, tokens_b)):
        if x != y:
            return f"token {i} is {x!r} vs {y!r}"
    return next((f"`{k}` differs" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)), "they differ")


def check_init(init: Init, args, vocab_path: str) -> None:
    """Refuses a run that contradicts --init: another architecture or another vocabulary."""
    if args.config is not None and args.config != init.config_name:
        fail(f"--config {args.config} contradicts --init {init.path}, a {init.config_name!r} model: "
             "the architecture comes from the init (leave --config out)")
    for flag, given, have in (("--image-size", args.image_size, init.cfg.image_size), ("--max-len", args.max_len, init.cfg.max_len)):
        if given is not None and given != have:
            fail(f"{flag} {given} contradicts --init {init.path}, whose {flag[2:].replace('-', '_')} is {have}")
    if init.vocab is None:
        fail(f"--init {init.path}: cannot tell which vocabulary it was trained with (none recorded in it, no {init.vocab_file})")
    data_vocab = read_json(vocab_path)
    if data_vocab != init.vocab:
        fail(f"{vocab_path} differs from {init.vocab_file}, the vocabulary of --init {init.path} "
             f"({vocab_difference(data_vocab, init.vocab)}): continue a model only on data tokenised as it was trained")
    size = init.vocab.get("size", len(init.vocab.get("tokens") or []))
    if init.cfg.vocab_size != size:
        fail(f"--init {init.path}: its vocab_size {init.cfg.vocab_size} is not the size of {init.vocab_file} ({size})")


def hardware_description(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, nargs="+",
                    help="imagefolder dataset directories (same vocab.json); shards still being written by "
                         "make_dataset.ts are re-read at every pass over the data (--grow)")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--config", default=None, choices=sorted(CONFIGS), help="architecture (default small; with --init, the init's)")
    ap.add_argument("--steps", type=int, default=None, help="optimizer steps (default by config)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=["cpu", "cuda"])
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--image-size", type=int, default=None, help="override the config's input size")
    ap.add_argument("--max-len", type=int, default=None, help="override the config's max tokens")
    ap.add_argument("--augment-shift", type=int, default=None, help="max random shift in pixels")
    ap.add_argument("--max-minutes", type=float, default=None,
                    help="stop training after this long (the card records the steps done)")
    ap.add_argument("--grow", action="store_true",
                    help="re-read the data directories at each pass, picking up rows appended since")
    ap.add_argument("--checkpoint-minutes", type=float, default=None,
                    help="also save OUT/checkpoint.pt this often (a --resume run continues from it)")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt (weights, optimizer, step)")
    ap.add_argument("--init", default=None, metavar="MODEL_DIR|WEIGHTS.pt",
                    help="start from these weights with a fresh optimizer and schedule: a bundled model directory, a .pt "
                         "from onnx_weights.py or a checkpoint.pt from here (with --resume, OUT/checkpoint.pt wins when it exists)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--name", default=None, help="model name recorded in the card")
    args = ap.parse_args(argv)

    if args.device == "cuda" and not torch.cuda.is_available():
        fail("--device cuda asked for, but torch sees no CUDA device")
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    # Same data + seed -> same model (CPU oneDNN kernels otherwise vary run to run). oneDNN also
    # made the encoder's gradients explode to inf within 30 steps with Debian's torch 1.13 (checked
    # against the same batches with it off), so it stays off on CPU whatever the speed.
    torch.use_deterministic_algorithms(True, warn_only=True)
    if args.device == "cpu":
        torch.backends.mkldnn.enabled = False
    started = time.time()

    vocab = load_vocab(args.data[0])
    for other in args.data[1:]:
        if load_vocab(other) != vocab:
            fail(f"{other}/vocab.json differs from {args.data[0]}/vocab.json: one tokenizer per training run")
    checkpoint_path = os.path.join(args.out, "checkpoint.pt")
    resuming = args.resume and os.path.exists(checkpoint_path)
    if args.resume and not resuming and args.init is None:
        fail(f"--resume: {checkpoint_path} does not exist")
    init = read_init(args.init) if args.init is not None else None
    if init is not None:
        check_init(init, args, os.path.join(args.data[0], "vocab.json"))
        cfg, config_name = init.cfg, init.config_name
    else:
        config_name = args.config or "small"
        # The tokenizer's own limit (vocabularyJson's maxTokens) is the natural length limit.
        max_len = args.max_len if args.max_len is not None else vocab.get("maxTokens")
        cfg = build_config(config_name, vocab["size"], image_size=args.image_size, max_len=max_len)
    loaded_rows = {}
    examples, too_long = load_all_examples(args.data, vocab, cfg.max_len, cfg.image_size, loaded_rows)
    images = load_images(examples, cfg.image_size)
    seqs = [seq for _, seq in examples]

    order = list(range(len(examples)))
    random.shuffle(order)
    val_count = min(500, len(order) // 50) if len(order) >= 100 else 0
    val_idx, train_idx = order[:val_count], order[val_count:]
    if resuming:
        # Keep the run's held-out examples held out, whatever data was added since.
        saved_val = torch.load(checkpoint_path, map_location="cpu").get("val_examples")
        if saved_val is not None:
            index_of = {example_id(image): i for i, (image, _) in enumerate(examples)}
            missing = [v for v in saved_val if v not in index_of]
            if missing:
                fail(f"--resume: {len(missing)} held-out examples of the checkpoint are not in --data (first: {missing[0]})")
            val_idx = [index_of[v] for v in saved_val]
            held_out = set(val_idx)
            train_idx = [i for i in order if i not in held_out]
            val_count = len(val_idx)
    steps = args.steps if args.steps is not None else {"tiny": 300, "compact": 50000, "small": 20000, "base": 100000}[config_name]
    lr = args.lr if args.lr is not None else DEFAULT_LR[config_name]
    shift = args.augment_shift if args.augment_shift is not None else (0 if config_name == "tiny" else cfg.image_size // 32)

    device = args.device
    model = GiftModel(cfg).to(device)
    params = count_parameters(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    warmup = max(1, min(steps // 20, 300))
    train_started = time.time()
    resumed_seconds = 0.0

    def progress(step: int) -> float:
        """Fraction of the run done: by steps, or by the clock when --max-minutes ends it sooner,
        so the cosine decay still reaches its end under a time budget."""
        done = step / max(1, steps)
        if args.max_minutes is not None:
            done = max(done, (resumed_seconds + time.time() - train_started) / (args.max_minutes * 60))
        return min(1.0, done)

    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * progress(s))))
    first_step = 0
    # Where the run's weights started, for the card; kept in its checkpoints so a resumed run knows.
    lineage = {"init": os.path.abspath(args.init), "init_name": init.name} if init is not None else {}
    if resuming:
        state = torch.load(checkpoint_path, map_location=device)
        lineage = {k: state[k] for k in ("init", "init_name") if k in state}
        if init is not None:
            print(f"--resume: {checkpoint_path} exists, so --init {args.init} is not loaded", flush=True)
        model.load_state_dict(state["state_dict"])
        if "optimizer" in state:
            optimizer.load_state_dict(state["optimizer"])
        first_step = int(state.get("step", 0))
        resumed_seconds = float(state.get("train_seconds", 0.0))
        with warnings.catch_warnings():
            # Fast-forwarding the schedule before any optimizer.step() is what we mean here.
            warnings.simplefilter("ignore", UserWarning)
            for _ in range(first_step):
                schedule.step()
        print(f"resumed from {checkpoint_path} at step {first_step}", flush=True)
    elif init is not None:
        model.load_state_dict(init.weights())
        print(f"initialised from {args.init} ({init.name or 'unnamed'}, {config_name}): fresh optimizer and schedule", flush=True)
    # What a later --init needs to know without this run's card: the preset and the vocabulary.
    vocab_file = os.path.abspath(os.path.join(args.data[0], "vocab.json"))
    about = {"config_name": config_name, "vocab": read_json(vocab_file), "vocab_file": vocab_file, **lineage}

    def save_checkpoint(step: int) -> None:
        os.makedirs(args.out, exist_ok=True)
        tmp = checkpoint_path + ".tmp"
        torch.save({"config": cfg.to_json(), "state_dict": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "step": step, "train_seconds": resumed_seconds + time.time() - train_started,
                    "val_examples": [example_id(examples[i][0]) for i in val_idx], **about}, tmp)
        os.replace(tmp, checkpoint_path)
    use_bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
    print(f"{len(train_idx)} train / {val_count} val examples ({too_long} skipped: longer than "
          f"{cfg.max_len} tokens), {params / 1e6:.2f} M parameters, {steps} steps on {device}", flush=True)

    model.train()
    train_loss, steps_done = float("nan"), first_step
    pending = []  # this pass's remaining batches
    last_checkpoint = last_print = time.time()
    skipped_updates = 0
    for step in range(first_step, steps):
        if progress(step) >= 1.0 and args.max_minutes is not None and step < steps:
            print(f"stopping after {step} steps: --max-minutes {args.max_minutes} reached", flush=True)
            break
        if not pending:
            if args.grow:
                fresh, _ = load_all_examples(args.data, vocab, cfg.max_len, cfg.image_size, loaded_rows)
                if fresh:
                    start = len(examples)
                    examples += fresh
                    seqs += [seq for _, seq in fresh]
                    images = torch.cat([images, load_images(fresh, cfg.image_size)])
                    train_idx += list(range(start, len(examples)))
                    print(f"data grew by {len(fresh)} to {len(train_idx)} training examples", flush=True)
            pending = length_bucketed_batches(train_idx, seqs, args.batch_size)
        batch = pending.pop()
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
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        if not (math.isfinite(loss.item()) and math.isfinite(float(grad_norm))):
            # One bad batch must not poison the weights: skip its update, give up if it keeps happening.
            skipped_updates += 1
            print(f"step {step + 1}: non-finite loss/gradient ({loss.item()}, {float(grad_norm)}), update skipped", flush=True)
            if skipped_updates > 20:
                fail(f"{skipped_updates} non-finite updates by step {step + 1}: lower --lr")
            schedule.step()
            continue
        optimizer.step()
        schedule.step()
        train_loss = loss.item() if not math.isfinite(train_loss) else 0.9 * train_loss + 0.1 * loss.item()
        steps_done = step + 1
        if args.checkpoint_minutes is not None and time.time() - last_checkpoint > args.checkpoint_minutes * 60:
            save_checkpoint(steps_done)
            last_checkpoint = time.time()
        if step % max(1, steps // 20) == 0 or step == steps - 1 or time.time() - last_print > 60:
            last_print = time.time()
            print(f"step {step + 1}/{steps} loss {train_loss:.4f} ({time.time() - started:.0f} s)", flush=True)
    train_seconds = resumed_seconds + time.time() - train_started
    if steps_done > first_step and not math.isfinite(train_loss):
        fail(f"training diverged (loss {train_loss} after {steps_done} steps): lower --lr")

    eval_idx = val_idx if val_idx else train_idx[: min(len(train_idx), 256)]
    eval_loss, eval_acc = evaluate(model, images[eval_idx], [seqs[i] for i in eval_idx], vocab["pad"], device, args.batch_size)

    os.makedirs(args.out, exist_ok=True)
    model = model.cpu().eval()
    onnx_path = os.path.join(args.out, "model.onnx")
    opset = export_bundled(model, onnx_path)  # 17 (TorchScript exporter) unless GIFT_ONNX_EXPORTER=dynamo (18)
    torch.save({"config": cfg.to_json(), "state_dict": model.state_dict(), "step": steps_done,
                "train_seconds": train_seconds, **about}, checkpoint_path)
    shutil.copyfile(os.path.join(args.data[0], "vocab.json"), os.path.join(args.out, "vocab.json"))

    first_image, first_seq = examples[0]
    first_name = (f"{os.path.relpath(first_image[1], args.data[0])}#{first_image[2]}" if isinstance(first_image, tuple)
                  else os.path.relpath(first_image, args.data[0]))
    reference = reference_outputs(model, images[:1], first_seq, vocab, first_name, greedy_steps=min(cfg.max_len - 1, 64))
    with open(os.path.join(args.out, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(reference, f)

    with open(os.path.join(args.data[0], "vocab.json"), "rb") as f:
        vocab_sha = hashlib.sha256(f.read()).hexdigest()
    with open(onnx_path, "rb") as f:
        onnx_sha = hashlib.sha256(f.read()).hexdigest()
    card = {
        "format": CARD_FORMAT,
        "name": args.name or f"gift-cad-{config_name}",
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "onnx": {"file": "model.onnx", "sha256": onnx_sha, "bytes": os.path.getsize(onnx_path),
                 "opset": opset, "inputs": INPUTS, "outputs": OUTPUTS},
        "preprocess": dict(PREPROCESS_SPEC, size=cfg.image_size),
        "architecture": dict(cfg.to_json(), config=config_name, parameters=params),
        "vocab": {"file": "vocab.json", "sha256": vocab_sha, "size": vocab["size"], "version": vocab.get("version"),
                  "bos": vocab["bos"], "eos": vocab["eos"], "pad": vocab["pad"]},
        "max_tokens": cfg.max_len,
        "training": {
            "data": [os.path.abspath(d) for d in args.data], "examples": len(train_idx), "val_examples": val_count,
            "skipped_too_long": too_long, "steps": steps_done, "planned_steps": steps, "skipped_updates": skipped_updates,
            "batch_size": args.batch_size, "lr": lr,
            "augment_shift": shift, "seed": args.seed, "device": device,
            "hardware": hardware_description(device), "train_seconds": round(train_seconds, 1),
            "total_seconds": round(time.time() - started, 1), "final_train_loss": round(train_loss, 5) if math.isfinite(train_loss) else None,
            "eval_split": "val" if val_idx else "train (no val split under 100 examples)",
            "eval_loss": round(eval_loss, 5), "eval_token_accuracy": round(eval_acc, 5),
            "torch": torch.__version__, "python": platform.python_version(), **lineage,
        },
    }
    with open(os.path.join(args.out, "model.json"), "w", encoding="utf-8") as f:
        json.dump(card, f, indent=2)
    print(f"wrote {onnx_path} ({card['onnx']['bytes'] / 1e6:.1f} MB), eval loss {eval_loss:.4f}, "
          f"token accuracy {eval_acc:.3f}, {card['training']['total_seconds']} s", flush=True)


if __name__ == "__main__":
    main()
