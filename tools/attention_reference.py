#!/usr/bin/env python3
"""Reproduces what `workbench attention` wrote (and the model's logits), with an independent PyTorch model.

Usage:  /usr/bin/python3 tools/attention_reference.py RUN_DIR FILE.json [FILE.json ...] [--tolerance 1e-4]
Needs:  Debian's python3-torch (the cross-checks of `npm run test:cross`; never plain `npm test`).

The model is built here from the run's run.json (its model config) and the checkpoint's model.safetensors
(read with the standard library: an 8-byte header length, a JSON header, raw little-endian float32), with
the parameter names and layouts of Hugging Face's GPT-2 (pre-LN, Conv1D weights [in, out]) and BERT
(post-LN, nn.Linear weights [out, in]), and runs in float64. Every option of the model config that changes
the maps or the logits is built from its published definition, not from the engine's code:

  positional  learned: a trained table added to the token embeddings (wpe / position_embeddings);
              sinusoidal: Vaswani et al.'s PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(same), added
              in place of the learned table (before BERT's embedding LayerNorm); rope: rotary embeddings
              on queries and keys, Hugging Face's "rotate_half" form (GPT-NeoX / LLaMA), base ropeBase.
  attention   softmax: softmax(q·kᵀ/√hd); linear: Katharopoulos et al. 2020, φ(x) = elu(x) + 1 and no
              scaling. Linear attention has no softmax matrix; its map is the weight it implies, each query's
              φ(q_i)·φ(k_j) over the visible keys divided by their sum (the output is exactly that map times v).
  moe         Mixtral-style top-k routing: softmax router (no bias), the k largest renormalised to sum to 1,
              each expert a GPT-2 MLP (Conv1D layout) with the model's activation, in place of the MLP.
  activation  gelu_new (tanh approximation) or gelu (erf); layerNormEps; dFF; contextLength.

A FILE.json with "attentions" [layer][head][query][key] is checked entry by entry within the tolerance
relative to the reference (|a - b| <= tol * |b| + 1e-9, the floor for probabilities float32 cannot hold);
the largest relative error over entries above 1e-6 is printed. A FILE.json with "logits" [query][vocab]
(language-model logits: GPT's next-token head, BERT's masked-LM head) is checked with the error relative to
the largest reference logit, since single logits may sit near zero. One JSON line per file; exit 1 when any
file disagrees, 2 when the run or a file cannot be read.
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


# ---------------------------------------------------------------- the pieces, from their definitions

def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def sinusoidal_table(T, d):
    pos = torch.arange(T).unsqueeze(1)
    angle = pos / torch.pow(10000.0, torch.arange(0, d, 2) / d)  # [T, d/2]
    pe = torch.zeros(T, d)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)
    return pe


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary(x, base):
    """x [H, T, hd] rotated by position, as LlamaRotaryEmbedding + apply_rotary_pos_emb."""
    T, hd = x.shape[-2], x.shape[-1]
    inv_freq = 1.0 / (base ** (torch.arange(0, hd, 2) / hd))
    freqs = torch.outer(torch.arange(T), inv_freq)  # [T, hd/2]
    emb = torch.cat((freqs, freqs), dim=-1)  # [T, hd]
    return x * emb.cos() + rotate_half(x) * emb.sin()


def attention_map(q, k, kind, causal):
    """q, k [H, T, hd] → the weights [H, T, T] each query puts on each key."""
    T = q.shape[-2]
    visible = torch.tril(torch.ones(T, T, dtype=torch.bool)) if causal else torch.ones(T, T, dtype=torch.bool)
    if kind == "softmax":
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        return scores.masked_fill(~visible, float("-inf")).softmax(-1)
    phi = lambda x: F.elu(x) + 1.0
    w = (phi(q) @ phi(k).transpose(-1, -2)) * visible
    return w / w.sum(-1, keepdim=True)


class Model:
    """Embeddings, blocks and LM head of a GPT-2 or BERT run, every option of its config honoured."""

    def __init__(self, P, c):
        self.P, self.c = P, c
        self.gpt = c["arch"] == "gpt"
        self.d, self.H = c["dModel"], c["nHeads"]
        self.eps = c.get("layerNormEps", 1e-5 if self.gpt else 1e-12)
        kind = c.get("activation", "gelu_new" if self.gpt else "gelu")
        self.act = gelu_tanh if kind == "gelu_new" else gelu_erf
        self.positional = c.get("positional", "learned")
        self.kind = c.get("attention", "softmax")
        self.base = c.get("ropeBase", 10000)
        self.moe = c.get("moe")

    def ln(self, x, n):
        return F.layer_norm(x, (self.d,), self.P[n + ".weight"], self.P[n + ".bias"], eps=self.eps)

    def conv1d(self, x, n):  # GPT-2: weight [in, out]
        return x @ self.P[n + ".weight"] + self.P[n + ".bias"]

    def linear(self, x, n):  # nn.Linear: weight [out, in]
        return x @ self.P[n + ".weight"].T + self.P[n + ".bias"]

    def attend(self, q, k, v):
        """q, k, v [T, d] → (output [T, d], map [H, T, T])."""
        T, hd = q.shape[0], self.d // self.H
        q, k, v = [t.view(T, self.H, hd).transpose(0, 1) for t in (q, k, v)]  # [H, T, hd]
        if self.positional == "rope":
            q, k = apply_rotary(q, self.base), apply_rotary(k, self.base)
        a = attention_map(q, k, self.kind, causal=self.gpt)
        return (a @ v).transpose(0, 1).reshape(T, self.d), a

    def mixture(self, x, prefix):
        """Top-k mixture of GPT-2 MLP experts, x [T, d]."""
        E, K = self.moe["experts"], self.moe["topK"]
        probs = (x @ self.P[prefix + ".gate.weight"]).softmax(-1)  # [T, E]
        top, idx = probs.topk(K, dim=-1)
        gates = top / top.sum(-1, keepdim=True)  # [T, K]
        expert = lambda e: self.conv1d(self.act(self.conv1d(x, f"{prefix}.experts.{e}.c_fc")), f"{prefix}.experts.{e}.c_proj")
        outs = torch.stack([expert(e) for e in range(E)], dim=1)  # [T, E, d]
        return (outs.gather(1, idx.unsqueeze(-1).expand(-1, -1, self.d)) * gates.unsqueeze(-1)).sum(1)

    def embed(self, ids, types):
        T = len(ids)
        ids = torch.tensor(ids)
        if self.gpt:
            x = self.P["wte.weight"][ids]
            table = "wpe.weight"
        else:
            x = self.P["bert.embeddings.word_embeddings.weight"][ids] + self.P["bert.embeddings.token_type_embeddings.weight"][torch.tensor(types)]
            table = "bert.embeddings.position_embeddings.weight"
        if self.positional == "learned":
            x = x + self.P[table][:T]
        elif self.positional == "sinusoidal":
            x = x + sinusoidal_table(T, self.d)
        return x if self.gpt else self.ln(x, "bert.embeddings.LayerNorm")

    def gpt_block(self, x, i):
        h = f"h.{i}"
        q, k, v = self.conv1d(self.ln(x, h + ".ln_1"), h + ".attn.c_attn").split(self.d, dim=-1)
        o, a = self.attend(q, k, v)
        x = x + self.conv1d(o, h + ".attn.c_proj")
        m = self.ln(x, h + ".ln_2")
        y = self.mixture(m, h + ".mlp") if self.moe else self.conv1d(self.act(self.conv1d(m, h + ".mlp.c_fc")), h + ".mlp.c_proj")
        return x + y, a

    def bert_block(self, x, i):
        l = f"bert.encoder.layer.{i}."
        q, k, v = [self.linear(x, l + "attention.self." + n) for n in ("query", "key", "value")]
        o, a = self.attend(q, k, v)
        x = self.ln(self.linear(o, l + "attention.output.dense") + x, l + "attention.output.LayerNorm")
        y = self.mixture(x, l + "moe") if self.moe else self.linear(self.act(self.linear(x, l + "intermediate.dense")), l + "output.dense")
        return self.ln(y + x, l + "output.LayerNorm"), a

    def run(self, ids, types):
        """(maps [L, H, T, T], LM logits [T, V])."""
        x = self.embed(ids, types)
        maps = []
        for i in range(self.c["nLayers"]):
            x, a = (self.gpt_block if self.gpt else self.bert_block)(x, i)
            maps.append(a)
        if self.gpt:
            logits = self.ln(x, "ln_f") @ self.P["wte.weight"].T
        else:
            t = self.ln(self.act(self.linear(x, "cls.predictions.transform.dense")), "cls.predictions.transform.LayerNorm")
            logits = t @ self.P["bert.embeddings.word_embeddings.weight"].T + self.P["cls.predictions.bias"]
        return torch.stack(maps), logits


# ---------------------------------------------------------------- comparison

def compare_maps(ours, ref, tol):
    err = (ours - ref).abs()
    big = ref > 1e-6
    return {"max_abs_error": float(err.max()), "max_rel_error": float((err[big] / ref[big]).max()) if big.any() else 0.0,
            "ok": bool((err <= tol * ref.abs() + 1e-9).all())}


def compare_logits(ours, ref, tol):
    err = float((ours - ref).abs().max())
    rel = err / float(ref.abs().max())
    return {"max_abs_error": err, "max_rel_error": rel, "ok": rel <= tol}


def check(run_dir, c, path, tol, models):
    f = json.load(open(path))
    fields = [k for k in ("attentions", "logits") if k in f]
    if not fields or "ids" not in f or "checkpoint" not in f:
        print(f"{path}: expected 'checkpoint', 'ids' and 'attentions' or 'logits' (an attention file of `workbench attention`)", file=sys.stderr)
        sys.exit(2)
    if f["checkpoint"] not in models:
        models[f["checkpoint"]] = Model(read_safetensors(os.path.join(run_dir, "checkpoints", f["checkpoint"], "model.safetensors")), c)
    with torch.no_grad():
        maps, logits = models[f["checkpoint"]].run(f["ids"], f.get("tokenTypeIds") or [0] * len(f["ids"]))
    result = {"file": path, "arch": c["arch"], "positional": c.get("positional", "learned"), "attention": c.get("attention", "softmax"),
              "moe": bool(c.get("moe")), "checkpoint": f["checkpoint"], "tokens": len(f["ids"]), "tolerance": tol, "ok": True}
    for field, ref, compare in (("attentions", maps, compare_maps), ("logits", logits, compare_logits)):
        if field not in f:
            continue
        ours = torch.tensor(f[field], dtype=torch.float64)
        if ours.shape != ref.shape:
            print(f"{path}: {field} of shape {list(ours.shape)}, the reference's are {list(ref.shape)}", file=sys.stderr)
            sys.exit(2)
        r = compare(ours, ref, tol)
        result[field] = {"shape": list(ref.shape), **r}
        result["ok"] = result["ok"] and r["ok"]
    print(json.dumps(result), flush=True)
    return result["ok"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir")
    ap.add_argument("files", nargs="+", metavar="FILE.json")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()
    run = json.load(open(os.path.join(args.run_dir, "run.json")))
    c = run["config"]["spec"]["model"]
    models = {}
    ok = [check(args.run_dir, c, p, args.tolerance, models) for p in args.files]
    sys.exit(0 if all(ok) else 1)


if __name__ == "__main__":
    main()
