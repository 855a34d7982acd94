"""Export GiftModel to ONE ONNX file (opset 17) with an encode/decode mode switch.

ONNX allows one graph per file, so the file's graph is a single `If` on the boolean input `encode`:
  encode=true : image [B,1,S,S]                          -> cross_kv_out [L,2,B,H,M,dh]
  encode=false: input_ids [B,T] int64, past_kv, cross_kv -> logits [B,T,V], present_kv
Every input must be fed in both modes (the unused ones may be zero-sized), and the outputs of the
branch not taken are zero-sized. The two branches are the graphs torch exports for
GiftModel.encode and GiftModel.decode, with their names prefixed so they cannot collide.
"""
from __future__ import annotations

import os
import tempfile

import onnx
import torch
from onnx import TensorProto, helper

from gift_model import GiftModel

OPSET = 17
INPUTS = ["encode", "image", "input_ids", "past_kv", "cross_kv"]
OUTPUTS = ["logits", "present_kv", "cross_kv_out"]


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


def _export(module, args, input_names, output_names, dynamic_axes, path):
    torch.onnx.export(module, args, path, opset_version=OPSET, input_names=input_names,
                      output_names=output_names, dynamic_axes=dynamic_axes, do_constant_folding=True)
    return onnx.load(path)


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


def export_bundled(model: GiftModel, path: str) -> None:
    cfg = model.cfg
    model = model.eval().cpu()
    s, L, H, dh = cfg.image_size, cfg.decoder_layers, cfg.heads, cfg.head_dim
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        enc = _export(_Encode(model), (torch.rand(2, 1, s, s),), ["image"], ["cross_kv_out"],
                      {"image": {0: "batch"}, "cross_kv_out": {2: "batch"}},
                      os.path.join(tmp, "encode.onnx"))
        ids = torch.randint(0, cfg.vocab_size, (2, 2), dtype=torch.long)
        past = torch.rand(L, 2, 2, H, 3, dh)
        cross = torch.rand(L, 2, 1, H, cfg.memory_len, dh)
        dec = _export(_Decode(model), (ids, past, cross), ["input_ids", "past_kv", "cross_kv"],
                      ["logits", "present_kv"],
                      {"input_ids": {0: "batch", 1: "steps"}, "past_kv": {2: "batch", 4: "past"},
                       "cross_kv": {2: "cross_batch"}, "logits": {0: "batch", 1: "steps"},
                       "present_kv": {2: "batch", 4: "total"}},
                      os.path.join(tmp, "decode.onnx"))
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
    merged = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                               producer_name="gift-cad-training")
    merged.ir_version = enc.ir_version
    onnx.checker.check_model(merged)
    onnx.save(merged, path)
