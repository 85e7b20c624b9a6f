#!/usr/bin/env python3
"""Reproduces the attention maps `workbench attention` wrote, with an independent PyTorch implementation.

Usage:  /usr/bin/python3 tools/attention_reference.py RUN_DIR ATTENTION.json [--tolerance 1e-4]
Needs:  Debian's python3-torch (the cross-checks of `npm run test:cross`; never plain `npm test`).

The model is built here from the run's run.json (its model config) and the checkpoint's model.safetensors
(read with the standard library: an 8-byte header length, a JSON header, raw little-endian float32), with
the parameter names and layouts of Hugging Face's GPT-2 and BERT as in ../shared/reference/gen_golden.py,
and runs in float64. It covers the configurations of a plain GPT-2 / BERT: learned positions, softmax
attention, dense feed-forward blocks. The maps must agree entry by entry within the tolerance relative to
the reference (|a - b| <= tol * |b| + 1e-9, the floor for probabilities float32 cannot hold); the largest
relative error over entries above 1e-6 is printed. Exit 1 when they do not agree.
"""
import argparse, json, math, os, struct, sys
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] != "F32":
            sys.exit(f"{path}: {name} is {e['dtype']}; this reference reads float32")
        a, b = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).to(torch.float64).reshape(e["shape"])
    return out


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def gpt2_attentions(P, c, ids):
    d, H, L = c["dModel"], c["nHeads"], c["nLayers"]
    eps = c.get("layerNormEps", 1e-5)
    act = gelu_tanh if c.get("activation", "gelu_new") == "gelu_new" else gelu_erf
    Tn, hd = len(ids), d // H
    x = P["wte.weight"][torch.tensor(ids)] + P["wpe.weight"][:Tn]
    causal = torch.tril(torch.ones(Tn, Tn, dtype=torch.bool))
    maps = []
    for i in range(L):
        h = F.layer_norm(x, (d,), P[f"h.{i}.ln_1.weight"], P[f"h.{i}.ln_1.bias"], eps=eps)
        q, k, v = (h @ P[f"h.{i}.attn.c_attn.weight"] + P[f"h.{i}.attn.c_attn.bias"]).split(d, dim=-1)
        q, k, v = [t.view(Tn, H, hd).transpose(0, 1) for t in (q, k, v)]
        a = ((q @ k.transpose(-1, -2)) / math.sqrt(hd)).masked_fill(~causal, float("-inf")).softmax(-1)
        maps.append(a)
        x = x + (a @ v).transpose(0, 1).reshape(Tn, d) @ P[f"h.{i}.attn.c_proj.weight"] + P[f"h.{i}.attn.c_proj.bias"]
        h = F.layer_norm(x, (d,), P[f"h.{i}.ln_2.weight"], P[f"h.{i}.ln_2.bias"], eps=eps)
        x = x + act(h @ P[f"h.{i}.mlp.c_fc.weight"] + P[f"h.{i}.mlp.c_fc.bias"]) @ P[f"h.{i}.mlp.c_proj.weight"] + P[f"h.{i}.mlp.c_proj.bias"]
    return maps


def bert_attentions(P, c, ids, types):
    d, H, L = c["dModel"], c["nHeads"], c["nLayers"]
    eps = c.get("layerNormEps", 1e-12)
    act = gelu_erf if c.get("activation", "gelu") == "gelu" else gelu_tanh
    Tn, hd = len(ids), d // H
    lin = lambda x, n: x @ P[n + ".weight"].T + P[n + ".bias"]
    ln = lambda x, n: F.layer_norm(x, (d,), P[n + ".weight"], P[n + ".bias"], eps=eps)
    x = P["bert.embeddings.word_embeddings.weight"][torch.tensor(ids)] + P["bert.embeddings.position_embeddings.weight"][:Tn] \
        + P["bert.embeddings.token_type_embeddings.weight"][torch.tensor(types)]
    x = ln(x, "bert.embeddings.LayerNorm")
    maps = []
    for i in range(L):
        pre = f"bert.encoder.layer.{i}."
        q, k, v = [lin(x, pre + f"attention.self.{n}").view(Tn, H, hd).transpose(0, 1) for n in ("query", "key", "value")]
        a = ((q @ k.transpose(-1, -2)) / math.sqrt(hd)).softmax(-1)
        maps.append(a)
        x = ln(lin((a @ v).transpose(0, 1).reshape(Tn, d), pre + "attention.output.dense") + x, pre + "attention.output.LayerNorm")
        x = ln(lin(act(lin(x, pre + "intermediate.dense")), pre + "output.dense") + x, pre + "output.LayerNorm")
    return maps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir")
    ap.add_argument("attention_json")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()
    run = json.load(open(os.path.join(args.run_dir, "run.json")))
    c = run["config"]["spec"]["model"]
    unsupported = [f"{k}={c[k]}" for k, plain in (("positional", "learned"), ("attention", "softmax")) if c.get(k, plain) != plain] + (["moe"] if c.get("moe") else [])
    if unsupported:
        sys.exit(f"{args.run_dir}: this reference builds plain GPT-2 / BERT models, not {', '.join(unsupported)}")
    f = json.load(open(args.attention_json))
    P = read_safetensors(os.path.join(args.run_dir, "checkpoints", f["checkpoint"], "model.safetensors"))
    with torch.no_grad():
        if c["arch"] == "gpt":
            ref = gpt2_attentions(P, c, f["ids"])
        else:
            ref = bert_attentions(P, c, f["ids"], f.get("tokenTypeIds") or [0] * len(f["ids"]))
    ours = torch.tensor(f["attentions"], dtype=torch.float64)
    ref = torch.stack(ref)
    if ours.shape != ref.shape:
        sys.exit(f"{args.attention_json}: maps of shape {list(ours.shape)}, the reference's are {list(ref.shape)}")
    err = (ours - ref).abs()
    ok = bool((err <= args.tolerance * ref.abs() + 1e-9).all())
    big = ref > 1e-6
    rel = float((err[big] / ref[big]).max()) if big.any() else 0.0
    print(json.dumps({"file": args.attention_json, "arch": c["arch"], "checkpoint": f["checkpoint"], "tokens": len(f["ids"]),
                      "shape": list(ref.shape), "max_abs_error": float(err.max()), "max_rel_error": rel, "tolerance": args.tolerance, "ok": ok}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
