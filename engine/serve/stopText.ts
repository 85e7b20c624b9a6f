/**
 * The text of a growing completion, released piece by piece with its stop sequences cut out: a piece is
 * held back while its end could still be the start of a stop sequence or is half of a UTF-8 character
 * (a byte-level token decodes to U+FFFD until the rest of its character comes), so a streamed text never
 * shows what the finished one does not have.
 */
export class StopText {
  private shown = 0;
  private text = '';

  constructor(private readonly decode: (ids: number[]) => string, private readonly stops: readonly string[]) {}

  /** The new piece after `ids` grew, and whether a stop sequence has now appeared (the piece ends before it). */
  push(ids: number[]): { piece: string; stopped: boolean } {
    this.text = this.decode(ids);
    const from = Math.max(0, this.shown - Math.max(0, ...this.stops.map((s) => s.length)));
    let at = -1;
    for (const s of this.stops) {
      const i = this.text.indexOf(s, from);
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    if (at >= 0) return { piece: this.release(at), stopped: true };
    if (this.text.endsWith('\uFFFD')) return { piece: '', stopped: false };
    return { piece: this.release(this.text.length - this.heldBack()), stopped: false };
  }

  /** What is left when the completion ends without a stop: everything not shown yet. */
  end(): string {
    return this.release(this.text.length);
  }

  /** the whole text released so far */
  get released(): string {
    return this.text.slice(0, this.shown);
  }

  /** characters at the end that could begin a stop sequence */
  private heldBack(): number {
    let hold = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, this.text.length); k > hold; k--) {
        if (this.text.endsWith(s.slice(0, k))) { hold = k; break; }
      }
    }
    return hold;
  }

  private release(upTo: number): string {
    if (upTo <= this.shown) return '';
    const piece = this.text.slice(this.shown, upTo);
    this.shown = upTo;
    return piece;
  }
}
