import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runPython } from '../testing';
import { Rng } from '../util/random';
import { SafetensorsError, decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors';

const JUDGE = path.resolve(import.meta.dirname, '../../tools/safetensors_check.py');
const dirs: string[] = [];
after(async () => { for (const d of dirs) await fsp.rm(d, { recursive: true, force: true }); });
async function tempDir(): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'safetensors-'));
  dirs.push(d);
  return d;
}

const tensors: NamedTensor[] = [
  { name: 'h.0.attn.c_attn.weight', dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 1e-30, -0, 7]) },
  { name: 'ln_f.bias', dtype: 'F32', shape: [3], data: Float32Array.from([0.1, 0.2, 0.3]) },
  { name: 'scalar', dtype: 'F32', shape: [], data: Float32Array.from([42]) },
  { name: 'counts', dtype: 'I32', shape: [2], data: Int32Array.from([-1, 2 ** 31 - 1]) },
  { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
];

/** A file with the given header (as text, padded as written) and data bytes. */
function fileOf(header: string, data: Uint8Array = new Uint8Array(0)): Buffer {
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
  return Buffer.concat([head, Buffer.from(header), data]);
}

/** Runs the independent judge over candidate files; its verdict per file, in order. */
async function judge(files: Buffer[]): Promise<string[]> {
  const records = Buffer.concat(files.flatMap((f) => { const n = Buffer.alloc(4); n.writeUInt32LE(f.length); return [n, f]; }));
  const file = path.join(await tempDir(), 'records.bin');
  await fsp.writeFile(file, records);
  const r = runPython([JUDGE, file]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trimEnd().split('\n');
}

describe('safetensors', () => {
  it('round-trips names, shapes and bytes, with the data 8-byte aligned', () => {
    const buf = encodeSafetensors(tensors, { format: 'pt' });
    assert.equal((8 + Number(buf.readBigUInt64LE(0))) % 8, 0);
    const { tensors: back, metadata } = decodeSafetensors(buf);
    assert.deepEqual(metadata, { format: 'pt' });
    assert.deepEqual([...back.values()], tensors.map((t) => ({ ...t, fileDtype: t.dtype })));
  });

  it('is read by an independent parser (Python\'s struct and json, standard library only)', async () => {
    const file = path.join(await tempDir(), 'x.safetensors');
    await fsp.writeFile(file, encodeSafetensors(tensors, { format: 'pt' }));
    const py = `
import json, math, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
data = b[8 + n:]
out = {'__metadata__': h.pop('__metadata__')}
for name, e in h.items():
    s, t = e['data_offsets']
    n_values = math.prod(e['shape'])
    assert t - s == 4 * n_values, (name, s, t, e['shape'])
    values = struct.unpack('<%d%s' % (n_values, {'F32': 'f', 'I32': 'i'}[e['dtype']]), data[s:t])
    out[name] = {'shape': e['shape'], 'values': list(values)}
print(json.dumps(out))`;
    const r = runPython(['-c', py, file]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, { shape: number[]; values: number[] }>;
    assert.deepEqual(out.__metadata__, { format: 'pt' });
    for (const t of tensors) {
      assert.deepEqual(out[t.name].shape, t.shape, t.name);
      assert.deepEqual(out[t.name].values, Array.from(t.data), t.name);
    }
  });

  it('reads the dtypes checkpoints from elsewhere use: F16, BF16 and F64 as float32, I64 and U8 as int32', () => {
    const f16 = Uint8Array.from([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x7c, 0x01, 0x00]); // 1, -2, +inf, the smallest subnormal
    const bf16 = Uint8Array.from([0x80, 0x3f, 0x40, 0xc0]); // 1, -3
    const f64 = new Uint8Array(Float64Array.from([0.1]).buffer);
    const i64 = new Uint8Array(BigInt64Array.from([-5n, 7n]).buffer);
    const u8 = Uint8Array.from([255]);
    const header = JSON.stringify({
      a: { dtype: 'F16', shape: [4], data_offsets: [0, 8] },
      b: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] },
      c: { dtype: 'F64', shape: [1], data_offsets: [12, 20] },
      d: { dtype: 'I64', shape: [2], data_offsets: [20, 36] },
      e: { dtype: 'U8', shape: [1], data_offsets: [36, 37] },
    });
    const { tensors: t } = decodeSafetensors(fileOf(header, Buffer.concat([f16, bf16, f64, i64, u8])));
    assert.deepEqual([...t.get('a')!.data], [1, -2, Infinity, 2 ** -24]);
    assert.deepEqual([...t.get('b')!.data], [1, -3]);
    assert.deepEqual([...t.get('c')!.data], [Math.fround(0.1)]);
    assert.deepEqual([...t.get('d')!.data], [-5, 7]);
    assert.deepEqual([...t.get('e')!.data], [255]);
    assert.deepEqual([...t.values()].map((x) => [x.dtype, x.fileDtype]), [['F32', 'F16'], ['F32', 'BF16'], ['F32', 'F64'], ['I32', 'I64'], ['I32', 'U8']]);
    const big = new Uint8Array(BigInt64Array.from([2n ** 40n]).buffer);
    assert.throws(() => decodeSafetensors(fileOf(JSON.stringify({ p: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }), big)), /tensor 'p' holds 1099511627776 at index 0, outside the int32 range/);
    assert.throws(() => decodeSafetensors(fileOf(JSON.stringify({ u: { dtype: 'U16', shape: [1], data_offsets: [0, 2] } }), new Uint8Array(2))), /tensor 'u' has dtype U16, which the workbench does not read/);
  });

  it('refuses damaged and ambiguous files, saying what is wrong', () => {
    const buf = encodeSafetensors(tensors);
    const refuses = (file: Buffer, message: RegExp) => assert.throws(() => decodeSafetensors(file), (e: unknown) => e instanceof SafetensorsError && message.test(e.message));
    refuses(buf.subarray(0, 5), /shorter than the 8-byte header length/);
    refuses(buf.subarray(0, buf.length - 4), /header accounts for .* \(truncated or padded\)/);
    const big = Buffer.from(buf);
    big.writeBigUInt64LE(BigInt(buf.length), 0);
    refuses(big, /declares a \d+-byte header but the file has/);
    big.writeBigUInt64LE(2n ** 63n, 0);
    refuses(big, /over the format's limit of 100000000 bytes/);
    const one = '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
    refuses(fileOf(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, new Uint8Array(8)), /starts at byte 4 of the data, expected 0/);
    refuses(fileOf(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, new Uint8Array(4)), /tensor 'a' of shape \[2\] and dtype F32 needs 8 bytes, its offsets give 4/);
    refuses(fileOf(`{${one},${one.replace('[0,4]', '[4,8]')}}`, new Uint8Array(8)), /names 'a' twice in one object/);
    refuses(fileOf(`{"a":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, new Uint8Array(4)), /names 'dtype' twice/);
    refuses(fileOf(`{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}`, new Uint8Array(4)), /has '\.' outside a string/);
    refuses(fileOf(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, new Uint8Array(4)), /unknown fields x/);
    refuses(fileOf(`{"a":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}}`, new Uint8Array(4)), /dtype "F31", not one of/);
    refuses(fileOf(`{"__metadata__":{"k":1},${one}}`, new Uint8Array(4)), /__metadata__ that is not an object of strings/);
    refuses(fileOf(` {${one}}`, new Uint8Array(4)), /does not start with '\{'/);
    refuses(fileOf(`{${one}}\n`, new Uint8Array(4)), /other than space padding/);
    refuses(fileOf('{"a\udc00"}'), /not valid UTF-8|not JSON/);
    assert.equal(decodeSafetensors(fileOf(`{${one}}    `, new Uint8Array(4))).tensors.size, 1);
  });

  it('fuzz: of 10,000 mutated files none crashes the reader, none hangs, and none the independent judge refuses is accepted', async () => {
    const rng = new Rng(20261205);
    const seeds = [encodeSafetensors(tensors, { format: 'pt' }), encodeSafetensors(tensors.slice(0, 2))];
    const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];
    const headerEdits: ((h: string) => string)[] = [
      (h) => h.replace(/\d+/g, (d) => (rng.next() < 0.2 ? String(Number(d) + pick([-8, -4, -1, 1, 4, 8, 1e6])) : d)),
      (h) => h.replace(/"(F32|I32)"/, `"${pick(['F16', 'BF16', 'I64', 'U8', 'F64', 'U16', 'f32', 'F8_E4M3', ''])}"`),
      (h) => { const i = rng.int(h.length); return h.slice(0, i) + pick(['{', '}', '[', ']', ',', ':', '"', '\\', '0', '-1', '1.5', 'true', 'null', '\n', '\u00e9']) + h.slice(i); },
      (h) => { const i = rng.int(h.length); return h.slice(0, i) + h.slice(i + 1 + rng.int(4)); },
      (h) => h.replace(/"shape":\[[^\]]*\]/, `"shape":[${pick(['', '0', '2,3', '4', '99999999999', '1,1,1', '-0'])}]`),
      (h) => h.replace(/"data_offsets":\[(\d+),(\d+)\]/, (_, a, b) => `"data_offsets":[${pick([b, '0', String(Number(a) + 2)])},${pick([a, b, String(Number(b) + 4)])}]`),
      (h) => { const m = /"[^"]+":\{"dtype[^}]*\}/.exec(h); return m ? h.replace('{', `{${m[0]},`) : h; },
      (h) => h.replace('{', `{"__metadata__":${pick(['{"a":"b"}', '{"a":1}', '[]', '"x"', 'null'])},`),
    ];
    const mutate = (seed: Buffer): Buffer => {
      const n = Number(seed.readBigUInt64LE(0));
      let header = seed.toString('utf8', 8, 8 + n);
      let data = Buffer.from(seed.subarray(8 + n));
      let length: bigint | null = null;
      for (let k = 1 + rng.int(3); k > 0; k--) {
        const r = rng.next();
        if (r < 0.55) header = pick(headerEdits)(header);
        else if (r < 0.65) data = data.subarray(0, rng.int(data.length + 1));
        else if (r < 0.75) data = Buffer.concat([data, Buffer.alloc(1 + rng.int(8))]);
        else if (r < 0.85) length = BigInt(Buffer.byteLength(header) + pick([-3, -1, 1, 2, 1 << 20])) & 0xffffffffffffffffn;
        else { data = Buffer.from(data); if (data.length) data[rng.int(data.length)] ^= 1 << rng.int(8); }
      }
      const file = fileOf(header, data);
      if (length !== null) file.writeBigUInt64LE(length, 0);
      return rng.next() < 0.05 ? file.subarray(0, rng.int(file.length)) : file;
    };
    const files = Array.from({ length: 10_000 }, () => mutate(pick(seeds)));
    const verdicts = await judge(files);
    assert.equal(verdicts.length, files.length);
    let accepted = 0; let slowest = 0;
    const crashes: string[] = []; const wronglyAccepted: string[] = [];
    files.forEach((file, i) => {
      const t0 = performance.now();
      try {
        const { tensors: got } = decodeSafetensors(file);
        accepted++;
        if (verdicts[i] !== `ok ${got.size}`) wronglyAccepted.push(`#${i} (judge: ${verdicts[i]})`);
      } catch (e) {
        if (!(e instanceof SafetensorsError)) crashes.push(`#${i}: ${String(e)}`);
      }
      slowest = Math.max(slowest, performance.now() - t0);
    });
    const judgedValid = verdicts.filter((v) => v.startsWith('ok')).length;
    console.log(`# fuzz: 10000 files, ${judgedValid} valid by the judge, ${accepted} accepted, ${crashes.length} crashes, ${wronglyAccepted.length} wrongly accepted, slowest ${slowest.toFixed(1)} ms`);
    assert.deepEqual(crashes, []);
    assert.deepEqual(wronglyAccepted, []);
    assert.ok(slowest < 1000, `a file took ${slowest} ms`);
    // the mutations must exercise both sides, or the test proves nothing
    assert.ok(judgedValid > 500 && judgedValid < 9500, `${judgedValid} of 10000 mutated files were valid`);
  });
});
