#!/usr/bin/env python3
"""ONNX's own checker on every ONNX file of exported bundles.

Usage:  /usr/bin/python3 tools/onnx_check.py BUNDLE_DIR|FILE.onnx ...
Needs:  Debian's python3-onnx (the cross-checks of `npm run test:cross`; never plain `npm test`).

Each file must pass onnx.checker.check_model with full_check (the graph, every operator's schema at the
file's opset, and strict shape inference), import the default domain at opset >= 14 (masked attention,
optimum PR #1331), and take input_ids / attention_mask with symbolic (dynamic) batch and sequence axes.
Prints one JSON line per file; exit 1 when any fails.
"""
import glob, json, os, sys

try:
    import onnx
except ImportError:
    sys.exit("onnx_check.py needs the onnx package: apt-get install -y python3-onnx (Debian), then run it with /usr/bin/python3")


def problems_of(path):
    try:
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # the checker's and the parser's errors alike name what is wrong
        return [f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else e!r}"], None
    out = []
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    if opset < 14:
        out.append(f"default-domain opset {opset} < 14")
    inputs = {i.name: i for i in model.graph.input}
    for name in ("input_ids", "attention_mask"):
        if name not in inputs:
            out.append(f"no input {name}")
            continue
        dims = inputs[name].type.tensor_type.shape.dim
        if len(dims) != 2 or not all(d.dim_param for d in dims):
            out.append(f"input {name} is not [batch, sequence] with dynamic axes")
    if "logits" not in [o.name for o in model.graph.output]:
        out.append("no output logits")
    return out, opset


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    files = []
    for arg in sys.argv[1:]:
        found = sorted(glob.glob(os.path.join(arg, "onnx", "*.onnx"))) if os.path.isdir(arg) else [arg]
        if not found:
            print(json.dumps({"file": arg, "ok": False, "problems": ["no onnx/*.onnx in this folder"]}))
        files += found or [None]
    ok = True
    for f in files:
        if f is None:
            ok = False
            continue
        problems, opset = problems_of(f)
        ok = ok and not problems
        print(json.dumps({"file": f, "onnx": onnx.__version__, "opset": opset, "ok": not problems, "problems": problems}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
