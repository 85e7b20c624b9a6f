"""The workbench's data sampler, ported bit for bit: the same batches, in the same order, as the engine draws.

Every random choice comes from mulberry32 (engine/util/random.ts), seeded as the engine seeds it: training
batches from Rng(seed + 1), the fixed validation batches from Rng(seed ^ 0x7a11), the fixed training-loss
sample from Rng(seed ^ 0x7a12). The batch builders follow engine/training/objectives.ts and pretrainData.ts
call for call, so that a run here and a run in the workbench see the same tokens at the same step.

A batch is a dict of int64 numpy arrays: input_ids [B, T], labels [B, T] (-100: nothing to predict) and, for
BERT, token_type_ids, attention_mask [B, T] and next_sentence_labels [B].
"""
import json
import os

import numpy as np

IGNORE = -100
M32 = 0xFFFFFFFF


def _imul(a, b):
    return (a * b) & M32


class Rng:
    """mulberry32, as engine/util/random.ts: `state` is what a checkpoint records as the data position."""

    def __init__(self, seed):
        self.state = seed & M32

    def next(self):
        self.state = t = (self.state + 0x6D2B79F5) & M32
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & M32
        return ((t ^ (t >> 14)) & M32) / 4294967296.0

    def int(self, n):
        return int(self.next() * n)


# ---------------------------------------------------------------------------------------------------
# the exported data: raw little-endian int32 files named in workbench-torch.json

def _read_int32(folder, name):
    return np.fromfile(os.path.join(folder, name), dtype="<i4")


class Split:
    """One split as the engine batches it: a token stream (causal LM, MLM) or documents of sentences (NSP)."""

    def __init__(self, folder, files):
        self.stream = _read_int32(folder, files["tokens"]) if "tokens" in files else None
        self.docs = None
        if "sentenceTokens" in files:
            tokens = _read_int32(folder, files["sentenceTokens"]).tolist()
            sent = _read_int32(folder, files["sentenceOffsets"]).tolist()
            docs = _read_int32(folder, files["documentOffsets"]).tolist()
            self.docs = [[tokens[sent[s]:sent[s + 1]] for s in range(docs[d], docs[d + 1])] for d in range(len(docs) - 1)]


# ---------------------------------------------------------------------------------------------------
# objectives (engine/training/objectives.ts)

def causal_lm_batch(stream, B, T, rng):
    """B windows of T+1 tokens at random offsets: inputs the first T, labels the last T."""
    if len(stream) < T + 1:
        raise ValueError(f"the token stream has {len(stream)} tokens, fewer than one sequence of {T + 1}; use more text or a shorter seqLen")
    ids = np.empty((B, T), dtype=np.int64)
    labels = np.empty((B, T), dtype=np.int64)
    for b in range(B):
        at = rng.int(len(stream) - T)
        window = stream[at:at + T + 1]
        ids[b] = window[:T]
        labels[b] = window[1:]
    return {"input_ids": ids, "labels": labels}


class Masking:
    def __init__(self, probability, vocab_size, specials):
        self.probability = probability
        self.vocab_size = vocab_size
        self.specials = specials
        self.reserved = set(specials.values())


def _random_token(m, rng):
    while True:
        t = rng.int(m.vocab_size)
        if t not in m.reserved:
            return t


def mask_sequence(ids, m, rng):
    """BERT's masking in place over one row (a list): round(p·n) of the n real tokens, 80% [MASK], 10% random, 10% kept."""
    labels = [IGNORE] * len(ids)
    candidates = [i for i, t in enumerate(ids) if t not in m.reserved]
    if not candidates:
        return labels
    count = max(1, _js_round(m.probability * len(candidates)))
    for i in range(count):
        j = i + rng.int(len(candidates) - i)
        candidates[i], candidates[j] = candidates[j], candidates[i]
        pos = candidates[i]
        labels[pos] = ids[pos]
        r = rng.next()
        if r < 0.8:
            ids[pos] = m.specials["mask"]
        elif r < 0.9:
            ids[pos] = _random_token(m, rng)
    return labels


def _js_round(x):
    """Math.round: halves go up (Python's round() goes to even)."""
    return int(np.floor(x + 0.5))


def mlm_window_batch(stream, B, T, m, rng):
    """Masked LM without pairs: [CLS] + a window of T-2 tokens + [SEP], masked."""
    inner = T - 2
    if len(stream) < inner:
        raise ValueError(f"the split has {len(stream)} tokens, fewer than one sequence of {inner}; use more text or a shorter seqLen")
    out = {k: np.zeros((B, T), dtype=np.int64) for k in ("input_ids", "labels", "token_type_ids")}
    out["attention_mask"] = np.ones((B, T), dtype=np.int64)
    for r in range(B):
        at = rng.int(len(stream) - inner + 1)
        row = [m.specials["cls"]] + stream[at:at + inner].tolist() + [m.specials["sep"]]
        labels = mask_sequence(row, m, rng)
        out["input_ids"][r] = row
        out["labels"][r] = labels
    return out


