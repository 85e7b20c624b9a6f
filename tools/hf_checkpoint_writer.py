#!/usr/bin/env python3
"""Writes a GPT-2 and a BERT checkpoint folder in Hugging Face's layout, as another tool would, with the
logits and attention maps of this script's own PyTorch forward pass, for `npm run test:cross`
(engine/import/hfImport.cross.ts imports the folders with `workbench import` and compares).

Usage:  /usr/bin/python3 tools/hf_checkpoint_writer.py OUT_DIR [--seed N]
Writes: OUT_DIR/gpt2/ and OUT_DIR/bert/ (config.json, model.safetensors, tokenizer.json) and
        OUT_DIR/expected.json: per model, the texts, their token ids, logits [T][V] and attentions [L][H][T][T].
Needs:  Debian's python3-torch.

Nothing here comes from the workbench: the models are written the way transformers' modeling_gpt2.py and
modeling_bert.py compute (Conv1D [in, out] for GPT-2, nn.Linear [out, in] for BERT, tied embeddings written
once under `transformer.` / `bert.` prefixes, GPT-2's causal-mask buffers saved as uint8), the safetensors
file is written with struct, and the tokenizers are the JSON Hugging Face's `tokenizers` saves for a
byte-level BPE and a BERT WordPiece model.
"""
import argparse, json, math, os, struct
import torch
import torch.nn as nn
import torch.nn.functional as F

# the forward pass in float64 from weights rounded to the float32 the file holds
torch.set_default_dtype(torch.float64)


