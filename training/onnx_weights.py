#!/usr/bin/env python3
"""Recover the torch weights of a bundled model from its model.onnx (its checkpoint is not shipped).

  python3 training/onnx_weights.py MODEL_DIR OUT.pt

MODEL_DIR is a bundled model directory (model.onnx, model.json, vocab.json, reference.json; see
models/README.md). OUT.pt is a checkpoint `train_bundled.py --init OUT.pt` starts from (it takes
MODEL_DIR itself too, recovering on the fly). Prints the largest difference between the recovered
model's logits and reference.json's.

Where the weights are. export_onnx.py merges two TorchScript exports into ONE `If`: then_branch =
GiftModel.encode (initializers prefixed `enc/`), else_branch = GiftModel.decode (`dec/`). The
exporter keeps a parameter's name (`enc/model.<param>`) where the graph uses it as it is:
convolutions, biases, LayerNorms, embeddings, positional tables. Two kinds it folds into unnamed
initializers:
  - Linear weights: MatMul(x, Wᵀ), Wᵀ an `onnx::MatMul_…` initializer. With a bias the MatMul's
    output goes to an Add with the named `model.<linear>.bias`, which names it. Node names do not
    (the decoder layers' cross_kv, run from encode(), are `/cross_kv/`, `/cross_kv_1/`, …). Without
    a bias (the output head, tied to the embedding) the Linear is found by what feeds it: the module
    whose output is its input in torch (forward hooks) is found in the graph by its named parameter,
    and the one unclaimed MatMul reading that node's output is the Linear.
  - GroupNorm's affine: Reshape → InstanceNormalization (unit scale, zero bias) → Reshape → Mul(γ)
    → Add(β), γ and β unnamed [C,1,1] initializers. The GroupNorm is the one torch feeds from the
    Conv whose named weight starts that chain.
Every parameter of the model class must be found, with its shape, or this fails naming it; tied
parameters must agree exactly; a MatMul weight that no parameter claims fails too (a graph this
does not understand). The recovered model must then reproduce reference.json (torch's logits on a
fixed input, written when the model was trained) within 1e-4, with the same greedy tokens.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
from onnx import numpy_helper  # noqa: E402

from gift_model import CONFIGS, GiftModel, ModelConfig, build_config, count_parameters  # noqa: E402

REFERENCE_TOLERANCE = 1e-4
CHECKPOINT_FORMAT = "gift-onnx-weights/1"
PARAM_NAME = re.compile(r"^(?:[^/]*/)?model\.(.+)$")  # `enc/model.<param>` -> <param>


def fail(message: str) -> None:
    raise SystemExit(f"onnx_weights: {message}")


def param_of(name: str) -> str | None:
    m = PARAM_NAME.match(name)
    return m.group(1) if m else None


def config_from_card(card: dict, where: str) -> tuple[ModelConfig, str]:
    """The card's `architecture` as the ModelConfig train_bundled built, and its --config name."""
    arch = card.get("architecture")
    if not isinstance(arch, dict):
        fail(f"{where}: no `architecture`")
    name = arch.get("config")
    if name not in CONFIGS:
        fail(f"{where}: architecture.config {name!r} is none of {', '.join(CONFIGS)}")
    fields = {f.name for f in dataclasses.fields(ModelConfig)} - {"vocab_size"}
    overrides = {k: tuple(v) if k == "cnn_channels" else v for k, v in arch.items() if k in fields}
    cfg = build_config(name, arch["vocab_size"], **overrides)
    built = cfg.to_json()
    for key in ("head_dim", "memory_len"):
        if key in arch and arch[key] != built[key]:
            fail(f"{where}: architecture.{key} is {arch[key]}, the config builds {built[key]}")
    return cfg, name


class Branch:
    """One If branch: its initializers and who reads / writes each value."""

    def __init__(self, graph: onnx.GraphProto, label: str):
        self.label = label
        self.inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        self.nodes = list(graph.node)
        self.consumers = defaultdict(list)
        for node in self.nodes:
            for name in node.input:
                self.consumers[name].append(node)
        self.constants = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in self.nodes
                          if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value"}

    def value(self, name: str):
        return self.inits[name] if name in self.inits else self.constants.get(name)

    def unnamed_init(self, node, ndim: int | None = None):
        """The node's one input that is an unnamed (folded) initializer, or None."""
        found = [n for n in node.input if n in self.inits and param_of(n) is None
                 and (ndim is None or self.inits[n].ndim == ndim)]
        return found[0] if len(found) == 1 else None


