"""Runs CadQuery programs in real CadQuery (the oracle of the differential suite) and measures them
as `gift run` measures ours.

Input (stdin): JSON lines {"id": str, "source": str}. Output (stdout): one JSON line per input, in
order: {"id", "ok": true, "volume", "bbox": [xmin,ymin,zmin,xmax,ymax,zmax], "valid", "solids",
"faces", "edges", "vertices"} or {"id", "ok": false, "error": {"kind", "message"}}.

Each program runs in a forked child (the parent imported cadquery once, so a fork costs a few ms):
a program that hangs inside OpenCascade is killed at --timeout seconds, one that crashes the
interpreter fails alone, and no program sees another's state. Files a program exports land in a
temporary folder that is removed.

The program's environment is CQ-editor's and CQGI's: `cq`, `cadquery` and `show_object` predefined, `__name__` is
"__cq_main__". Its result is picked as ours is (src/core/cadquery/api/index.ts resultShape): the
variable `result`, `solid` or `r` holding geometry, else the first shown object; a Workplane
stands for the shapes on its stack (a sketch for its faces), else its chain's solid; one solid
stands for itself, several for their compound. The measurements use the calls ours uses: volume
by BRepGProp.VolumeProperties, the box by BRepBndLib.AddOptimal on the exact geometry without
tolerances, validity by BRepCheck_Analyzer, counts of distinct sub-shapes. A volume of at most
1e-12 is a failure, as in ours (src/core/shape/run-cadquery.ts). With --extrema-box each result
also gets "extremaBox": the box of its extreme points, found as ours finds it
(src/core/geometry/measure.ts extremaBoundingBox: distances to plane faces beyond each side).
"""

import argparse
import importlib.util
import json
import os
import select
import signal
import sys
import tempfile
import traceback

import cadquery as cq
from OCP.Bnd import Bnd_Box
from OCP.BRepBndLib import BRepBndLib
from OCP.BRepBuilderAPI import BRepBuilderAPI_MakeFace
from OCP.BRepCheck import BRepCheck_Analyzer
from OCP.BRepExtrema import BRepExtrema_DistShapeShape
from OCP.BRepGProp import BRepGProp
from OCP.GProp import GProp_GProps
from OCP.gp import gp_Dir, gp_Pln, gp_Pnt
from OCP.TopAbs import TopAbs_EDGE, TopAbs_FACE, TopAbs_SOLID, TopAbs_VERTEX
from OCP.TopExp import TopExp
from OCP.TopTools import TopTools_IndexedMapOfShape

# The result is picked by the product's own Python engine (one definition of "the result").
_spec = importlib.util.spec_from_file_location(
    "cadquery_engine", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "core", "shape", "cadquery-engine.py")
)
ENGINE = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ENGINE)
Failure = ENGINE.Failure
DEGENERATE_VOLUME = 1e-12
EXTREMA_BOX = False


def pick_result(env, shown, exported=()):
    s, what = ENGINE.result_shape(cq, env, shown, exported)
    solids = s.Solids()
    if not solids:
        raise Failure("geometry", f"{what} is not a solid (it is a {type(s).__name__})")
    if isinstance(s, cq.Solid):
        return s
    if len(solids) == 1:
        return solids[0]
    return s


def count(shape, kind):
    m = TopTools_IndexedMapOfShape()
    TopExp.MapShapes_s(shape, kind, m)
    return m.Extent()


def measure(s):
    w = s.wrapped
    props = GProp_GProps()
    BRepGProp.VolumeProperties_s(w, props, False, False, False)
    volume = props.Mass()
    if not abs(volume) > DEGENERATE_VOLUME:
        raise Failure("geometry", "the result has zero volume (a zero-length extrude or an empty boolean?)")
    box = Bnd_Box()
    BRepBndLib.AddOptimal_s(w, box, False, False)
    bbox = [box.CornerMin().X(), box.CornerMin().Y(), box.CornerMin().Z(), box.CornerMax().X(), box.CornerMax().Y(), box.CornerMax().Z()]
    extra = {"extremaBox": extrema_box(w, bbox)} if EXTREMA_BOX else {}
    return {
        "ok": True,
        "volume": volume,
        "bbox": bbox,
        "valid": BRepCheck_Analyzer(w, True).IsValid(),
        "solids": count(w, TopAbs_SOLID),
        "faces": count(w, TopAbs_FACE),
        "edges": count(w, TopAbs_EDGE),
        "vertices": count(w, TopAbs_VERTEX),
        **extra,
    }