class Conv1D(nn.Module):
    """GPT-2's linear layer: weight stored [in, out]."""

    def __init__(self, nx, nf):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.empty(nf))

    def forward(self, x):
        return x @ self.weight + self.bias


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GPT2Attention(nn.Module):
    def __init__(self, d, heads, n_positions):
        super().__init__()
        self.heads = heads
        self.c_attn = Conv1D(d, 3 * d)
        self.c_proj = Conv1D(d, d)
        self.register_buffer("bias", torch.tril(torch.ones(n_positions, n_positions, dtype=torch.uint8)).view(1, 1, n_positions, n_positions))
        self.register_buffer("masked_bias", torch.tensor(-1e4))

    def forward(self, x):
        B, T, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        q, k, v = (t.view(B, T, self.heads, d // self.heads).transpose(1, 2) for t in (q, k, v))
        w = q @ k.transpose(-1, -2) / math.sqrt(d // self.heads)
        w = torch.where(self.bias[:, :, :T, :T].bool(), w, torch.finfo(w.dtype).min)
        probs = w.softmax(-1)
        return self.c_proj((probs @ v).transpose(1, 2).reshape(B, T, d)), probs


class GPT2Block(nn.Module):
    def __init__(self, d, heads, n_positions, eps):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.attn = GPT2Attention(d, heads, n_positions)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.mlp = nn.Module()
        self.mlp.c_fc = Conv1D(d, 4 * d)
        self.mlp.c_proj = Conv1D(4 * d, d)

    def forward(self, x):
        a, probs = self.attn(self.ln_1(x))
        x = x + a
        return x + self.mlp.c_proj(gelu_new(self.mlp.c_fc(self.ln_2(x)))), probs


class GPT2LMHeadModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.transformer.wpe = nn.Embedding(c["n_positions"], c["n_embd"])
        self.transformer.h = nn.ModuleList(GPT2Block(c["n_embd"], c["n_head"], c["n_positions"], c["layer_norm_epsilon"]) for _ in range(c["n_layer"]))
        self.transformer.ln_f = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])

    def forward(self, ids):
        t = self.transformer
        x = t.wte(ids) + t.wpe(torch.arange(ids.shape[1]))
        maps = []
        for block in t.h:
            x, probs = block(x)
            maps.append(probs)
        return t.ln_f(x) @ t.wte.weight.T, maps  # the LM head is the token embedding, tied


class BertLayer(nn.Module):
    def __init__(self, d, heads, ff, eps):
        super().__init__()
        self.heads = heads
        self.attention = nn.Module()
        self.attention.self = nn.Module()
        for n in ("query", "key", "value"):
            setattr(self.attention.self, n, nn.Linear(d, d))
        self.attention.output = nn.Module()
        self.attention.output.dense = nn.Linear(d, d)
        self.attention.output.LayerNorm = nn.LayerNorm(d, eps=eps)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(d, ff)
        self.output = nn.Module()
        self.output.dense = nn.Linear(ff, d)
        self.output.LayerNorm = nn.LayerNorm(d, eps=eps)

    def forward(self, x):
        B, T, d = x.shape
        s = self.attention.self
        q, k, v = (m(x).view(B, T, self.heads, d // self.heads).transpose(1, 2) for m in (s.query, s.key, s.value))
        probs = (q @ k.transpose(-1, -2) / math.sqrt(d // self.heads)).softmax(-1)
        a = self.attention.output
        x = a.LayerNorm(a.dense((probs @ v).transpose(1, 2).reshape(B, T, d)) + x)
        return self.output.LayerNorm(self.output.dense(F.gelu(self.intermediate.dense(x))) + x), probs


class BertForPreTraining(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, eps = c["hidden_size"], c["layer_norm_eps"]
        self.bert = nn.Module()
        e = self.bert.embeddings = nn.Module()
        e.word_embeddings = nn.Embedding(c["vocab_size"], d)
        e.position_embeddings = nn.Embedding(c["max_position_embeddings"], d)
        e.token_type_embeddings = nn.Embedding(c["type_vocab_size"], d)
        e.LayerNorm = nn.LayerNorm(d, eps=eps)
        self.bert.encoder = nn.Module()
        self.bert.encoder.layer = nn.ModuleList(BertLayer(d, c["num_attention_heads"], c["intermediate_size"], eps) for _ in range(c["num_hidden_layers"]))
        self.bert.pooler = nn.Module()
        self.bert.pooler.dense = nn.Linear(d, d)
        self.cls = nn.Module()
        p = self.cls.predictions = nn.Module()
        p.transform = nn.Module()
        p.transform.dense = nn.Linear(d, d)
        p.transform.LayerNorm = nn.LayerNorm(d, eps=eps)
        p.bias = nn.Parameter(torch.zeros(c["vocab_size"]))
        self.cls.seq_relationship = nn.Linear(d, 2)

    def forward(self, ids, types):
        e = self.bert.embeddings
        x = e.LayerNorm(e.word_embeddings(ids) + e.position_embeddings(torch.arange(ids.shape[1])) + e.token_type_embeddings(types))
        maps = []
        for layer in self.bert.encoder.layer:
            x, probs = layer(x)
            maps.append(probs)
        t = self.cls.predictions.transform
        return t.LayerNorm(F.gelu(t.dense(x))) @ self.bert.embeddings.word_embeddings.weight.T + self.cls.predictions.bias, maps


def write_safetensors(path, tensors):
    dtypes = {torch.float32: ("F32", "f"), torch.uint8: ("U8", "B")}
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        code, fmt = dtypes[t.dtype]
        flat = t.contiguous().view(-1).tolist()
        blob = struct.pack("<%d%s" % (len(flat), fmt), *flat)
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def bytes_to_unicode():
    """GPT-2's map from bytes to printable characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def byte_level_tokenizer():
    vocab = {ch: i for i, ch in enumerate(sorted(bytes_to_unicode().values()))}
    merges = ["Ġ q", "x y"]
    for m in merges:
        vocab[m.replace(" ", "")] = len(vocab)
    eos = len(vocab)
    level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    doc = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": eos, "content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": True, "special": True}],
        "normalizer": None, "pre_tokenizer": level, "post_processor": level, "decoder": level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "", "end_of_word_suffix": "",
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False, "vocab": vocab, "merges": merges},
    }
    return doc, eos + 1


def wordpiece_tokenizer(words):
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = {t: i for i, t in enumerate(specials + words)}
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True} for i, t in enumerate(specials)]
    tok = lambda t: {"SpecialToken": {"id": t, "type_id": 0}}
    doc = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [tok("[CLS]"), {"Sequence": {"id": "A", "type_id": 0}}, tok("[SEP]")],
            "pair": [tok("[CLS]"), {"Sequence": {"id": "A", "type_id": 0}}, tok("[SEP]"), {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [vocab[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": vocab},
    }
    return doc, vocab


def randomize(model, gen):
    """Weights large enough that the heads are not near-uniform; norms around 1."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.3 * torch.randn(p.shape, generator=gen))
            p.copy_(p.to(torch.float32).to(torch.float64))


def state_of(model, skip=()):
    out = {}
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        if name not in skip:
            out[name] = t.detach().to(torch.float32) if t.dtype.is_floating_point else t.detach()
    return out


def save(folder, config, tokenizer, tensors):
    os.makedirs(folder, exist_ok=True)
    json.dump(config, open(os.path.join(folder, "config.json"), "w"), indent=2)
    json.dump(tokenizer, open(os.path.join(folder, "tokenizer.json"), "w"), ensure_ascii=False)
    write_safetensors(os.path.join(folder, "model.safetensors"), tensors)


def run(fn, *args):
    with torch.no_grad():
        logits, maps = fn(*args)
    return logits[0].tolist(), torch.stack([m[0] for m in maps]).tolist()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    gen = torch.Generator().manual_seed(args.seed)
    expected = {}

    tokenizer, vocab_size = byte_level_tokenizer()
    n_positions = 40
    g = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": vocab_size, "n_positions": n_positions, "n_ctx": n_positions,
         "n_embd": 32, "n_head": 4, "n_layer": 2, "n_inner": None, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
         "resid_pdrop": 0.1, "embd_pdrop": 0.1, "attn_pdrop": 0.1, "tie_word_embeddings": True}
    gpt = GPT2LMHeadModel(g)
    randomize(gpt, gen)
    save(os.path.join(args.out, "gpt2"), g, tokenizer, state_of(gpt))
    char_id = {ch: tokenizer["model"]["vocab"][ch] for ch in bytes_to_unicode().values()}
    texts = {"short": "O, speak again.", "full": ("But soft, what light through yonder window breaks? " * 2)[:n_positions]}
    expected["gpt2"] = {}
    for key, text in texts.items():
        # no merge applies to these texts ("Ġq", "xy" never occur), so a byte is a token
        ids = [char_id[bytes_to_unicode()[b]] for b in text.encode()]
        assert all(m.replace(" ", "") not in "".join(bytes_to_unicode()[b] for b in text.encode()) for m in tokenizer["model"]["merges"]), text
        logits, maps = run(gpt, torch.tensor([ids]))
        expected["gpt2"][key] = {"text": text, "ids": ids, "logits": logits, "attentions": maps}

    words = "the king is dead long live a queen of england and france sing song".split()
    tokenizer, vocab = wordpiece_tokenizer(words)
    b = {"model_type": "bert", "architectures": ["BertForPreTraining"], "vocab_size": len(vocab), "max_position_embeddings": 36, "hidden_size": 32,
         "num_attention_heads": 4, "num_hidden_layers": 2, "intermediate_size": 64, "type_vocab_size": 2, "hidden_act": "gelu",
         "layer_norm_eps": 1e-12, "position_embedding_type": "absolute", "hidden_dropout_prob": 0.1}
    bert = BertForPreTraining(b)
    randomize(bert, gen)
    save(os.path.join(args.out, "bert"), b, tokenizer, state_of(bert))
    pairs = {"short": ("The king is dead", "Long live the king"), "full": (" ".join(words[i % len(words)] for i in range(17)), " ".join(words[(i * 3) % len(words)] for i in range(16)))}
    expected["bert"] = {}
    for key, (a, p) in pairs.items():
        ta = [vocab[w] for w in a.lower().split()]
        tb = [vocab[w] for w in p.lower().split()]
        ids = [vocab["[CLS]"]] + ta + [vocab["[SEP]"]] + tb + [vocab["[SEP]"]]
        types = [0] * (len(ta) + 2) + [1] * (len(tb) + 1)
        logits, maps = run(bert, torch.tensor([ids]), torch.tensor([types]))
        expected["bert"][key] = {"text": a, "pair": p, "ids": ids, "tokenTypeIds": types, "logits": logits, "attentions": maps}

    json.dump(expected, open(os.path.join(args.out, "expected.json"), "w"))
    print(json.dumps({"out": args.out, "gpt2_tokens": {k: len(v["ids"]) for k, v in expected["gpt2"].items()},
                      "bert_tokens": {k: len(v["ids"]) for k, v in expected["bert"].items()}}))


if __name__ == "__main__":
    main()
