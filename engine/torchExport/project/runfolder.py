"""The workbench's run folder, written from PyTorch (schemas: common/runFolder.ts in the workbench):

  run.json                          rewritten atomically (temporary file, fsync, rename) on every change
  metrics.jsonl                     one {"step", "wallTime", "tokens", "scalars"} line per step (and evaluation)
  events.out.tfevents.<time>.<host> the same scalars for TensorBoard (TFRecord framing, masked CRC32C)
  checkpoints/step-<N>/             model.safetensors, optimizer.safetensors, checkpoint.json (sizes, SHA-256,
                                    tensors), written into a hidden temporary folder and renamed into place
  checkpoints/last.json, best.json  pointers to the newest and the best checkpoint
  tokenizer.json                    the experiment's tokenizer

Only rank 0 writes. Everything here is the Python standard library and numpy.
"""
import hashlib
import json
import math
import os
import random
import shutil
import socket
import struct
import time
from datetime import datetime, timezone

import numpy as np

RUN_FORMAT, CHECKPOINT_FORMAT = "transformer-workbench.run", "transformer-workbench.checkpoint"
TEMP_MARKER = ".tmp-"  # the workbench's listing skips hidden names holding it


def now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_run_id():
    tail = "".join(random.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(4))
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + tail


def _temp_path(target):
    return os.path.join(os.path.dirname(target), f".{os.path.basename(target)}{TEMP_MARKER}{os.getpid()}-{random.randrange(1 << 30)}")


def _fsync_dir(folder):
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(path, data):
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def write_json_atomic(path, obj):
    tmp = _temp_path(path)
    _write_synced(tmp, (json.dumps(obj, indent=2) + "\n").encode())
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(path))


def scalar_json(v):
    """JSON has no NaN or Infinity: a diverging loss is written as the workbench's strings, not dropped."""
    v = float(v)
    if math.isfinite(v):
        return v
    return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")


# ---------------------------------------------------------------------------------------------------
# safetensors: an 8-byte little-endian header length, a JSON header padded with spaces to 8 bytes, raw data

