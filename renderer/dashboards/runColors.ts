/**
 * One colour per run, the same in the charts, their legends, the run headers, the config diff and the
 * caller's runs table, and kept as runs are put on or taken off the charts: a run's place among all the
 * runs it may be compared with picks its colour, and where another shown run already has that colour
 * (more than RUN_COLORS.length runs apart) it takes the next one free.
 */
export const RUN_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** colours by run id for the `shown` runs; `all` is every run that could be shown, in a fixed order */
export function runColors(all: readonly string[], shown: readonly string[]): Record<string, string> {
  const n = RUN_COLORS.length;
  const place = (id: string) => { const i = all.indexOf(id); return i >= 0 ? i : all.length + shown.indexOf(id); };
  const taken = new Set<number>();
  const out: Record<string, string> = {};
  for (const id of [...new Set(shown)].sort((a, b) => place(a) - place(b))) {
    const want = place(id) % n;
    let k = 0;
    while (k < n && taken.has((want + k) % n)) k++;
    const c = k < n ? (want + k) % n : want;
    taken.add(c);
    out[id] = RUN_COLORS[c];
  }
  return out;
}
