/** How the fine-tune cell writes its figures. */

export const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** A confusion cell's background: its share of the true class's examples, blue on the diagonal, red off it. */
export function confusionShade(n: number, rowTotal: number, diagonal: boolean): string {
  const share = rowTotal ? n / rowTotal : 0;
  if (share === 0) return 'transparent';
  return diagonal ? `rgba(31, 119, 180, ${(0.15 + 0.85 * share).toFixed(3)})` : `rgba(214, 39, 40, ${(0.1 + 0.9 * share).toFixed(3)})`;
}

/** The trainable share before a run: full fine-tuning trains every weight; LoRA's count depends on its targets. */
export function trainableShareText(method: 'full' | 'lora' | undefined, params: number | null): string {
  const count = params === null ? '' : `${params.toLocaleString('en')} parameters, `;
  return method === 'lora'
    ? 'LoRA trains its adapters and the classification head only; the count is stated in the run log before the first step'
    : `every weight trains: ${count}100% of the model (with the new classification head)`;
}
