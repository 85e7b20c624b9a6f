#!/usr/bin/env python3
"""Reproduces an exported bundle's logits with an independent PyTorch implementation.

Usage:  /usr/bin/python3 tools/bundle_reference.py BUNDLE_DIR PROBE.json [--tolerance 1e-4]
Needs:  Debian's python3-torch (the cross-checks of `npm run test:cross`; never plain `npm test`).

The model is built from the bundle alone, as another tool would: config.json (Hugging Face GPT2Config or
BertConfig names) and model.safetensors (GPT2LMHeadModel's `transformer.` names with the LM head tied to
`transformer.wte.weight`; BertForPreTraining / BertForMaskedLM names with the decoder tied to the word
embeddings and `cls.predictions.bias`), in float64. A sequence classifier (architectures
GPT2ForSequenceClassification / BertForSequenceClassification, labels in id2label) gives class logits as
transformers computes them: GPT-2's `score.weight` at each row's last token that is not config.json's
pad_token_id (HF's rule; by attention_mask where pad_token_id is null), BERT's `classifier` on the tanh
pooler of [CLS]. PROBE.json holds `input_ids`, `attention_mask`, `token_type_ids` ([batch][length]) and the
engine's `logits` ([batch][length][vocab], or [batch][num_labels] for a classifier); they must agree as
max |a - b| / max |b| <= tolerance (the README's measure). Prints one JSON line; exit 1 when they do not.
"""
import argparse, json, math, os, sys
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attention_reference import gelu_erf, gelu_tanh, read_safetensors  # noqa: E402  (the same safetensors reader and activations)

NEG = float("-inf")


def act_of(name):
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return gelu_tanh
    if name == "gelu":
        return gelu_erf
    sys.exit(f"activation {name!r}: this reference knows gelu and gelu_new")


def attend(q, k, v, H, bias):
    B, T, d = q.shape
    hd = d // H
    q, k, v = [t.view(B, T, H, hd).transpose(1, 2) for t in (q, k, v)]
    a = ((q @ k.transpose(-1, -2)) / math.sqrt(hd) + bias).softmax(-1)
    return (a @ v).transpose(1, 2).reshape(B, T, d)


def key_bias(mask):  # [B, T] 1 token / 0 padding -> [B, 1, 1, T]
    return torch.zeros(mask.shape, dtype=torch.float64).masked_fill(mask == 0, NEG)[:, None, None, :]


def gpt2_hidden(P, c, ids, mask):
    d, H, L, eps = c["n_embd"], c["n_head"], c["n_layer"], c.get("layer_norm_epsilon", 1e-5)
    act = act_of(c.get("activation_function", "gelu_new"))
    W = lambda n: P["transformer." + n]
    ln = lambda x, n: F.layer_norm(x, (d,), W(n + ".weight"), W(n + ".bias"), eps=eps)
    conv = lambda x, n: x @ W(n + ".weight") + W(n + ".bias")  # Conv1D: weight [in, out]
    T = ids.shape[1]
    x = W("wte.weight")[ids] + W("wpe.weight")[:T]
    causal = torch.zeros(T, T, dtype=torch.float64).masked_fill(~torch.tril(torch.ones(T, T, dtype=torch.bool)), NEG)
    bias = causal + key_bias(mask)
    for i in range(L):
        h = f"h.{i}."
        q, k, v = conv(ln(x, h + "ln_1"), h + "attn.c_attn").split(d, dim=-1)
        x = x + conv(attend(q, k, v, H, bias), h + "attn.c_proj")
        x = x + conv(act(conv(ln(x, h + "ln_2"), h + "mlp.c_fc")), h + "mlp.c_proj")
    return ln(x, "ln_f")


def gpt2_logits(P, c, ids, mask):
    return gpt2_hidden(P, c, ids, mask) @ P["transformer.wte.weight"].T  # lm_head tied to wte


