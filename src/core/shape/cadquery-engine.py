"""GIFT CAD's real-CadQuery engine (src/core/shape/python-engine.ts runs it): one program per run.

Reads {"source", "name"} as JSON on stdin, runs the program as CQ-editor does (cq, cadquery,
show_object predefined, __name__ == "__cq_main__"), picks the result as the built-in engine does
(the variable result, solid or r holding geometry, else the first shown object) and prints one JSON
line: {"ok": true, "brep": <the solid as OpenCascade BREP text>} or {"ok": false, "error": {kind,
message, line}}. The network is closed before the program runs (and the caller adds a network
namespace where it can); the working directory is a fresh folder.
"""
import io
import json
import socket
import sys
import traceback

RESULT_NAMES = ("result", "solid", "r")


RESULT_NAMES = ("result", "solid", "r")
NO_NETWORK = "network access is disabled in GIFT CAD's CadQuery engine"


def _no_network(*args, **kwargs):
    raise PermissionError(NO_NETWORK)


def close_network():
    class NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            raise PermissionError(NO_NETWORK)

    socket.socket = NoSocket
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "socketpair", "fromfd", "create_server"):
        setattr(socket, name, _no_network)


class Failure(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def record_exports(cq):
    """What the program exports (cq.exporters.export, Workplane.export, Shape.export*): recorded in
    order, then exported as CadQuery does. Returns the list (the result when nothing else is)."""
    exported = []
    original = cq.exporters.export

    def export(w, *args, **kwargs):
        exported.append(w)
        return original(w, *args, **kwargs)

    cq.exporters.export = export
    workplane_export = cq.Workplane.export

    def wp_export(self, *args, **kwargs):
        exported.append(self)
        return workplane_export(self, *args, **kwargs)

    cq.Workplane.export = wp_export
    for name in ("exportStl", "exportStep", "exportBrep", "export"):
        method = getattr(cq.Shape, name, None)
        if method is None:
            continue

        def shape_export(self, *args, _method=method, **kwargs):
            exported.append(self)
            return _method(self, *args, **kwargs)

        setattr(cq.Shape, name, shape_export)
    return exported


def result_shape(cq, env, shown, exported=()):
    """The program's result as the built-in engine picks it (src/core/cadquery/api/index.ts
    resultShape): the variable result, solid or r holding geometry, else the first shown object,
    else the first exported one; a Workplane stands for the shapes on its stack (a sketch for its
    faces), else its chain's solid. Returns (shape, what it was). The differential suite's oracle
    (test/cadquery-oracle) uses it too."""

    def is_geometry(v):
        return isinstance(v, (cq.Workplane, cq.Shape, cq.Sketch))

    def sketch_faces(s):
        faces = s._faces.Faces() if s._faces is not None else []
        return [f.moved(loc) for loc in (s.locs or [cq.Location()]) for f in faces]

    def to_shape(v, what):
        if isinstance(v, cq.Shape):
            return v
        if isinstance(v, cq.Sketch):
            shapes = sketch_faces(v)
        else:
            shapes = []
            for o in v.objects:
                if isinstance(o, cq.Sketch):
                    shapes.extend(sketch_faces(o))
                elif isinstance(o, cq.Shape):
                    shapes.append(o)
            if not shapes:
                try:
                    return v.findSolid()
                except ValueError:
                    pass
        if not shapes:
            raise Failure("runtime", f"{what} holds no solid geometry")
        return shapes[0] if len(shapes) == 1 else cq.Compound.makeCompound(shapes)

    for n in RESULT_NAMES:
        v = env.get(n)
        if v is not None and is_geometry(v):
            return to_shape(v, f"`{n}`"), f"`{n}`"
    for v in shown:
        if is_geometry(v):
            return to_shape(v, "the shown object"), "the shown object"
    for v in exported:
        if is_geometry(v):
            return to_shape(v, "the exported object"), "the exported object"
    raise Failure("runtime", "no result: assign the final shape to `result` (or `solid`), call show_object(shape), or export it")


def main():
    close_network()
    request = json.loads(sys.stdin.read())
    name = request.get("name") or "program.py"
    try:
        import cadquery as cq
    except Exception as e:  # noqa: BLE001
        emit({"ok": False, "error": {"kind": "unsupported", "message": f"this Python cannot import cadquery ({type(e).__name__}: {e})"}})
        return

    shown = []

    def show_object(obj, *args, **kwargs):
        shown.append(obj)

    env = {"__name__": "__cq_main__", "cq": cq, "cadquery": cq, "show_object": show_object, "debug": lambda *a, **k: None}
    try:
        code = compile(request["source"], name, "exec")
    except SyntaxError as e:
        emit({"ok": False, "error": {"kind": "syntax", "message": f"{e.msg}", "line": e.lineno, "col": e.offset}})
        return
    exported = record_exports(cq)
    try:
        exec(code, env)  # noqa: S102 — running the user's program is this engine's purpose
        shape, _ = result_shape(cq, env, shown, exported)
        if not shape.Solids():
            raise Failure("geometry", f"the result is not a solid (it is a {type(shape).__name__})")
        stream = io.BytesIO()
        shape.exportBrep(stream)
        emit({"ok": True, "brep": stream.getvalue().decode("latin-1")})
    except Failure as e:
        emit({"ok": False, "error": {"kind": e.kind, "message": str(e)}})
    except BaseException as e:  # noqa: BLE001 — every failure of the program is a result
        line = None
        for frame in traceback.extract_tb(e.__traceback__):
            if frame.filename == name:
                line = frame.lineno
        emit({"ok": False, "error": {"kind": "runtime", "message": f"{type(e).__name__}: {e}", "line": line}})


if __name__ == "__main__":
    main()