def graph_branches(model: onnx.ModelProto) -> list[Branch]:
    nodes = model.graph.node
    if len(nodes) != 1 or nodes[0].op_type != "If":
        fail(f"expected one If node (export_onnx.py's layout), found {[n.op_type for n in nodes][:8]}")
    graphs = {a.name: a.g for a in nodes[0].attribute}
    return [Branch(graphs["then_branch"], "encoder (then_branch)"), Branch(graphs["else_branch"], "decoder (else_branch)")]


def fed_by(model: GiftModel) -> dict[str, str]:
    """Leaf module -> the leaf module whose output is its first input, from one forward pass."""
    produced, first_input, keep = {}, {}, []
    hooks = []
    for name, module in model.named_modules():
        if not name or any(True for _ in module.children()):
            continue

        def hook(_module, inputs, output, name=name):
            keep.append((inputs, output))  # keep tensors alive so their ids stay theirs
            if inputs and isinstance(inputs[0], torch.Tensor):
                first_input.setdefault(name, id(inputs[0]))
            if isinstance(output, torch.Tensor):
                produced.setdefault(id(output), name)
        hooks.append(module.register_forward_hook(hook))
    cfg = model.cfg
    try:
        with torch.no_grad():
            model(torch.zeros(1, 1, cfg.image_size, cfg.image_size), torch.zeros(1, 2, dtype=torch.long))
    finally:
        for h in hooks:
            h.remove()
    return {name: produced[t] for name, t in first_input.items() if t in produced and produced[t] != name}


