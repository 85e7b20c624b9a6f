"""An independent judge of safetensors files, written from the format's specification
(https://github.com/huggingface/safetensors#format) with the standard library alone, for the fuzz test
of the engine's reader (engine/runs/safetensors.test.ts).

Reads records from a file: a little-endian u32 length, then that many bytes of one candidate file; prints
one line per record: "ok N" (N tensors) or "bad REASON".
"""
import json
import math
import struct
import sys

SIZES = {
    'BOOL': 1, 'U8': 1, 'I8': 1, 'F8_E5M2': 1, 'F8_E4M3': 1,
    'I16': 2, 'U16': 2, 'F16': 2, 'BF16': 2,
    'I32': 4, 'U32': 4, 'F32': 4,
    'F64': 8, 'I64': 8, 'U64': 8,
}
MAX_HEADER = 100_000_000


class Bad(Exception):
    pass


def no_duplicates(pairs):
    names = [k for k, _ in pairs]
    if len(names) != len(set(names)):
        raise Bad('duplicate name')
    return dict(pairs)


def refuse(what):
    def f(_):
        raise Bad(what)
    return f


def is_count(x):
    return type(x) is int and x >= 0


def judge(b):
    if len(b) < 8:
        raise Bad('short')
    (n,) = struct.unpack('<Q', b[:8])
    if n > MAX_HEADER or 8 + n > len(b):
        raise Bad('header length')
    try:
        text = b[8:8 + n].decode('utf-8')
    except UnicodeDecodeError:
        raise Bad('utf-8')
    if not text.startswith('{') or not text.rstrip(' ').endswith('}'):
        raise Bad('braces or padding')
    try:
        header = json.loads(text, object_pairs_hook=no_duplicates,
                            parse_float=refuse('float'), parse_constant=refuse('constant'))
    except ValueError:
        raise Bad('json')
    if not isinstance(header, dict):
        raise Bad('not an object')
    meta = header.pop('__metadata__', {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise Bad('metadata')
    spans = []
    for name, e in header.items():
        if not isinstance(e, dict) or set(e) != {'dtype', 'shape', 'data_offsets'}:
            raise Bad('entry fields')
        if e['dtype'] not in SIZES:
            raise Bad('dtype')
        shape, off = e['shape'], e['data_offsets']
        if not isinstance(shape, list) or not all(is_count(d) for d in shape):
            raise Bad('shape')
        if not isinstance(off, list) or len(off) != 2 or not all(is_count(o) for o in off) or off[0] > off[1]:
            raise Bad('offsets')
        if off[1] - off[0] != math.prod(shape) * SIZES[e['dtype']]:
            raise Bad('size')
        spans.append(tuple(off))
    end = 0
    for start, stop in sorted(spans):
        if start != end:
            raise Bad('not contiguous')
        end = stop
    if end != len(b) - 8 - n:
        raise Bad('data length')
    return len(spans)


def main():
    data = open(sys.argv[1], 'rb').read()
    at, out = 0, []
    while at < len(data):
        (size,) = struct.unpack('<I', data[at:at + 4])
        record = data[at + 4:at + 4 + size]
        at += 4 + size
        try:
            out.append('ok %d' % judge(record))
        except Bad as e:
            out.append('bad ' + str(e))
    sys.stdout.write('\n'.join(out) + '\n')


main()
