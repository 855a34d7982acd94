#!/usr/bin/env python3
"""Train a GIFT experiment's rounds on a leased GPU in one call, from compressed arrays.

  python3 training/device_train.py pack BUNDLE RUN_DIR...            # here: what goes up
  python3 training/device_train.py run BUNDLE --out DIR [--device cuda] [--jobs N] [--deadline-minutes M]
  python3 training/device_train.py finish DIR RUN_DIR...             # here: the models come back

A RUN_DIR is a round's output folder (`gift round --train-elsewhere`, or `training/gift_experiment.ts
--train-elsewhere`, one per arm and seed): its train.json says what train_bundled.py runs (data
folders, config, steps, batch, seed, lr, init). Nothing else about the experiment is needed there.

pack   writes BUNDLE/manifest.json and one .tar.xz per distinct data folder with only what training
       reads (metadata.jsonl, vocab.json and the preprocessed images-SIZE.u8 of the run's config;
       rendered images compress about 25x) and one per --init model. Shared folders (D, the fresh
       pairs) travel once. Keep BUNDLE inside the repository in a folder git ignores (.device-bundle/)
       and name it in the device call's carry.
run    (on the GPU machine) unpacks, trains every run with train_bundled.py --device DEVICE, JOBS at a
       time on the one GPU (small models leave it idle: several side by side use it), checks each
       export there with verify_export.py (onnx.checker, onnxruntime vs torch within 1e-4) when
       onnxruntime is installed, and writes to DIR what may come back from a leased machine (at most
       8 files of 16 MiB): models-N.tar, each holding whole runs as float16 weights with the run's
       card, reference and check, and summary.json (per run: state, seconds, losses, the check). A
       run not started before --deadline-minutes is left out and named in the summary, so the call
       ends inside its limit with what finished.
finish (here) puts each returned run into RUN_DIR/model as train_bundled.py would have written it:
       checkpoint.pt (the weights, float32 again), model.onnx exported here, vocab.json, reference.json
       computed here, and model.json: the device's card (its hardware, steps, seconds, losses) with
       the ONNX facts of this export, the local data paths, and `returned` saying the weights came
       back as float16. A rerun of the round then takes the model as trained and evaluates it.
The device's Python needs torch (and onnx for the export); nothing is fetched there.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

IMAGE_SIZE = {"tiny": 64, "compact": 96, "small": 128, "base": 224}
RETURN_FILE_LIMIT = 16 * 1024 * 1024  # a leased machine returns files of at most 16 MiB…
RETURN_FILES = 8  # …and at most 8 of them
TAR_BUDGET = RETURN_FILE_LIMIT - 256 * 1024  # tar headers and the summary's margin


def fail(message: str) -> None:
    raise SystemExit(f"device_train: {message}")


def read_json(path: str):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path: str, value) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def read_plan(run_dir: str) -> dict:
    plan_file = os.path.join(run_dir, "train.json")
    if not os.path.exists(plan_file):
        fail(f"{plan_file} is missing: export the round first (gift round --train-elsewhere, or "
             "gift_experiment.ts --train-elsewhere), which writes what to train there")
    plan = read_json(plan_file)
    for key in ("data", "config", "steps"):
        if key not in plan:
            fail(f"{plan_file}: no `{key}`")
    if plan["config"] not in IMAGE_SIZE:
        fail(f"{plan_file}: config {plan['config']!r} is none of {', '.join(IMAGE_SIZE)}")
    return plan


# ---------------------------------------------------------------------------------------------- pack

def content_key(folder: str, size: int) -> str:
    digest = hashlib.sha256()
    for member in ("metadata.jsonl", "vocab.json", f"images-{size}.u8"):
        with open(os.path.join(folder, member), "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return f"{digest.hexdigest()}#{size}"


def pack(bundle: str, run_dirs: list[str]) -> dict:
    if not run_dirs:
        fail("pack: name at least one RUN_DIR")
    os.makedirs(bundle, exist_ok=True)
    for old in os.listdir(bundle):  # a bundle is packed whole: no file of an earlier pack stays
        if old == "manifest.json" or (old.startswith(("data", "init")) and old.endswith(".tar.xz")):
            os.remove(os.path.join(bundle, old))
    folders: dict[str, dict] = {}  # content key -> entry
    inits: dict[str, dict] = {}
    runs = []
    names = set()
    for run_dir in run_dirs:
        run_dir = os.path.abspath(run_dir)
        name = os.path.basename(run_dir.rstrip("/"))
        if name in names:
            fail(f"pack: two runs named {name!r} (runs are named by their folder)")
        names.add(name)
        plan = read_plan(run_dir)
        size = IMAGE_SIZE[plan["config"]]
        data_ids = []
        for folder in plan["data"]:
            folder = os.path.abspath(folder)
            array = os.path.join(folder, f"images-{size}.u8")
            for needed in ("metadata.jsonl", "vocab.json"):
                if not os.path.exists(os.path.join(folder, needed)):
                    fail(f"pack: {os.path.join(folder, needed)} is missing ({name}'s train.json names {folder})")
            if not os.path.exists(array):
                fail(f"pack: {array} is missing: {name} trains {plan['config']} ({size}² images), and only "
                     "preprocessed arrays travel (the round's export writes them; make_dataset.ts --array SIZE)")
            # By content: the seeds of one arm export the same training set into their own folders.
            key = content_key(folder, size)
            if key not in folders:
                fid = f"data{len(folders)}"
                file = f"{fid}.tar.xz"
                with tarfile.open(os.path.join(bundle, file + ".tmp"), "w:xz") as tar:
                    for member in ("metadata.jsonl", "vocab.json", f"images-{size}.u8"):
                        tar.add(os.path.join(folder, member), arcname=f"{fid}/{member}")
                os.replace(os.path.join(bundle, file + ".tmp"), os.path.join(bundle, file))
                raw = sum(os.path.getsize(os.path.join(folder, m)) for m in ("metadata.jsonl", f"images-{size}.u8"))
                folders[key] = {"id": fid, "file": file, "source": folder, "bytes": raw,
                                "packed": os.path.getsize(os.path.join(bundle, file))}
            data_ids.append(folders[key]["id"])
        init_id = None
        if plan.get("init"):
            init = os.path.abspath(plan["init"])
            if init not in inits:
                iid = f"init{len(inits)}"
                file = f"{iid}.tar.xz"
                with tarfile.open(os.path.join(bundle, file), "w:xz") as tar:
                    if os.path.isdir(init):
                        for member in ("model.onnx", "model.json", "vocab.json", "reference.json"):
                            if os.path.exists(os.path.join(init, member)):
                                tar.add(os.path.join(init, member), arcname=f"{iid}/{member}")
                    elif os.path.isfile(init):
                        tar.add(init, arcname=f"{iid}/init.pt")
                    else:
                        fail(f"pack: {name}'s init {init} does not exist")
                inits[init] = {"id": iid, "file": file, "source": init, "dir": os.path.isdir(init)}
            init_id = inits[init]["id"]
        runs.append({"name": name, "source": run_dir, "data": data_ids, "init": init_id,
                     "config": plan["config"], "steps": int(plan["steps"]), "batch_size": int(plan.get("batch_size", 32)),
                     "seed": int(plan.get("seed", 0)), "lr": plan.get("lr"), "train_name": plan.get("name")})
    manifest = {"format": "gift-device-bundle/1", "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "runs": runs, "folders": list(folders.values()), "inits": list(inits.values())}
    write_json(os.path.join(bundle, "manifest.json"), manifest)
    total = sum(os.path.getsize(os.path.join(bundle, f)) for f in os.listdir(bundle))
    for f in manifest["folders"]:
        print(f"{f['file']}: {f['source']} ({f['bytes'] / 1e6:.1f} MB -> {f['packed'] / 1e6:.2f} MB)")
    print(f"{bundle}: {len(runs)} runs, {len(folders)} data folders, {total / 1e6:.1f} MB")
    if total > 48 * 1024 * 1024:
        print(f"warning: {total / 2**20:.0f} MiB: a device call carries at most 64 MiB with the repository", file=sys.stderr)
    return manifest


# ----------------------------------------------------------------------------------------------- run

def unpack(bundle: str, work: str, manifest: dict) -> None:
    for entry in manifest["folders"] + manifest["inits"]:
        if os.path.isdir(os.path.join(work, entry["id"])):
            continue
        with tarfile.open(os.path.join(bundle, entry["file"]), "r:xz") as tar:
            for member in tar.getmembers():
                # Only plain files under the entry's own folder.
                if not member.isfile() or member.name.split("/")[0] != entry["id"] or ".." in member.name.split("/"):
                    fail(f"{entry['file']}: unexpected member {member.name!r}")
            try:
                tar.extractall(work, filter="data")  # Python ≥ 3.11.4: no links, no absolute paths
            except TypeError:
                tar.extractall(work)  # checked member by member above


def train_command(run: dict, work: str, device: str, out: str) -> list[str]:
    cmd = [sys.executable, os.path.join(HERE, "train_bundled.py"), "--data",
           *[os.path.join(work, d) for d in run["data"]], "--out", out, "--config", run["config"],
           "--steps", str(run["steps"]), "--batch-size", str(run["batch_size"]), "--seed", str(run["seed"]),
           "--device", device, "--checkpoint-minutes", "5"]
    if run.get("lr"):
        cmd += ["--lr", str(run["lr"])]
    if run.get("train_name"):
        cmd += ["--name", run["train_name"]]
    if run.get("init"):
        init_dir = os.path.join(work, run["init"])
        cmd += ["--init", init_dir if not os.path.exists(os.path.join(init_dir, "init.pt")) else os.path.join(init_dir, "init.pt")]
    return cmd


def half_weights(model_dir: str) -> bytes:
    """The finished run's checkpoint with its weights in float16 (half the bytes; what travels back)."""
    import torch

    state = torch.load(os.path.join(model_dir, "checkpoint.pt"), map_location="cpu")
    state["state_dict"] = {k: (v.half() if v.is_floating_point() else v) for k, v in state["state_dict"].items()}
    state.pop("optimizer", None)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def verify(model_dir: str, log_file: str) -> dict:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return {"skipped": "onnxruntime is not installed here"}
    r = subprocess.run([sys.executable, os.path.join(HERE, "verify_export.py"), "--onnx", os.path.join(model_dir, "model.onnx"),
                        "--checkpoint", os.path.join(model_dir, "checkpoint.pt")], capture_output=True, text=True)
    with open(log_file, "a", encoding="utf-8") as f:
        f.write(r.stdout + r.stderr)
    try:
        result = json.loads(r.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        result = {"error": (r.stderr or r.stdout).strip()[-500:]}
    result["exit"] = r.returncode
    return result


class Returns:
    """models-N.tar files in OUT, each under the size a leased machine gives back, rewritten whole."""

    def __init__(self, out: str):
        self.out = out
        self.groups: list[list[tuple[str, bytes]]] = []
        self.sizes: list[int] = []

    def add(self, name: str, files: dict[str, bytes]) -> str | None:
        entries = [(f"{name}/{k}", v) for k, v in files.items()]
        size = sum(len(v) + 1024 for _, v in entries)
        if size > TAR_BUDGET:
            return None
        g = next((i for i, s in enumerate(self.sizes) if s + size <= TAR_BUDGET), None)
        if g is None:
            if len(self.groups) >= RETURN_FILES - 1:  # one file stays for summary.json
                return None
            self.groups.append([])
            self.sizes.append(0)
            g = len(self.groups) - 1
        self.groups[g] += entries
        self.sizes[g] += size
        file = os.path.join(self.out, f"models-{g}.tar")
        with tarfile.open(file + ".tmp", "w") as tar:
            for arcname, data in self.groups[g]:
                info = tarfile.TarInfo(arcname)
                info.size = len(data)
                info.mtime = int(time.time())
                tar.addfile(info, io.BytesIO(data))
        os.replace(file + ".tmp", file)
        return os.path.basename(file)


def gpu_description(device: str) -> str:
    try:
        import torch
        if device.startswith("cuda") and torch.cuda.is_available():
            return f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}"
        return f"{platform.machine()} CPU, torch {torch.__version__}"
    except Exception as e:  # noqa: BLE001
        return f"unknown ({e})"