def extrema_box(w, rough):
    """The box of the shape's extreme points: for each of ±x, ±y, ±z the distance from its faces to a plane face beyond it."""
    faces = cq.Compound.makeCompound(cq.Shape.cast(w).Faces()).wrapped
    diagonal = ((rough[3] - rough[0]) ** 2 + (rough[4] - rough[1]) ** 2 + (rough[5] - rough[2]) ** 2) ** 0.5
    margin = diagonal + 1
    half = 3 * diagonal + 10
    centre = [(rough[i] + rough[i + 3]) / 2 for i in range(3)]
    out = list(rough)
    for k in range(3):
        for side in (0, 1):
            at = rough[k + 3] + margin if side else rough[k] - margin
            p = list(centre)
            p[k] = at
            n = [0.0, 0.0, 0.0]
            n[k] = 1.0 if side else -1.0
            face = BRepBuilderAPI_MakeFace(gp_Pln(gp_Pnt(*p), gp_Dir(*n)), -half, half, -half, half).Face()
            distance = BRepExtrema_DistShapeShape()
            distance.LoadS1(faces)
            distance.LoadS2(face)
            if not distance.Perform() or not distance.IsDone():
                raise Failure("geometry", "could not find the extremes of the shape")
            out[k + 3 * side] = at - distance.Value() if side else at + distance.Value()
    return out


def run_program(source):
    shown = []

    def show_object(obj, *args, **kwargs):
        shown.append(obj)

    def debug(obj, *args, **kwargs):
        pass

    env = {"__name__": "__cq_main__", "cq": cq, "cadquery": cq, "show_object": show_object, "debug": debug, "log": lambda *a, **k: None}
    try:
        code = compile(source, "<program>", "exec")
    except SyntaxError as e:
        return {"ok": False, "error": {"kind": "syntax", "message": f"{e.msg} (line {e.lineno})"}}
    exported = ENGINE.record_exports(cq)  # each program runs in its own forked child
    try:
        exec(code, env)
        return measure(pick_result(env, shown, exported))
    except Failure as e:
        return {"ok": False, "error": {"kind": e.kind, "message": str(e)}}
    except BaseException as e:  # noqa: BLE001 — every failure of the program is a result
        tb = traceback.extract_tb(e.__traceback__)
        line = next((f.lineno for f in reversed(tb) if f.filename == "<program>"), None)
        return {"ok": False, "error": {"kind": "error", "message": f"{type(e).__name__}: {e}", "line": line}}


def run_isolated(source, timeout):
    """The program in a forked child; its JSON result through a pipe."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            with tempfile.TemporaryDirectory(prefix="cq-oracle-") as tmp:
                os.chdir(tmp)
                # A program's own prints must not reach our stdout.
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                result = run_program(source)
            data = json.dumps(result, allow_nan=True).encode()
        except BaseException as e:  # noqa: BLE001
            data = json.dumps({"ok": False, "error": {"kind": "error", "message": f"oracle: {e}"}}).encode()
        with os.fdopen(w, "wb") as f:
            f.write(data)
        os._exit(0)
    os.close(w)
    chunks = []
    with os.fdopen(r, "rb") as f:
        fd = f.fileno()
        while True:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return {"ok": False, "error": {"kind": "timeout", "message": f"CadQuery ran past {timeout} s"}}
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if not chunks:
        return {"ok": False, "error": {"kind": "crash", "message": f"CadQuery's process died (status {status})"}}
    return json.loads(b"".join(chunks))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per program")
    parser.add_argument("--extrema-box", action="store_true", help="also the box of the extreme points (extremaBox)")
    args = parser.parse_args()
    global EXTREMA_BOX
    EXTREMA_BOX = args.extrema_box
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        item = json.loads(line)
        result = {"id": item["id"], **run_isolated(item["source"], args.timeout)}
        out.write(json.dumps(result) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
