/**
 * Train/validation split by whole documents, so no document straddles the two. A document's side is
 * decided by a hash of (seed, id), not by its position: the same seed gives the same split, and adding a
 * document to the corpus does not reshuffle the others. Stratified by label, so a genre with 9 texts
 * still has one in validation for the fine-tuning task that reads those labels.
 */

function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
  return h >>> 0;
}

export interface Splittable { id: string; label?: string }

/**
 * Each label group sends round(n × fraction) documents to validation, those with the lowest hash. With a
 * fraction above 0 and at least two documents, each side gets at least one. Both sides keep input order.
 */
export function splitDocuments<T extends Splittable>(docs: T[], fraction: number, seed: number): { train: T[]; validation: T[] } {
  if (fraction <= 0 || docs.length < 2) return { train: docs.slice(), validation: [] };
  const rank = new Map<T, number>(docs.map((d) => [d, hash32(`${seed}\u0000${d.id}`)]));
  const byRank = (a: T, b: T) => rank.get(a)! - rank.get(b)! || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const groups = new Map<string, T[]>();
  for (const d of docs) {
    const k = d.label ?? '';
    const g = groups.get(k);
    if (g) g.push(d); else groups.set(k, [d]);
  }
  const val = new Set<T>();
  for (const g of groups.values()) {
    const k = Math.round(g.length * fraction);
    g.slice().sort(byRank).slice(0, k).forEach((d) => val.add(d));
  }
  if (val.size === 0) val.add(docs.slice().sort(byRank)[0]);
  if (val.size === docs.length) val.delete([...val].sort(byRank)[val.size - 1]);
  return { train: docs.filter((d) => !val.has(d)), validation: docs.filter((d) => val.has(d)) };
}

/**
 * The contiguous split of nanoGPT: the text of each document is cut at (1 − fraction) of its characters;
 * what comes before stays in train, the rest goes to validation (ids get '#val'). Sentences are kept whole
 * except the one the cut falls in, which is cut in two.
 */
export function splitTails<T extends { id: string; label?: string; sentences: string[] }>(docs: T[], fraction: number): { train: T[]; validation: T[] } {
  if (fraction <= 0) return { train: docs.slice(), validation: [] };
  const train: T[] = [];
  const validation: T[] = [];
  for (const d of docs) {
    const chars = d.sentences.reduce((n, s) => n + s.length, 0);
    let rest = Math.floor(chars * (1 - fraction)); // characters that stay in train
    const head: string[] = [];
    const tail: string[] = [];
    for (const s of d.sentences) {
      if (rest >= s.length) { head.push(s); rest -= s.length; continue; }
      if (rest > 0) { head.push(s.slice(0, rest)); tail.push(s.slice(rest)); rest = 0; continue; }
      tail.push(s);
    }
    if (head.length) train.push({ ...d, sentences: head });
    if (tail.length) validation.push({ ...d, id: `${d.id}#val`, sentences: tail });
  }
  return { train, validation };
}

/**
 * The side of one document when documents cannot be ranked together (a streamed file is never held whole): validation
 * when the same hash of (seed, id) that splitDocuments ranks by falls in the lowest `fraction` of its range. About
 * that fraction of documents, not exactly round(n × fraction), and without stratifying by label.
 */
export function documentSide(id: string, fraction: number, seed: number): 'train' | 'validation' {
  return fraction > 0 && hash32(`${seed}\u0000${id}`) < fraction * 2 ** 32 ? 'validation' : 'train';
}