def run(bundle: str, out: str, device: str, jobs: int, deadline_minutes: float | None, work: str | None, only: list[str] | None) -> dict:
    started = time.time()
    manifest = read_json(os.path.join(bundle, "manifest.json"))
    if manifest.get("format") != "gift-device-bundle/1":
        fail(f"{bundle}/manifest.json: not a bundle of device_train.py pack")
    runs = [r for r in manifest["runs"] if not only or r["name"] in only]
    if only and len(runs) != len(only):
        fail(f"--only: no run named {sorted(set(only) - {r['name'] for r in runs})} in the bundle")
    os.makedirs(out, exist_ok=True)
    work = work or tempfile.mkdtemp(prefix="gift-device-")
    unpack(bundle, work, manifest)
    print(f"unpacked {len(manifest['folders'])} data folders in {time.time() - started:.0f} s into {work}", flush=True)
    threads = max(1, (os.cpu_count() or 2) // max(1, jobs))
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), PYTHONUNBUFFERED="1")
    summary = {"format": "gift-device-results/1", "device": gpu_description(device), "jobs": jobs,
               "python": platform.python_version(), "runs": {}}
    returns = Returns(out)
    pending = list(runs)
    active: dict[str, tuple[subprocess.Popen, float, str]] = {}

    def save_summary():
        summary["seconds"] = round(time.time() - started, 1)
        write_json(os.path.join(out, "summary.json"), summary)

    while pending or active:
        while pending and len(active) < jobs:
            if deadline_minutes is not None and time.time() - started > deadline_minutes * 60:
                for r in pending:
                    summary["runs"][r["name"]] = {"state": "not started: --deadline-minutes reached"}
                pending = []
                break
            r = pending.pop(0)
            model_dir = os.path.join(work, "runs", r["name"])
            os.makedirs(model_dir, exist_ok=True)
            log_file = os.path.join(work, "runs", f"{r['name']}.log")
            with open(log_file, "w", encoding="utf-8") as log:
                proc = subprocess.Popen(train_command(r, work, device, model_dir), stdout=log, stderr=subprocess.STDOUT, env=env)
            active[r["name"]] = (proc, time.time(), log_file)
            summary["runs"][r["name"]] = {"state": "training"}
            print(f"{time.time() - started:6.0f} s  start {r['name']} ({r['config']}, {r['steps']} steps, seed {r['seed']})", flush=True)
            save_summary()
        time.sleep(0.5)
        for name, (proc, t0, log_file) in list(active.items()):
            if proc.poll() is None:
                continue
            del active[name]
            model_dir = os.path.join(work, "runs", name)
            with open(log_file, encoding="utf-8") as f:
                tail = f.read()[-1500:]
            entry = {"seconds": round(time.time() - t0, 1), "exit": proc.returncode}
            if proc.returncode != 0 or not os.path.exists(os.path.join(model_dir, "model.json")):
                entry.update(state="failed", log_tail=tail)
                print(f"{time.time() - started:6.0f} s  FAILED {name} (exit {proc.returncode}):\n{tail}", flush=True)
            else:
                card = read_json(os.path.join(model_dir, "model.json"))
                check = verify(model_dir, log_file)
                files = {"weights-f16.pt": half_weights(model_dir),
                         "model.json": json.dumps(card, indent=1).encode(),
                         "reference.json": open(os.path.join(model_dir, "reference.json"), "rb").read(),
                         "verify.json": json.dumps(check).encode(),
                         "train.log": tail.encode()}
                where = returns.add(name, files)
                t = card.get("training", {})
                entry.update(state="done" if where else "done, not returned (no room in 8 files of 16 MiB)", file=where,
                             train_seconds=t.get("train_seconds"), eval_loss=t.get("eval_loss"),
                             eval_token_accuracy=t.get("eval_token_accuracy"), verify=check)
                print(f"{time.time() - started:6.0f} s  done {name}: {entry['seconds']} s, eval loss {t.get('eval_loss')}, "
                      f"token accuracy {t.get('eval_token_accuracy')}, onnx check {json.dumps(check)[:200]} -> {where}", flush=True)
            summary["runs"][name] = entry
            save_summary()
    save_summary()
    done = sum(1 for e in summary["runs"].values() if e.get("state") == "done")
    print(f"{done}/{len(runs)} runs returned in {time.time() - started:.0f} s ({summary['device']})", flush=True)
    return summary


