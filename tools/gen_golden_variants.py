#!/usr/bin/env python3
"""More golden cases in the form of ../shared/reference/gen_golden.py, with shapes its two variants lack:
odd head sizes, one layer, batch 3, sequences shorter than the context. It calls that script's own
functions, so the math is the reference's.

Usage: /usr/bin/python3 tools/gen_golden_variants.py OUT_DIR [--seed N]
then:  WORKBENCH_GOLDEN_DIR=OUT_DIR npm run test:golden
"""
import argparse, os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'reference'))
import torch  # noqa: E402
import gen_golden as G  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument('out')
ap.add_argument('--seed', type=int, default=5)
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
torch.manual_seed(a.seed)
# head size 3 and 7 (odd), a single layer, batch 3, T shorter than the context
G.gpt(a.out, None, V=29, n_ctx=24, d=15, H=5, L=1, B=3, Tn=9)
G.bert(a.out, None, V=31, n_pos=32, d=21, H=3, L=1, B=2, Tn=11, ff=40)  # its NSP labels fix B at 2
G.positions(a.out, None); G.optim(a.out, None); G.compression(a.out, None); G.linear_attention_moe(a.out, None, B=3, H=3, Tn=5, hd=5, N=9, d=10, E=3, K=1, ff=7)
print('wrote', sorted(os.listdir(a.out)))
