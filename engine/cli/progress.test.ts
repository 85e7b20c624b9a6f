/**
 * The progress view on a terminal: a run that stops leaves its status as the last line, not a stale
 * progress line redrawn under it; a run that never started shows why.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressView } from './progress';

function terminal() {
  const out = { text: '', isTTY: true, write(s: string) { out.text += s; return true; } };
  return { view: new ProgressView(out as unknown as NodeJS.WriteStream), screen: () => out.text };
}

describe('progress view', () => {
  it('does not redraw the progress line after the run stopped', () => {
    const { view, screen } = terminal();
    view.event({ type: 'step', step: 3, totalSteps: 10, tokens: 96, scalars: { 'train/loss': 2.5 }, etaSeconds: 1 });
    view.event({ type: 'status', status: 'cancelled', runId: 'r', runDir: '/runs/r' });
    // what a terminal shows: the text after the last line erase
    const shown = screen().split('\r\x1b[2K').pop()!;
    assert.equal(shown, 'run r: cancelled\n');
  });

  it('says why a run ended before its first step', () => {
    const { view, screen } = terminal();
    view.summary({ status: 'failed', run_id: null, run_dir: null, error: { code: 'INVALID_DATASET', message: 'x.txt: no such file' } });
    assert.match(screen(), /failed before the first step: x\.txt: no such file\n$/);
  });
});
