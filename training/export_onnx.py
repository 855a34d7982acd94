"""Export GiftModel to ONE ONNX file (opset 17) with an encode/decode mode switch.

ONNX allows one graph per file, so the file's graph is a single `If` on the boolean input `encode`:
  encode=true : image [B,1,S,S]                          -> cross_kv_out [L,2,B,H,M,dh]
  encode=false: input_ids [B,T] int64, past_kv, cross_kv -> logits [B,T,V], present_kv
Every input must be fed in both modes (the unused ones may be zero-sized), and the outputs of the
branch not taken are zero-sized. The two branches are the graphs torch exports for
GiftModel.encode and GiftModel.decode, with their names prefixed so they cannot collide.

Exporters. The default is torch's TorchScript exporter at opset 17, the only one torch 1.13 has and
still there (deprecated) in torch 2.x, where it must be asked for with `dynamo=False`: since torch
2.9 `torch.onnx.export` defaults to the torch.export ("dynamo") exporter, which writes opset >= 18
only and converts down on request (it left opset-18 `Split(num_outputs=…)` nodes in a graph declared
17, which onnx.checker rejects). GIFT_ONNX_EXPORTER=dynamo (or `exporter="dynamo"`) uses the
torch.export exporter at opset 18 instead (torch >= 2.9 with onnxscript); the merged graph then
declares 18, and export_bundled returns the opset written so the card can say it.
Both branches are exported from the model in eval mode (no dropout).
"""
from __future__ import annotations

import contextlib
import inspect
import os
import sys
import tempfile

import onnx
import torch
from onnx import TensorProto, helper

from gift_model import GiftModel

OPSET = 17  # what the default (TorchScript) exporter writes; the card and models/README.md say so
DYNAMO_OPSET = 18  # the lowest opset torch's dynamo exporter writes natively
EXPORTERS = ("torchscript", "dynamo")
INPUTS = ["encode", "image", "input_ids", "past_kv", "cross_kv"]
OUTPUTS = ["logits", "present_kv", "cross_kv_out"]


def choose_exporter(exporter: str | None = None) -> str:
    """The exporter to use: the argument, else $GIFT_ONNX_EXPORTER, else "torchscript"."""
    name = exporter or os.environ.get("GIFT_ONNX_EXPORTER") or "torchscript"
    if name not in EXPORTERS:
        raise SystemExit(f"export_onnx: unknown exporter {name!r} (GIFT_ONNX_EXPORTER); choose one of {', '.join(EXPORTERS)}")
    return name


def exporter_opset(exporter: str | None = None) -> int:
    return DYNAMO_OPSET if choose_exporter(exporter) == "dynamo" else OPSET


class _Encode(torch.nn.Module):
    def __init__(self, model: GiftModel):
        super().__init__()
        self.model = model

    def forward(self, image):
        return self.model.encode(image)


class _Decode(torch.nn.Module):
    def __init__(self, model: GiftModel):
        super().__init__()
        self.model = model

    def forward(self, input_ids, past_kv, cross_kv):
        return self.model.decode(input_ids, past_kv, cross_kv)


def _has_dynamo_flag() -> bool:
    """torch >= 2.0 has `dynamo=` on torch.onnx.export (default False until 2.8, True from 2.9)."""
    try:
        return "dynamo" in inspect.signature(torch.onnx.export).parameters
    except (TypeError, ValueError):
        return False


def _export_torchscript(module, args, input_names, output_names, dynamic_axes, path):
    kwargs = dict(opset_version=OPSET, input_names=input_names, output_names=output_names,
                  dynamic_axes=dynamic_axes, do_constant_folding=True)
    if _has_dynamo_flag():
        kwargs["dynamo"] = False  # torch >= 2.9 would pick the dynamo exporter (opset >= 18)
    try:
        torch.onnx.export(module, args, path, **kwargs)
    except (ImportError, NotImplementedError) as e:  # a torch without the TorchScript exporter
        raise SystemExit(f"export_onnx: torch {torch.__version__} cannot export with the TorchScript exporter ({e}); "
                         "set GIFT_ONNX_EXPORTER=dynamo to export opset 18 with torch.export") from e
    return onnx.load(path)


def _export_dynamo(module, args, input_names, output_names, dynamic_axes, path):
    try:
        import onnxscript  # noqa: F401  (the dynamo exporter needs it)
    except ImportError as e:
        raise SystemExit(f"export_onnx: GIFT_ONNX_EXPORTER=dynamo needs onnxscript ({e})") from e
    dim = torch.export.Dim
    dims = {}  # one Dim object per axis name, so equal names are one symbol
    dynamic_shapes = []
    for name in input_names:
        axes = dynamic_axes.get(name, {})
        dynamic_shapes.append({axis: dims.setdefault(label, dim(label)) for axis, label in axes.items()} or None)
    with contextlib.redirect_stdout(sys.stderr):  # its progress lines are not the trainer's output
        program = torch.onnx.export(module, args, dynamo=True, opset_version=DYNAMO_OPSET, input_names=input_names,
                                    output_names=output_names, dynamic_shapes=tuple(dynamic_shapes),
                                    optimize=True, external_data=False)
    program.save(path, external_data=False)
    return onnx.load(path)


def _export(module, args, input_names, output_names, dynamic_axes, path, exporter: str):
    module = module.eval()  # the wrapper too: exporters warn about (and may keep) training-mode behaviour
    if exporter == "dynamo":
        return _export_dynamo(module, args, input_names, output_names, dynamic_axes, path)
    return _export_torchscript(module, args, input_names, output_names, dynamic_axes, path)


def _default_opset(model: onnx.ModelProto) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def _symbolic(name: str, rank: int) -> list:
    """Fully symbolic dims: the two If branches give the same output different (e.g. empty) shapes."""
    return [f"{name}_d{i}" for i in range(rank)]


