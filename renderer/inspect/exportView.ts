/**
 * Export of the current view: its canvas as PNG, its numbers as JSON. A download link works in both
 * shells: the browser saves to its downloads, and Electron, which has no handler for downloads set,
 * asks where to save with its native dialog.
 */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function exportPng(canvas: HTMLCanvasElement, name: string): Promise<void> {
  return new Promise((resolve, reject) => canvas.toBlob((b) => {
    if (!b) { reject(new Error('the view could not be turned into a PNG')); return; }
    download(b, name);
    resolve();
  }, 'image/png'));
}

/** Numbers rounded to 6 significant digits: float32 carries no more, and the file stays readable. */
export function exportJson(value: unknown, name: string): void {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Number(v.toPrecision(6)) : v), 1);
  download(new Blob([text], { type: 'application/json' }), name);
}

/** A T×T map as nested rows of numbers, for JSON. */
export const rowsOf = (map: Float32Array, T: number): number[][] => Array.from({ length: T }, (_, q) => Array.from(map.subarray(q * T, (q + 1) * T)));