def _pick_document(docs, rng, min_sentences):
    for _ in range(1000):
        i = rng.int(len(docs))
        if len(docs[i]) >= min_sentences:
            return i
    for i, d in enumerate(docs):
        if len(d) >= min_sentences:
            return i
    raise ValueError(f"next-sentence prediction needs documents of at least {min_sentences} sentences; none has that many")


def _truncate_pair(a, b, max_tokens, rng):
    while len(a) + len(b) > max_tokens:
        longer = a if len(a) > len(b) else b
        if rng.next() < 0.5:
            longer.pop(0)
        else:
            longer.pop()


def nsp_pair(docs, rng, max_tokens):
    """BERT's create_pretraining_data pair: A from a span of a document, B its rest (0) or another document's text (1)."""
    di = _pick_document(docs, rng, 2)
    doc = docs[di]
    start = rng.int(len(doc) - 1)
    end, length = start, 0
    while end < len(doc) and (length < max_tokens or end - start < 2):
        end += 1
        length += len(doc[end - 1])
    span = doc[start:end]
    a_count = 1 + rng.int(len(span) - 1)
    a = [t for s in span[:a_count] for t in s]
    if len(docs) > 1 and rng.next() < 0.5:
        is_random_next = 1
        other = rng.int(len(docs) - 1)
        if other >= di:
            other += 1
        od = docs[other]
        b = []
        s = rng.int(len(od))
        while s < len(od) and len(b) < max_tokens:
            b.extend(od[s])
            s += 1
    else:
        is_random_next = 0
        b = [t for s in span[a_count:] for t in s]
    _truncate_pair(a, b, max_tokens, rng)
    return a, b, is_random_next


def mlm_nsp_batch(docs, B, T, m, rng):
    if T < 8:
        raise ValueError(f"seqLen {T} is too short for [CLS] A [SEP] B [SEP]; use at least 8")
    sp = m.specials
    out = {k: np.zeros((B, T), dtype=np.int64) for k in ("input_ids", "labels", "token_type_ids", "attention_mask")}
    out["next_sentence_labels"] = np.zeros((B,), dtype=np.int64)
    for r in range(B):
        a, b, is_random_next = nsp_pair(docs, rng, T - 3)
        seq = [sp["cls"]] + a + [sp["sep"]] + b + [sp["sep"]]
        row = seq + [sp["pad"]] * (T - len(seq))
        out["attention_mask"][r, :len(seq)] = 1
        out["token_type_ids"][r, len(a) + 2:len(seq)] = 1
        out["next_sentence_labels"][r] = is_random_next
        labels = mask_sequence(row, m, rng)
        out["input_ids"][r] = row
        out["labels"][r] = labels
    return out


# ---------------------------------------------------------------------------------------------------

class Batches:
    """The experiment's batches: `train(rng)` draws the next global micro-batch; `validation` and `train_sample` are fixed."""

    def __init__(self, folder, cfg):
        t, d = cfg["training"], cfg["data"]
        self.objective = t["objective"]
        self.B, self.T = t["batchSize"], t["seqLen"]
        self.masking = Masking(t["maskProbability"], cfg["model"]["vocabSize"], d["specials"]) if self.objective != "causal-lm" else None
        train, validation = Split(folder, d["train"]), Split(folder, d["validation"])
        self._draw_train = self._drawer(train)
        seed = t["seed"]
        self.validation = self._fixed(self._drawer(validation), (seed ^ 0x7A11) & M32, t["evalBatches"])
        self.train_sample = self._fixed(self._draw_train, (seed ^ 0x7A12) & M32, t["evalBatches"])

    def _drawer(self, split):
        B, T, m = self.B, self.T, self.masking
        if self.objective == "causal-lm":
            return lambda rng: causal_lm_batch(split.stream, B, T, rng)
        if self.objective == "mlm":
            return lambda rng: mlm_window_batch(split.stream, B, T, m, rng)
        return lambda rng: mlm_nsp_batch(split.docs, B, T, m, rng)

    @staticmethod
    def _fixed(draw, seed, n):
        rng = Rng(seed)
        return [draw(rng) for _ in range(n)]

    def train(self, rng):
        return self._draw_train(rng)


def load_config(folder):
    with open(os.path.join(folder, "workbench-torch.json"), encoding="utf-8") as f:
        return json.load(f)
