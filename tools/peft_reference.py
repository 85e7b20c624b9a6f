"""An independent reading of a LoRA adapter saved in PEFT's layout, with PyTorch: PEFT's rules applied from the
files alone, without the workbench's code.

  peft_reference.py BASE_BUNDLE MERGED_BUNDLE ADAPTER_DIR

BASE_BUNDLE is the base run exported (model.safetensors with Hugging Face names), MERGED_BUNDLE the LoRA run
exported (its model merged), ADAPTER_DIR the adapter folder. Checks, as PEFT would apply the adapter:
  - adapter_config.json is a LORA config; its target_modules select (list: a name whole or as a dotted suffix;
    string: a full-match regex — PEFT's check_target_module_exists) exactly the linear modules that have
    lora_A / lora_B in adapter_model.safetensors under base_model.model.<module>;
  - lora_A is [r, in] and lora_B [out, r] for the base weight, which is [in, out] when fan_in_fan_out (GPT-2's
    Conv1D) and [out, in] otherwise;
  - base W + (lora_alpha / r) * B @ A (transposed for fan_in_fan_out) equals the merged bundle's weight within
    1e-5; every other tensor of the merged bundle is the base's (a head in modules_to_save: the adapter's).
Prints "ok N modules" or fails with the first mismatch.
"""
import json
import os
import re
import struct
import sys

import torch


def read_safetensors(path):
    raw = open(path, 'rb').read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop('__metadata__', None)
    out = {}
    for name, e in header.items():
        assert e['dtype'] == 'F32', (name, e['dtype'])
        a, b = e['data_offsets']
        out[name] = torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=torch.float32).reshape(e['shape'])
    return out


def targeted(cfg, module):
    t = cfg['target_modules']
    if isinstance(t, str):
        return re.fullmatch(t, module) is not None
    return module in t or any(module.endswith('.' + k) for k in t)


def main(base_dir, merged_dir, adapter_dir):
    cfg = json.load(open(os.path.join(adapter_dir, 'adapter_config.json')))
    assert cfg['peft_type'] == 'LORA' and cfg['bias'] == 'none', cfg
    scale = cfg['lora_alpha'] / cfg['r']
    base = read_safetensors(os.path.join(base_dir, 'model.safetensors'))
    merged = read_safetensors(os.path.join(merged_dir, 'model.safetensors'))
    adapter = read_safetensors(os.path.join(adapter_dir, 'adapter_model.safetensors'))
    prefix = 'base_model.model.'
    assert all(k.startswith(prefix) for k in adapter), list(adapter)[:3]
    lora_modules = sorted({k[len(prefix):].rsplit('.lora_', 1)[0] for k in adapter if '.lora_' in k})
    saved = {k[len(prefix):] for k in adapter if '.lora_' not in k}
    # the linear modules of the base (a weight with a bias, 2-D) that target_modules selects
    linear = sorted(k[:-len('.weight')] for k, v in base.items() if k.endswith('.weight') and v.dim() == 2 and k[:-len('.weight')] + '.bias' in base)
    chosen = [m for m in linear if targeted(cfg, m)]
    assert chosen == lora_modules, f'target_modules selects {chosen}, the file adapts {lora_modules}'
    for m in lora_modules:
        A, B = adapter[f'{prefix}{m}.lora_A.weight'], adapter[f'{prefix}{m}.lora_B.weight']
        W = base[m + '.weight']
        out_f, in_f = (W.shape[1], W.shape[0]) if cfg['fan_in_fan_out'] else tuple(W.shape)
        assert tuple(A.shape) == (cfg['r'], in_f) and tuple(B.shape) == (out_f, cfg['r']), (m, A.shape, B.shape, W.shape)
        delta = (B @ A) * scale
        expect = W + (delta.T if cfg['fan_in_fan_out'] else delta)
        err = (merged[m + '.weight'] - expect).abs().max().item()
        assert err < 1e-5, f'{m}: merged weight differs from W + scale * B A by {err}'
    for k, v in merged.items():
        if k.endswith('.weight') and k[:-len('.weight')] in lora_modules:
            continue
        ref = adapter[prefix + k] if k in saved else base[k]
        assert torch.equal(v, ref), f'{k} differs from the {"adapter" if k in saved else "base"}'
    print('ok', len(lora_modules), 'modules')


if __name__ == '__main__':
    main(*sys.argv[1:4])