def recover_state_dict(onnx_model: onnx.ModelProto, model: GiftModel) -> dict:
    """Every entry of model.state_dict() from the graph, as tensors; fails naming what is not there."""
    expected = model.state_dict()
    modules = dict(model.named_modules())
    branches = graph_branches(onnx_model)
    found = {}  # key -> (array, where)
    claimed = set()  # (branch label, initializer name) read as a parameter

    def put(key: str, value: np.ndarray, where: str) -> None:
        if key not in expected:
            fail(f"{where} is parameter {key}, which {type(model).__name__} does not have")
        want = tuple(expected[key].shape)
        if tuple(value.shape) != want:
            fail(f"parameter {key}: shape {list(value.shape)} in {where}, the model's is {list(want)}")
        if key in found and not np.array_equal(found[key][0], value):
            fail(f"parameter {key}: {found[key][1]} and {where} disagree")
        found[key] = (np.ascontiguousarray(value), where)

    # 1. Parameters the graph uses as they are keep their names.
    for b in branches:
        for name, value in b.inits.items():
            key = param_of(name)
            if key is not None:
                put(key, value, f"{b.label} initializer {name}")
                claimed.add((b.label, name))

    # 2. Linear weights with a bias: MatMul(x, Wᵀ) -> Add(model.<linear>.bias).
    for b in branches:
        for node in b.nodes:
            w = node.input[1] if node.op_type == "MatMul" and len(node.input) == 2 else None
            if w is None or w not in b.inits or param_of(w) is not None or b.inits[w].ndim != 2:
                continue
            readers = b.consumers[node.output[0]]
            biases = [x for r in readers if r.op_type == "Add" for x in r.input
                      if (param_of(x) or "").endswith(".bias")]
            if len(readers) != 1 or len(biases) != 1:
                continue
            linear = param_of(biases[0])[:-len(".bias")]
            if not isinstance(modules.get(linear), torch.nn.Linear):
                fail(f"{b.label} node {node.name}: its bias {biases[0]} is not a Linear's")
            put(f"{linear}.weight", b.inits[w].T, f"{b.label} initializer {w} (transposed, MatMul {node.name})")
            claimed.add((b.label, w))

    feeds = fed_by(model)

    def producer_nodes(module_name: str):
        """Graph nodes reading a named parameter of this module, with their branch."""
        if not module_name:
            return []
        return [(b, n) for b in branches for n in b.nodes
                if any((param_of(x) or "").rsplit(".", 1)[0] == module_name for x in n.input)]

    # 3. GroupNorm affine: Conv(<conv>.weight) -> Reshape -> InstanceNormalization -> Reshape -> Mul(γ) -> Add(β).
    for name, module in modules.items():
        if not isinstance(module, torch.nn.GroupNorm) or not module.affine:
            continue
        conv = feeds.get(name)
        starts = [(b, n) for b, n in producer_nodes(conv or "") if n.op_type == "Conv"] if conv else []
        if len(starts) != 1:
            fail(f"parameter {name}.weight: cannot find the Conv feeding GroupNorm {name} "
                 f"(torch feeds it from {conv or 'no module'}; {len(starts)} Conv nodes read its weight)")
        b, node = starts[0]
        path = []
        while True:
            readers = [r for r in b.consumers[node.output[0]] if r.op_type != "Shape"]  # shape-only reads
            if len(readers) != 1 or readers[0].op_type not in ("Reshape", "InstanceNormalization", "Mul"):
                fail(f"parameter {name}.weight: after {node.name} comes {[r.op_type for r in readers]}, "
                     "not GroupNorm's Reshape -> InstanceNormalization -> Reshape -> Mul -> Add")
            node = readers[0]
            path.append(node.op_type)
            if node.op_type == "InstanceNormalization":
                scale, bias = b.value(node.input[1]), b.value(node.input[2])
                if scale is None or bias is None or not (np.all(scale == 1) and np.all(bias == 0)):
                    fail(f"parameter {name}.weight: {node.name} has a scale/bias of its own (not GroupNorm's export)")
            if node.op_type == "Mul":
                break
        if "InstanceNormalization" not in path:
            fail(f"parameter {name}.weight: no InstanceNormalization between {starts[0][1].name} and {node.name}")
        gamma = b.unnamed_init(node)
        adds = b.consumers[node.output[0]]
        beta = b.unnamed_init(adds[0]) if len(adds) == 1 and adds[0].op_type == "Add" else None
        if gamma is None or beta is None:
            fail(f"parameter {name}.weight/bias: {node.name} and the Add after it do not read one folded initializer each")
        channels = module.num_channels
        for key, init in ((f"{name}.weight", gamma), (f"{name}.bias", beta)):
            if b.inits[init].size != channels:
                fail(f"parameter {key}: {b.label} initializer {init} has shape {list(b.inits[init].shape)}, the model's is [{channels}]")
            put(key, b.inits[init].reshape(channels), f"{b.label} initializer {init} (GroupNorm after {starts[0][1].name})")
            claimed.add((b.label, init))

    # 4. Linear weights without a bias: the one unclaimed MatMul reading what torch feeds the Linear from.
    for name, module in modules.items():
        if not isinstance(module, torch.nn.Linear) or module.bias is not None or f"{name}.weight" in found:
            continue
        source = feeds.get(name)
        candidates = []
        for b, node in producer_nodes(source or ""):
            for reader in b.consumers[node.output[0]]:
                w = b.unnamed_init(reader, ndim=2) if reader.op_type == "MatMul" else None
                if w is not None and (b.label, w) not in claimed:
                    candidates.append((b, reader, w))
        if len(candidates) != 1:
            fail(f"parameter {name}.weight: bias-free Linear {name} (torch feeds it from {source or 'no module'}) "
                 f"matches {len(candidates)} unclaimed MatMul weights in the graph, not one")
        b, reader, w = candidates[0]
        put(f"{name}.weight", b.inits[w].T, f"{b.label} initializer {w} (transposed, MatMul {reader.name})")
        claimed.add((b.label, w))

    # Tied parameters (head.weight is embed.weight) are one tensor: a graph may hold it once (the
    # dynamo exporter names only one of them), or once per use (TorchScript: the embedding named, the
    # head folded), and then the copies must agree exactly.
    ties = defaultdict(list)
    for key, tensor in expected.items():
        ties[tensor.data_ptr()].append(key)
    for keys in ties.values():
        have = [k for k in keys if k in found]
        for key in have[1:]:
            if not np.array_equal(found[key][0], found[have[0]][0]):
                diff = float(np.abs(found[key][0] - found[have[0]][0]).max())
                fail(f"parameter {key} is tied to {have[0]}, but the graph's copies differ (max {diff:g})")
        for key in keys:
            if have and key not in found:
                found[key] = (found[have[0]][0], f"{found[have[0]][1]} (tied to {have[0]})")

    missing = [k for k in expected if k not in found]
    if missing:
        fail(f"parameter {missing[0]} is not in the graph ({len(missing)} missing: {', '.join(missing[:6])}"
             f"{', …' if len(missing) > 6 else ''})")
    for b in branches:
        for node in b.nodes:
            w = b.unnamed_init(node, ndim=2) if node.op_type == "MatMul" else None
            if w is not None and (b.label, w) not in claimed:
                fail(f"{b.label} MatMul {node.name} reads initializer {w}, which no parameter of the model claims")
    return {key: torch.from_numpy(value.copy()) for key, (value, _) in found.items()}


