#!/usr/bin/env python3
"""Checks an exported model.onnx against the PyTorch model it came from.

  python verify_export.py --onnx OUT/model.onnx --checkpoint OUT/checkpoint.pt      # a training run's export
  python verify_export.py --onnx M.onnx --random tiny:40 [--exporter dynamo]      # export a random model first
  python verify_export.py --onnx M.onnx --checkpoint C.pt --save-reference R.npz  # torch side only (no onnxruntime)
  python verify_export.py --onnx M.onnx --reference R.npz                         # onnxruntime side only

What it checks: onnx.checker.check_model(full_check=True); the opset the graph declares; and, on
fixed random inputs fed the way src/core/model/onnx.ts feeds them (unused inputs zero-sized),
onnxruntime's outputs against GiftModel's in eval mode, in encode mode (a batch of 2 images) and in
decode mode (a first step with an empty cache and one shared image, a later step of 3 tokens after a
cache of 4 with a cross cache per row), plus zero-sized outputs for the branch not taken.
The torch side and the onnxruntime side can run in different Pythons (Debian's torch 1.13 has no
onnxruntime): --save-reference writes torch's inputs and outputs, --reference reads them.
Prints one JSON line; exits 1 when an output differs by more than --tolerance (default 1e-4).
Not imported by train_bundled.py (the training job ships without it).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import onnx  # noqa: E402

CASES = ("encode", "decode_first_step", "decode_cached")


def load_model(args):
    import torch

    from gift_model import GiftModel, ModelConfig, build_config

    torch.backends.mkldnn.enabled = False  # as train_bundled.py on CPU
    if args.checkpoint:
        ckpt = torch.load(args.checkpoint, map_location="cpu")
        fields = {k: v for k, v in ckpt["config"].items() if k in ModelConfig.__dataclass_fields__}
        fields["cnn_channels"] = tuple(fields["cnn_channels"])
        model = GiftModel(ModelConfig(**fields))
        model.load_state_dict(ckpt["state_dict"])
    else:
        name, vocab = args.random.split(":")
        torch.manual_seed(args.seed)
        model = GiftModel(build_config(name, int(vocab)))
        # non-zero biases and norms, so a wrong wiring cannot hide behind the zero init
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.02)
    return model.eval()


def make_inputs(cfg: dict, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    L, H, dh, M, s = cfg["decoder_layers"], cfg["heads"], cfg["head_dim"], cfg["memory_len"], cfg["image_size"]
    f32 = np.float32
    return {
        "encode": {"image": rng.random((2, 1, s, s), dtype=f32)},
        "decode_first_step": {"input_ids": rng.integers(0, cfg["vocab_size"], (3, 1), dtype=np.int64),
                              "past_kv": np.zeros((L, 2, 3, H, 0, dh), f32),
                              "cross_kv": rng.standard_normal((L, 2, 1, H, M, dh), dtype=f32)},
        "decode_cached": {"input_ids": rng.integers(0, cfg["vocab_size"], (2, 3), dtype=np.int64),
                          "past_kv": rng.standard_normal((L, 2, 2, H, 4, dh), dtype=f32),
                          "cross_kv": rng.standard_normal((L, 2, 2, H, M, dh), dtype=f32)},
    }


def torch_outputs(model, inputs: dict) -> dict:
    import torch

    out = {}
    with torch.no_grad():
        out["encode"] = {"cross_kv_out": model.encode(torch.from_numpy(inputs["encode"]["image"])).numpy()}
        for case in CASES[1:]:
            x = inputs[case]
            logits, present = model.decode(torch.from_numpy(x["input_ids"]), torch.from_numpy(x["past_kv"]),
                                           torch.from_numpy(x["cross_kv"]))
            out[case] = {"logits": logits.numpy(), "present_kv": present.numpy()}
    return out


def feeds(cfg: dict, case: str, x: dict) -> dict:
    L, H, dh, M, s = cfg["decoder_layers"], cfg["heads"], cfg["head_dim"], cfg["memory_len"], cfg["image_size"]
    f32 = np.float32
    if case == "encode":
        return {"encode": np.array(True), "image": x["image"], "input_ids": np.zeros((1, 0), np.int64),
                "past_kv": np.zeros((L, 2, 1, H, 0, dh), f32), "cross_kv": np.zeros((L, 2, 0, H, M, dh), f32)}
    return {"encode": np.array(False), "image": np.zeros((0, 1, s, s), f32), **x}


def run_onnxruntime(path: str, cfg: dict, inputs: dict, expected: dict, threads: int) -> dict:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL  # as the extension
    session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    diffs, problems = {}, []
    for case in CASES:
        got = dict(zip(names, session.run(None, feeds(cfg, case, inputs[case]))))
        worst = 0.0
        for name, want in expected[case].items():
            if got[name].shape != want.shape:
                problems.append(f"{case}: {name} has shape {list(got[name].shape)}, torch {list(want.shape)}")
                continue
            worst = max(worst, float(np.max(np.abs(got[name].astype(np.float64) - want.astype(np.float64)))))
        for name in names:
            if name not in expected[case] and got[name].size != 0:
                problems.append(f"{case}: unused output {name} is not zero-sized ({list(got[name].shape)})")
        diffs[case] = worst
    return {"max_abs": diffs, "problems": problems}


def save_reference(path: str, cfg: dict, inputs: dict, outputs: dict, meta: dict) -> None:
    flat = {"__cfg__": np.frombuffer(json.dumps({"cfg": cfg, "meta": meta}).encode(), np.uint8)}
    for case in CASES:
        for k, v in inputs[case].items():
            flat[f"in/{case}/{k}"] = v
        for k, v in outputs[case].items():
            flat[f"out/{case}/{k}"] = v
    np.savez(path, **flat)


def load_reference(path: str):
    data = np.load(path)
    head = json.loads(bytes(data["__cfg__"]).decode())
    inputs = {c: {} for c in CASES}
    outputs = {c: {} for c in CASES}
    for key in data.files:
        if key == "__cfg__":
            continue
        kind, case, name = key.split("/")
        (inputs if kind == "in" else outputs)[case][name] = data[key]
    return head["cfg"], head["meta"], inputs, outputs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", required=True, help="the merged model.onnx")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="OUT/checkpoint.pt of the run that exported --onnx")
    src.add_argument("--random", metavar="CONFIG:VOCAB", help="export a randomly initialised model to --onnx first")
    src.add_argument("--reference", help="torch's inputs/outputs from --save-reference (no torch needed)")
    ap.add_argument("--save-reference", help="write torch's inputs and outputs here and stop (no onnxruntime needed)")
    ap.add_argument("--exporter", default=None, help="with --random: torchscript (default) or dynamo")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)

    report = {"onnx_file": os.path.abspath(args.onnx), "onnx": onnx.__version__}
    if args.reference:
        cfg, meta, inputs, expected = load_reference(args.reference)
        report.update(meta)
    else:
        import torch

        model = load_model(args)
        if args.random:
            from export_onnx import choose_exporter, export_bundled

            report["exporter"] = choose_exporter(args.exporter)
            export_bundled(model, args.onnx, args.exporter)
        cfg = model.cfg.to_json()
        cfg.update(head_dim=model.cfg.head_dim, memory_len=model.cfg.memory_len)
        inputs = make_inputs(cfg, args.seed)
        expected = torch_outputs(model, inputs)
        report["torch"] = torch.__version__

    proto = onnx.load(args.onnx)
    onnx.checker.check_model(proto, full_check=True)
    report.update(checker="ok (full_check)", ir_version=proto.ir_version,
                  opset={o.domain or "ai.onnx": o.version for o in proto.opset_import},
                  graph_nodes=[n.op_type for n in proto.graph.node])
    branches = [a.g for n in proto.graph.node for a in n.attribute if a.type == onnx.AttributeProto.GRAPH]
    report["dropout_nodes"] = sum(n.op_type == "Dropout" for g in [proto.graph, *branches] for n in g.node)

    if args.save_reference:
        save_reference(args.save_reference, cfg, inputs, expected, {"torch": report.get("torch")})
        report["saved_reference"] = os.path.abspath(args.save_reference)
        print(json.dumps(report))
        return 0

    import onnxruntime

    report["onnxruntime"] = onnxruntime.__version__
    result = run_onnxruntime(args.onnx, cfg, inputs, expected, args.threads)
    report.update(result, tolerance=args.tolerance)
    ok = not result["problems"] and all(v <= args.tolerance for v in result["max_abs"].values())
    report["ok"] = ok
    print(json.dumps(report))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