def safetensors_bytes(tensors, metadata=None):
    """`tensors`: (name, float32 numpy array) pairs, in order."""
    header = {"__metadata__": metadata} if metadata else {}
    offset, blobs = 0, []
    for name, a in tensors:
        a = np.ascontiguousarray(a, dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - (8 + len(text.encode())) % 8) % 8)
    return struct.pack("<Q", len(text.encode())) + text.encode() + b"".join(blobs)


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    n = struct.unpack("<Q", buf[:8])[0]
    header = json.loads(buf[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] != "F32":
            raise ValueError(f"{path}: tensor '{name}' is {e['dtype']}; the exported weights are F32")
        begin, end = e["data_offsets"]
        out[name] = np.frombuffer(buf, dtype="<f4", count=(end - begin) // 4, offset=8 + n + begin).reshape(e["shape"]).copy()
    return out


# ---------------------------------------------------------------------------------------------------
# TensorBoard event files (the format is public: TFRecord framing around Event protobufs)

def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        table.append(c)
    return table


_CRC = _crc_table()


def masked_crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC[(c ^ b) & 0xFF] ^ (c >> 8)
    c ^= 0xFFFFFFFF
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(num, wire, payload):
    return _varint(num << 3 | wire) + payload


def _bytes_field(num, data):
    return _field(num, 2, _varint(len(data)) + data)


def event_bytes(wall_time, step, file_version=None, scalars=None):
    """Event{wall_time=1 double, step=2 int64, file_version=3 | summary=5{value=1{tag=1, simple_value=2 float}}}."""
    msg = _field(1, 1, struct.pack("<d", wall_time)) + _field(2, 0, _varint(step))
    if file_version is not None:
        msg += _bytes_field(3, file_version.encode())
    if scalars:
        values = b"".join(_bytes_field(1, _bytes_field(1, tag.encode()) + _field(2, 5, struct.pack("<f", v))) for tag, v in scalars.items())
        msg += _bytes_field(5, values)
    return msg


def tfrecord(data):
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc32c(length)) + data + struct.pack("<I", masked_crc32c(data))


class EventWriter:
    def __init__(self, run_dir):
        t = time.time()
        self.path = os.path.join(run_dir, f"events.out.tfevents.{int(t)}.{socket.gethostname()}")
        self.f = open(self.path, "ab")
        self.f.write(tfrecord(event_bytes(t, 0, file_version="brain.Event:2")))
        self.f.flush()

    def scalars(self, step, wall_time, values):
        self.f.write(tfrecord(event_bytes(wall_time, step, scalars=values)))
        self.f.flush()

    def close(self):
        self.f.close()


# ---------------------------------------------------------------------------------------------------
# the run folder


def _tensor_file(folder, file, tensors, metadata):
    data = safetensors_bytes(tensors, metadata)
    _write_synced(os.path.join(folder, file), data)
    return {"file": file, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "tensors": [{"name": n, "dtype": "F32", "shape": list(np.shape(a))} for n, a in tensors]}


def checkpoint_name(step):
    return f"step-{step:08d}"


class RunFolder:
    def __init__(self, runs_dir, run_id, name, config, backend, seed, tokenizer_file):
        self.dir = os.path.join(runs_dir, run_id)
        if os.path.exists(self.dir):
            raise FileExistsError(f"{self.dir}: a run of this id exists already; pass another --run-id or leave it out")
        os.makedirs(self.dir)
        shutil.copyfile(tokenizer_file, os.path.join(self.dir, "tokenizer.json"))
        created = now_iso()
        self.json = {
            "format": RUN_FORMAT, "version": 1, "id": run_id, "name": name, "created": created, "updated": created,
            "status": "running", "config": config, "backend": backend, "seed": seed, "step": 0, "tokensSeen": 0,
            "bestValLoss": None, "lastCheckpoint": None,
        }
        self.update()
        self.metrics = open(os.path.join(self.dir, "metrics.jsonl"), "a", encoding="utf-8")
        self.events = EventWriter(self.dir)

    def update(self, **fields):
        self.json.update(fields, updated=now_iso())
        write_json_atomic(os.path.join(self.dir, "run.json"), self.json)

    def log(self, step, tokens, scalars):
        wall = time.time()
        line = {"step": step, "wallTime": wall, "tokens": tokens, "scalars": {k: scalar_json(v) for k, v in scalars.items()}}
        self.metrics.write(json.dumps(line) + "\n")
        self.metrics.flush()
        self.events.scalars(step, wall, scalars)

    def checkpoint(self, step, tokens, params, moments, optimizer_step, rng_state, val_loss, keep, extra):
        """params: (name, array) pairs; moments: (m, v) dicts by name, or None (a model-only checkpoint)."""
        self.metrics.flush()
        os.fsync(self.metrics.fileno())  # the curves on disk reach at least the checkpoint's step
        root = os.path.join(self.dir, "checkpoints")
        os.makedirs(root, exist_ok=True)
        name = checkpoint_name(step)
        final = os.path.join(root, name)
        best = self.json["bestValLoss"]
        is_best = val_loss is not None and math.isfinite(val_loss) and (best is None or val_loss < best)
        tmp = _temp_path(final)
        os.makedirs(tmp)
        try:
            files = {"model": _tensor_file(tmp, "model.safetensors", params, {"format": "pt"})}
            if moments is not None:
                m, v = moments
                files["optimizer"] = _tensor_file(tmp, "optimizer.safetensors",
                                                  [(f"optimizer.m.{n}", m[n]) for n, _ in params] + [(f"optimizer.v.{n}", v[n]) for n, _ in params], None)
            manifest = {
                "format": CHECKPOINT_FORMAT, "version": 1, "step": step, "tokensSeen": tokens, "created": now_iso(), "files": files,
                "optimizer": {"step": optimizer_step} if moments is not None else None,
                "rng": {"data": rng_state}, "dataPosition": {"step": step},
                "valLoss": val_loss if val_loss is not None and math.isfinite(val_loss) else None,
                "bestValLoss": val_loss if is_best else best, "extra": extra,
            }
            _write_synced(os.path.join(tmp, "checkpoint.json"), (json.dumps(manifest, indent=2) + "\n").encode())
            _fsync_dir(tmp)
            if os.path.exists(final):
                _remove(final)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _fsync_dir(root)
        pointer = {"checkpoint": name, "step": step, "valLoss": manifest["valLoss"]}
        write_json_atomic(os.path.join(root, "last.json"), pointer)
        if is_best:
            write_json_atomic(os.path.join(root, "best.json"), pointer)
        self._rotate(root, name, keep)
        self.update(lastCheckpoint=name, **({"bestValLoss": val_loss} if is_best else {}))
        return name

    def _rotate(self, root, newest, keep):
        """The newest `keep` checkpoints stay, and the best one whatever its age."""
        best = None
        try:
            with open(os.path.join(root, "best.json"), encoding="utf-8") as f:
                best = json.load(f)["checkpoint"]
        except (OSError, ValueError, KeyError):
            pass
        names = sorted(n for n in os.listdir(root) if n.startswith("step-") and os.path.isdir(os.path.join(root, n)))
        for n in names[:max(0, len(names) - keep)]:
            if n not in (best, newest):
                _remove(os.path.join(root, n))

    def close(self, status, error=None):
        self.metrics.close()
        self.events.close()
        self.update(status=status, **({"error": error} if error else {}))


def _remove(target):
    """Renamed aside first, so that a half-deleted checkpoint is never seen."""
    trash = _temp_path(target)
    os.rename(target, trash)
    shutil.rmtree(trash, ignore_errors=True)
