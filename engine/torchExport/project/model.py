"""The experiment's model in PyTorch, read top-down: GPT-2 (pre-LN causal decoder) and BERT (post-LN encoder
with the MLM and NSP heads), under the workbench's parameter names and layouts, which are Hugging Face's:
GPT-2 `Conv1D` weights are [in, out] (`h.0.attn.c_attn.weight`), BERT `nn.Linear` weights [out, in]
(`bert.encoder.layer.0.attention.self.query.weight`). A state_dict of these modules is a workbench
checkpoint's model.safetensors, name for name, and the exported init.safetensors loads with strict=True.

Options ported from the engine (engine/models/): learned / sinusoidal / RoPE positions, gelu_new and erf
gelu, the LayerNorm epsilon, dropout where the engine drops (embeddings, attention output, MLP output), the tied LM head, BERT's token types and padding mask, an optional
classification head. Linear attention and mixture-of-experts layers are refused by the exporter.
The config is the engine's resolved model config (camelCase keys), read from workbench-torch.json.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG = -1e9  # the engine's additive mask value: exp() of it is exactly 0 in float32


def gelu(kind, x):
    return F.gelu(x, approximate="tanh") if kind == "gelu_new" else F.gelu(x)


def sinusoidal_table(n, d):
    """PE[pos, 2i] = sin(pos·f_i), PE[pos, 2i+1] = cos(pos·f_i), f_i = exp(2i·-ln(10000)/d): float64, then float32."""
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    freq = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d))
    table = torch.zeros(n, d, dtype=torch.float64)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)
    return table.float()  # [n, d]


def rope_tables(n, hd, base):
    """cos and sin [n, hd] of rotate-half RoPE (GPT-NeoX / LLaMA): columns j and j + hd/2 share base^(-2j/hd)."""
    inv = 1.0 / base ** (torch.arange(0, hd // 2, dtype=torch.float64) * 2 / hd)
    angle = torch.arange(n, dtype=torch.float64)[:, None] * inv  # [n, hd/2]
    angle = torch.cat([angle, angle], dim=1)
    return torch.cos(angle).float(), torch.sin(angle).float()


def apply_rope(x, cos, sin):
    """x [B, H, T, hd] rotated by position: x·cos + rotate_half(x)·sin."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


def attention(q, k, v, bias):
    """softmax(q kᵀ/√hd + bias) v on [B, H, T, hd]; bias broadcasts onto [B, H, T, T]."""
    scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))  # [B, H, T, T]
    if bias is not None:
        scores = scores + bias
    return scores.softmax(-1) @ v  # [B, H, T, hd]


class Conv1D(nn.Module):
    """GPT-2's linear layer: weight [in, out], y = x @ w + b."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


class Positions(nn.Module):
    """The fixed position tables a config asks for (buffers, not parameters: no checkpoint holds them)."""

    def __init__(self, c):
        super().__init__()
        self.kind = c["positional"]
        P, hd = c["contextLength"], c["dModel"] // c["nHeads"]
        if self.kind == "sinusoidal":
            self.register_buffer("table", sinusoidal_table(P, c["dModel"]), persistent=False)
        if self.kind == "rope":
            cos, sin = rope_tables(P, hd, c["ropeBase"])
            self.register_buffer("cos", cos, persistent=False)
            self.register_buffer("sin", sin, persistent=False)

    def rotate(self, q, k):
        if self.kind != "rope":
            return q, k
        T = q.shape[2]
        return apply_rope(q, self.cos[:T], self.sin[:T]), apply_rope(k, self.cos[:T], self.sin[:T])


def split_heads(x, H):
    B, T, d = x.shape
    return x.view(B, T, H, d // H).transpose(1, 2)  # [B, H, T, hd]


def merge_heads(x):
    B, H, T, hd = x.shape
    return x.transpose(1, 2).reshape(B, T, H * hd)  # [B, T, d]


def check_config(c):
    for key, unsupported, why in (("attention", "linear", "linear attention"), ("moe", None, "mixture-of-experts layers")):
        value = c.get(key)
        if (unsupported is None and value) or (unsupported is not None and value == unsupported):
            raise ValueError(f"model.{key}: {why} is not ported to PyTorch; train this model in the workbench, or change model.{key}")


# ---------------------------------------------------------------------------------------------------
# GPT-2


class GPTAttention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.c_attn = Conv1D(d, 3 * d)
        self.c_proj = Conv1D(d, d)


class GPTMLP(nn.Module):
    def __init__(self, d, ff):
        super().__init__()
        self.c_fc = Conv1D(d, ff)
        self.c_proj = Conv1D(ff, d)


class GPTBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, eps = c["dModel"], c["layerNormEps"]
        self.H, self.act = c["nHeads"], c["activation"]
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.attn = GPTAttention(d)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.mlp = GPTMLP(d, c["dFF"])
        self.drop = nn.Dropout(c["dropout"])

    def forward(self, x, positions, bias):
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(x.shape[-1], dim=2)  # [B, T, d] each
        q, k, v = (split_heads(t, self.H) for t in (q, k, v))  # [B, H, T, hd]
        q, k = positions.rotate(q, k)
        x = x + self.drop(self.attn.c_proj(merge_heads(attention(q, k, v, bias))))
        return x + self.drop(self.mlp.c_proj(gelu(self.act, self.mlp.c_fc(self.ln_2(x)))))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        check_config(c)
        self.c = c
        d = c["dModel"]
        self.wte = nn.Embedding(c["vocabSize"], d)
        if c["positional"] == "learned":
            self.wpe = nn.Embedding(c["contextLength"], d)
        self.positions = Positions(c)
        self.drop = nn.Dropout(c["dropout"])
        self.h = nn.ModuleList(GPTBlock(c) for _ in range(c["nLayers"]))
        self.ln_f = nn.LayerNorm(d, eps=c["layerNormEps"])
        if c.get("numLabels"):
            self.score = nn.Linear(d, c["numLabels"], bias=False)

    def forward(self, input_ids, attention_mask=None, **_):
        B, T = input_ids.shape
        x = self.wte(input_ids)  # [B, T, d]
        if self.c["positional"] == "learned":
            x = x + self.wpe.weight[:T]
        elif self.c["positional"] == "sinusoidal":
            x = x + self.positions.table[:T]
        x = self.drop(x)
        bias = torch.triu(torch.full((T, T), NEG, device=x.device), diagonal=1)  # [T, T]
        if attention_mask is not None:
            bias = bias + (1 - attention_mask[:, None, None, :].to(x.dtype)) * NEG  # [B, 1, T, T]
        for block in self.h:
            x = block(x, self.positions, bias)
        return self.ln_f(x)  # [B, T, d]

    def lm_logits(self, hidden):
        return hidden @ self.wte.weight.t()  # [B, T, V], tied to the token embeddings


# ---------------------------------------------------------------------------------------------------
# BERT


class Module(nn.Module):
    """A named container, so that parameters get Hugging Face's dotted names."""

    def __init__(module, **children):  # not `self`: BERT has a child named so
        super().__init__()
        for name, child in children.items():
            setattr(module, name, child)


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, ff, eps = c["dModel"], c["dFF"], c["layerNormEps"]
        self.H, self.act = c["nHeads"], c["activation"]
        self.attention = Module(
            self=Module(query=nn.Linear(d, d), key=nn.Linear(d, d), value=nn.Linear(d, d)),
            output=Module(dense=nn.Linear(d, d), LayerNorm=nn.LayerNorm(d, eps=eps)),
        )
        self.intermediate = Module(dense=nn.Linear(d, ff))
        self.output = Module(dense=nn.Linear(ff, d), LayerNorm=nn.LayerNorm(d, eps=eps))
        self.drop = nn.Dropout(c["dropout"])

    def forward(self, x, positions, bias):
        s, o = self.attention.self, self.attention.output
        q, k, v = (split_heads(p(x), self.H) for p in (s.query, s.key, s.value))  # [B, H, T, hd]
        q, k = positions.rotate(q, k)
        x = o.LayerNorm(self.drop(o.dense(merge_heads(attention(q, k, v, bias)))) + x)
        y = self.output.dense(gelu(self.act, self.intermediate.dense(x)))
        return self.output.LayerNorm(self.drop(y) + x)