def reference_difference(model: GiftModel, model_dir: str, card: dict) -> float:
    """Max |logit - reference| on reference.json's input; fails when over 1e-4 or greedy tokens differ."""
    from train_bundled import reference_outputs  # here: train_bundled imports this module

    path = os.path.join(model_dir, "reference.json")
    if not os.path.exists(path):
        fail(f"{path} is missing: nothing to check the recovered weights against")
    with open(path, encoding="utf-8") as f:
        ref = json.load(f)
    size = model.cfg.image_size
    if len(ref["pixels"]) != size * size:
        fail(f"{path}: {len(ref['pixels'])} pixels, the model's input is {size}×{size}")
    image = torch.tensor(ref["pixels"], dtype=torch.float32).reshape(1, 1, size, size)
    vocab = {"bos": card["vocab"]["bos"], "eos": card["vocab"]["eos"]}
    ours = reference_outputs(model, image, ref["prefix"], vocab, ref["file_name"], greedy_steps=len(ref["greedy_tokens"]))
    got, want = np.array(ours["logits"]), np.array(ref["logits"])
    if got.shape != want.shape:
        fail(f"{path}: logits of shape {list(want.shape)}, the recovered model gives {list(got.shape)}")
    diff = float(np.abs(got - want).max())
    if not diff <= REFERENCE_TOLERANCE:
        fail(f"recovered weights do not reproduce {path}: max logit difference {diff:.3g} > {REFERENCE_TOLERANCE:g}")
    if ours["greedy_tokens"] != ref["greedy_tokens"]:
        at = next(i for i, (a, b) in enumerate(zip(ours["greedy_tokens"] + [None], ref["greedy_tokens"] + [None])) if a != b)
        fail(f"recovered weights do not reproduce {path}: greedy tokens differ at step {at}")
    return diff


@dataclasses.dataclass
class Recovered:
    model: GiftModel
    config_name: str
    card: dict
    vocab: dict
    vocab_path: str
    max_logit_diff: float
    source: str


def recover_model(model_dir: str) -> Recovered:
    """The bundled model in MODEL_DIR as a torch GiftModel (eval mode), checked against reference.json."""
    card_path = os.path.join(model_dir, "model.json")
    if not os.path.exists(card_path):
        fail(f"{card_path} is missing (expected a bundled model directory, see models/README.md)")
    with open(card_path, encoding="utf-8") as f:
        card = json.load(f)
    onnx_path = os.path.join(model_dir, card.get("onnx", {}).get("file", "model.onnx"))
    with open(onnx_path, "rb") as f:
        data = f.read()
    sha = hashlib.sha256(data).hexdigest()
    if card.get("onnx", {}).get("sha256") not in (None, sha):
        fail(f"{onnx_path}: sha256 {sha} differs from the card's {card['onnx']['sha256']} ({card_path})")
    vocab_path = os.path.join(model_dir, card.get("vocab", {}).get("file", "vocab.json"))
    if not os.path.exists(vocab_path):
        fail(f"{vocab_path} is missing: a model is continued with the vocabulary it was trained with")
    with open(vocab_path, encoding="utf-8") as f:
        vocab = json.load(f)
    cfg, config_name = config_from_card(card, card_path)
    with torch.random.fork_rng(devices=[]):  # placeholder weights, all replaced; the caller's RNG untouched
        torch.manual_seed(0)
        model = GiftModel(cfg).eval()
    params = card["architecture"].get("parameters")
    if params is not None and params != count_parameters(model):
        fail(f"{card_path}: architecture.parameters is {params}, the config builds {count_parameters(model)}")
    model.load_state_dict(recover_state_dict(onnx.load_from_string(data), model))
    diff = reference_difference(model, model_dir, card)
    return Recovered(model, config_name, card, vocab, os.path.abspath(vocab_path), diff, os.path.abspath(model_dir))


def save_recovered(recovered: Recovered, out_path: str) -> None:
    """A checkpoint train_bundled.py --init reads (no optimizer or step: a new run starts from it)."""
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    tmp = out_path + ".tmp"
    torch.save({"format": CHECKPOINT_FORMAT, "config": recovered.model.cfg.to_json(), "config_name": recovered.config_name,
                "state_dict": recovered.model.state_dict(), "name": recovered.card.get("name"), "source": recovered.source,
                "vocab": recovered.vocab, "vocab_file": recovered.vocab_path, "max_logit_diff": recovered.max_logit_diff}, tmp)
    os.replace(tmp, out_path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir", help="bundled model directory (model.onnx, model.json, vocab.json, reference.json)")
    ap.add_argument("out", help="checkpoint to write (.pt), for train_bundled.py --init")
    args = ap.parse_args(argv)
    recovered = recover_model(args.model_dir)
    save_recovered(recovered, args.out)
    print(f"recovered {len(recovered.model.state_dict())} tensors ({count_parameters(recovered.model)} parameters) of "
          f"{recovered.card.get('name')} ({recovered.config_name}) from {args.model_dir}; max logit difference vs "
          f"reference.json {recovered.max_logit_diff:.3g}, greedy tokens equal; wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