# -------------------------------------------------------------------------------------------- finish

def finish(results: str, run_dirs: list[str]) -> list[str]:
    import torch

    import train_bundled as tb
    from export_onnx import export_bundled
    from gift_model import GiftModel, ModelConfig

    torch.backends.mkldnn.enabled = False  # as train_bundled.py on CPU
    by_name = {os.path.basename(os.path.abspath(d).rstrip("/")): os.path.abspath(d) for d in run_dirs}
    summary_file = os.path.join(results, "summary.json")
    summary = read_json(summary_file) if os.path.exists(summary_file) else {"runs": {}}
    finished = []
    tars = sorted(f for f in os.listdir(results) if f.startswith("models-") and f.endswith(".tar"))
    if not tars:
        fail(f"{results}: no models-N.tar (what device_train.py run writes)")
    for tar_name in tars:
        with tarfile.open(os.path.join(results, tar_name)) as tar:
            members = {m.name: m for m in tar.getmembers() if m.isfile()}
            for name in sorted({n.split("/")[0] for n in members}):
                if name not in by_name:
                    print(f"{tar_name}: {name} is not among the RUN_DIRs given; left alone")
                    continue
                run_dir = by_name[name]
                plan = read_plan(run_dir)
                read = lambda f: tar.extractfile(members[f"{name}/{f}"]).read()  # noqa: E731
                state = torch.load(io.BytesIO(read("weights-f16.pt")), map_location="cpu")
                card = json.loads(read("model.json"))
                if card.get("training", {}).get("planned_steps") != plan["steps"]:
                    fail(f"{tar_name}: {name} was trained for {card.get('training', {}).get('planned_steps')} steps, "
                         f"{run_dir}/train.json plans {plan['steps']}")
                fields = {f.name for f in dataclasses.fields(ModelConfig)}
                cfg = ModelConfig(**{k: tuple(v) if k == "cnn_channels" else v for k, v in state["config"].items() if k in fields})
                model = GiftModel(cfg)
                model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state["state_dict"].items()})
                model.eval()
                model_dir = os.path.join(run_dir, "model")
                os.makedirs(model_dir, exist_ok=True)
                for stale in ("model.json", "model.onnx"):  # model.json last in, so a half-finished one is not taken as trained
                    if os.path.exists(os.path.join(model_dir, stale)):
                        os.remove(os.path.join(model_dir, stale))
                state["state_dict"] = model.state_dict()
                vocab_file = os.path.join(plan["data"][0], "vocab.json")
                state["vocab_file"] = os.path.abspath(vocab_file)
                torch.save(state, os.path.join(model_dir, "checkpoint.pt"))
                onnx_path = os.path.join(model_dir, "model.onnx")
                opset = export_bundled(model, onnx_path)
                shutil.copyfile(vocab_file, os.path.join(model_dir, "vocab.json"))
                vocab = tb.load_vocab(plan["data"][0])
                examples, _ = tb.load_all_examples(plan["data"][:1], vocab, cfg.max_len, cfg.image_size)
                first_image, first_seq = examples[0]
                first_name = (f"{os.path.relpath(first_image[1], plan['data'][0])}#{first_image[2]}" if isinstance(first_image, tuple)
                              else os.path.relpath(first_image, plan["data"][0]))
                reference = tb.reference_outputs(model, tb.load_images(examples[:1], cfg.image_size), first_seq, vocab, first_name,
                                                 greedy_steps=min(cfg.max_len - 1, 64))
                with open(os.path.join(model_dir, "reference.json"), "w", encoding="utf-8") as f:
                    json.dump(reference, f)
                with open(onnx_path, "rb") as f:
                    onnx_sha = hashlib.sha256(f.read()).hexdigest()
                card["onnx"].update(sha256=onnx_sha, bytes=os.path.getsize(onnx_path), opset=opset)
                card["training"]["data"] = [os.path.abspath(d) for d in plan["data"]]
                card["returned"] = {
                    "weights": "float16 (trained in float32" + (" with bf16 autocast" if card.get("training", {}).get("device", "").startswith("cuda") else "") + "; rounded for the way back)",
                    "exported": f"here, torch {torch.__version__}, python {platform.python_version()}",
                    "device": summary.get("device"),
                    "device_onnx_check": json.loads(read("verify.json")),
                }
                with open(os.path.join(model_dir, "model.json"), "w", encoding="utf-8") as f:
                    json.dump(card, f, indent=2)
                finished.append(name)
                print(f"{name}: {model_dir} (trained on {summary.get('device', '?')}, {card['training'].get('train_seconds')} s, "
                      f"token accuracy {card['training'].get('eval_token_accuracy')})")
    missing = sorted(set(by_name) - set(finished))
    for name in missing:
        state = summary.get("runs", {}).get(name, {}).get("state", "not in the results")
        print(f"{name}: not returned ({state})")
    return finished


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack", help="RUN_DIRs (rounds exported with --train-elsewhere) -> BUNDLE")
    p.add_argument("bundle")
    p.add_argument("runs", nargs="+")
    r = sub.add_parser("run", help="(on the GPU machine) train a BUNDLE's runs -> --out")
    r.add_argument("bundle")
    r.add_argument("--out", required=True)
    r.add_argument("--device", default="cuda")
    r.add_argument("--jobs", type=int, default=4, help="runs side by side on the one device (default 4)")
    r.add_argument("--deadline-minutes", type=float, default=None, help="start no run after this long")
    r.add_argument("--work", default=None, help="where to unpack and train (default a temporary folder)")
    r.add_argument("--only", default=None, help="comma-separated run names (default all)")
    f = sub.add_parser("finish", help="(here) returned models -> RUN_DIR/model")
    f.add_argument("results")
    f.add_argument("runs", nargs="+")
    args = ap.parse_args(argv)
    if args.command == "pack":
        pack(args.bundle, args.runs)
    elif args.command == "run":
        if args.jobs < 1:
            fail("--jobs must be at least 1")
        try:
            import torch
        except ImportError:
            fail(f"{sys.executable} has no torch: run this with the Python that trains (train_bundled.py needs torch)")
        if args.device.startswith("cuda"):
            if not torch.cuda.is_available():
                fail("--device cuda: torch sees no GPU here (use --device cpu to try the bundle on a CPU)")
        summary = run(args.bundle, args.out, args.device, args.jobs, args.deadline_minutes, args.work,
                      args.only.split(",") if args.only else None)
        return 0 if all(e.get("state") == "done" for e in summary["runs"].values()) else 1
    else:
        done = finish(args.results, args.runs)
        return 0 if len(done) == len(args.runs) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