class BERT(nn.Module):
    def __init__(self, c):
        super().__init__()
        check_config(c)
        self.c = c
        d, V, eps = c["dModel"], c["vocabSize"], c["layerNormEps"]
        embeddings = Module(word_embeddings=nn.Embedding(V, d))
        if c["positional"] == "learned":
            embeddings.position_embeddings = nn.Embedding(c["contextLength"], d)
        embeddings.token_type_embeddings = nn.Embedding(c["typeVocabSize"], d)
        embeddings.LayerNorm = nn.LayerNorm(d, eps=eps)
        self.bert = Module(
            embeddings=embeddings,
            encoder=Module(layer=nn.ModuleList(BertLayer(c) for _ in range(c["nLayers"]))),
            pooler=Module(dense=nn.Linear(d, d)),
        )
        self.cls = Module(
            predictions=Module(transform=Module(dense=nn.Linear(d, d), LayerNorm=nn.LayerNorm(d, eps=eps))),
            seq_relationship=nn.Linear(d, 2),
        )
        self.cls.predictions.bias = nn.Parameter(torch.zeros(V))
        if c.get("numLabels"):
            self.classifier = nn.Linear(d, c["numLabels"])
        self.positions = Positions(c)
        self.drop = nn.Dropout(c["dropout"])

    def forward(self, input_ids, token_type_ids=None, attention_mask=None, **_):
        B, T = input_ids.shape
        e = self.bert.embeddings
        types = token_type_ids if token_type_ids is not None else torch.zeros_like(input_ids)
        x = e.word_embeddings(input_ids) + e.token_type_embeddings(types)  # [B, T, d]
        if self.c["positional"] == "learned":
            x = x + e.position_embeddings.weight[:T]
        elif self.c["positional"] == "sinusoidal":
            x = x + self.positions.table[:T]
        x = self.drop(e.LayerNorm(x))
        bias = None if attention_mask is None else (1 - attention_mask[:, None, None, :].to(x.dtype)) * NEG  # [B, 1, 1, T]
        for layer in self.bert.encoder.layer:
            x = layer(x, self.positions, bias)
        return x  # [B, T, d]

    def mlm_logits(self, rows):
        """Masked-LM logits [M, V] of hidden rows [M, d]; the decoder is tied to the word embeddings."""
        t = self.cls.predictions.transform
        h = t.LayerNorm(gelu(self.c["activation"], t.dense(rows)))
        return h @ self.bert.embeddings.word_embeddings.weight.t() + self.cls.predictions.bias

    def nsp_logits(self, hidden):
        pooled = torch.tanh(self.bert.pooler.dense(hidden[:, 0]))  # [B, d]
        return self.cls.seq_relationship(pooled)  # [B, 2]


ARCHITECTURES = {"gpt": GPT, "bert": BERT}


def create_model(c):
    return ARCHITECTURES[c["arch"]](c)