def gpt2_class_logits(P, c, ids, mask):
    h = gpt2_hidden(P, c, ids, mask)  # [B, T, d]
    pad = c.get("pad_token_id")
    if pad is None:
        last = mask.sum(-1) - 1
    else:  # transformers' GPT2ForSequenceClassification: the rightmost token that is not padding
        positions = torch.arange(ids.shape[1])
        last = (positions * (ids != pad).long()).argmax(-1)
    return h[torch.arange(ids.shape[0]), last] @ P["score.weight"].T


def bert_hidden(P, c, ids, mask, types):
    d, H, L, eps = c["hidden_size"], c["num_attention_heads"], c["num_hidden_layers"], c.get("layer_norm_eps", 1e-12)
    act = act_of(c.get("hidden_act", "gelu"))
    lin = lambda x, n: x @ P[n + ".weight"].T + P[n + ".bias"]  # nn.Linear: weight [out, in]
    ln = lambda x, n: F.layer_norm(x, (d,), P[n + ".weight"], P[n + ".bias"], eps=eps)
    T = ids.shape[1]
    e = "bert.embeddings."
    x = ln(P[e + "word_embeddings.weight"][ids] + P[e + "position_embeddings.weight"][:T] + P[e + "token_type_embeddings.weight"][types], e + "LayerNorm")
    bias = key_bias(mask)
    for i in range(L):
        l = f"bert.encoder.layer.{i}."
        q, k, v = [lin(x, l + f"attention.self.{n}") for n in ("query", "key", "value")]
        x = ln(lin(attend(q, k, v, H, bias), l + "attention.output.dense") + x, l + "attention.output.LayerNorm")
        x = ln(lin(act(lin(x, l + "intermediate.dense")), l + "output.dense") + x, l + "output.LayerNorm")
    return x, lin, ln, act


def bert_logits(P, c, ids, mask, types):
    x, lin, ln, act = bert_hidden(P, c, ids, mask, types)
    t = ln(act(lin(x, "cls.predictions.transform.dense")), "cls.predictions.transform.LayerNorm")
    return t @ P["bert.embeddings.word_embeddings.weight"].T + P["cls.predictions.bias"]  # decoder tied to the embeddings and the bias


def bert_class_logits(P, c, ids, mask, types):
    x, lin, _, _ = bert_hidden(P, c, ids, mask, types)
    return lin(torch.tanh(lin(x[:, 0], "bert.pooler.dense")), "classifier")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bundle_dir")
    ap.add_argument("probe_json")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()
    c = json.load(open(os.path.join(args.bundle_dir, "config.json")))
    P = read_safetensors(os.path.join(args.bundle_dir, "model.safetensors"))
    p = json.load(open(args.probe_json))
    ids, mask, types = (torch.tensor(p[k], dtype=torch.long) for k in ("input_ids", "attention_mask", "token_type_ids"))
    classifier = any(a.endswith("ForSequenceClassification") for a in c.get("architectures") or [])
    if classifier and len(c.get("id2label") or {}) != P["score.weight" if c["model_type"] == "gpt2" else "classifier.weight"].shape[0]:
        sys.exit(f"{args.bundle_dir}: config.json's id2label does not name one label per output of the classifier head")
    with torch.no_grad():
        if c["model_type"] == "gpt2":
            ref = (gpt2_class_logits if classifier else gpt2_logits)(P, c, ids, mask)
        elif c["model_type"] == "bert":
            ref = (bert_class_logits if classifier else bert_logits)(P, c, ids, mask, types)
        else:
            sys.exit(f"{args.bundle_dir}: model_type {c['model_type']!r}; this reference builds gpt2 and bert")
    ours = torch.tensor(p["logits"], dtype=torch.float64)
    if ours.shape != ref.shape:
        sys.exit(f"{args.probe_json}: logits of shape {list(ours.shape)}, the reference's are {list(ref.shape)}")
    rel = float((ours - ref).abs().max() / (ref.abs().max() + 1e-6))
    ok = rel <= args.tolerance
    print(json.dumps({"bundle": args.bundle_dir, "model_type": c["model_type"], "architectures": c.get("architectures"),
                      "shape": list(ref.shape), "max_rel_error": rel, "tolerance": args.tolerance, "ok": ok}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