def _prefixed_branch(model: onnx.ModelProto, prefix: str, keep: set, outputs: list, name: str):
    """The exported graph as an If branch: outer inputs referenced by name, the rest prefixed."""
    graph = model.graph

    def rename(n: str) -> str:
        return n if (n == "" or n in keep) else prefix + n

    for node in graph.node:
        node.name = prefix + node.name
        node.input[:] = [rename(n) for n in node.input]
        node.output[:] = [rename(n) for n in node.output]
    for init in graph.initializer:
        init.name = rename(init.name)
    for vi in graph.value_info:
        vi.name = rename(vi.name)
    branch_outputs = []
    for out in graph.output:
        out.name = rename(out.name)
        branch_outputs.append(out)
    produced = {o.name: o for o in branch_outputs}
    nodes = list(graph.node)
    final_outputs = []
    for spec in outputs:  # (name, elem_type, rank) in If output order
        out_name, elem_type, rank = spec
        if prefix + out_name in produced:
            final_outputs.append(produced[prefix + out_name])
        else:  # output of the other branch: a zero-sized tensor of the right rank
            empty_name = f"{prefix}empty_{out_name}"
            empty = helper.make_tensor(empty_name + "_value", elem_type, [0] * rank, [])
            nodes.append(helper.make_node("Constant", [], [empty_name], value=empty,
                                          name=f"{prefix}const_{out_name}"))
            final_outputs.append(helper.make_tensor_value_info(empty_name, elem_type, _symbolic(out_name, rank)))
    return helper.make_graph(nodes, name, [], final_outputs, initializer=list(graph.initializer),
                             value_info=list(graph.value_info))


def export_bundled(model: GiftModel, path: str, exporter: str | None = None) -> int:
    """Writes the merged graph to `path`; returns its opset (17, or 18 with the dynamo exporter).
    The model is put in eval mode (and on the CPU) and left so."""
    exporter = choose_exporter(exporter)
    cfg = model.cfg
    model = model.eval().cpu()
    s, L, H, dh = cfg.image_size, cfg.decoder_layers, cfg.heads, cfg.head_dim
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        enc = _export(_Encode(model), (torch.rand(2, 1, s, s),), ["image"], ["cross_kv_out"],
                      {"image": {0: "batch"}, "cross_kv_out": {2: "batch"}},
                      os.path.join(tmp, "encode.onnx"), exporter)
        ids = torch.randint(0, cfg.vocab_size, (2, 2), dtype=torch.long)
        past = torch.rand(L, 2, 2, H, 3, dh)
        cross = torch.rand(L, 2, 1, H, cfg.memory_len, dh)
        dec = _export(_Decode(model), (ids, past, cross), ["input_ids", "past_kv", "cross_kv"],
                      ["logits", "present_kv"],
                      {"input_ids": {0: "batch", 1: "steps"}, "past_kv": {2: "batch", 4: "past"},
                       "cross_kv": {2: "cross_batch"}, "logits": {0: "batch", 1: "steps"},
                       "present_kv": {2: "batch", 4: "total"}},
                      os.path.join(tmp, "decode.onnx"), exporter)
    opset = _default_opset(enc)
    if opset != _default_opset(dec) or opset != exporter_opset(exporter):
        raise SystemExit(f"export_onnx: torch {torch.__version__} ({exporter} exporter) wrote opset {opset} (encoder) and "
                         f"{_default_opset(dec)} (decoder), expected {exporter_opset(exporter)}")
    keep = set(INPUTS)
    f32, i64 = TensorProto.FLOAT, TensorProto.INT64
    out_specs = [("logits", f32, 3), ("present_kv", f32, 6), ("cross_kv_out", f32, 6)]
    then_branch = _prefixed_branch(enc, "enc/", keep, out_specs, "encode_branch")
    else_branch = _prefixed_branch(dec, "dec/", keep, out_specs, "decode_branch")
    switch = helper.make_node("If", ["encode"], OUTPUTS, then_branch=then_branch,
                              else_branch=else_branch, name="encode_or_decode")
    graph = helper.make_graph(
        [switch], "gift_cad_image_to_cadquery",
        [helper.make_tensor_value_info("encode", TensorProto.BOOL, []),
         helper.make_tensor_value_info("image", f32, ["image_batch", 1, s, s]),
         helper.make_tensor_value_info("input_ids", i64, ["batch", "steps"]),
         helper.make_tensor_value_info("past_kv", f32, [L, 2, "batch", H, "past", dh]),
         helper.make_tensor_value_info("cross_kv", f32, [L, 2, "cross_batch", H, cfg.memory_len, dh])],
        [helper.make_tensor_value_info(name, f32, _symbolic(name, rank)) for name, _, rank in out_specs])
    # The If's subgraphs use the outer graph's opsets: declare exactly what the branches were written
    # for (the default domain plus any function domains the exporter used), and carry their functions.
    opsets = {}
    for m in (enc, dec):
        for o in m.opset_import:
            domain = "" if o.domain == "ai.onnx" else o.domain
            opsets[domain] = max(opsets.get(domain, 0), o.version)
    functions = {}
    for m in (enc, dec):
        for fn in m.functions:
            key = (fn.domain, fn.name, getattr(fn, "overload", ""))
            if key in functions and functions[key].SerializeToString() != fn.SerializeToString():
                raise SystemExit(f"export_onnx: encoder and decoder define different ONNX functions {key}")
            functions[key] = fn
    merged = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in sorted(opsets.items())],
                               producer_name="gift-cad-training", functions=list(functions.values()))
    merged.ir_version = max(enc.ir_version, dec.ir_version)
    onnx.checker.check_model(merged, full_check=True)
    onnx.save(merged, path)
    return opset
