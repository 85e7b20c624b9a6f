import { RUN_COLORS, runColors } from './runColors';
import { deepEqual, equal, ok, test } from './testing';

const all = ['r1', 'r2', 'r3', 'r4'];

test('a run keeps its colour whichever other runs are shown', () => {
  const both = runColors(all, ['r3', 'r1']);
  deepEqual(both, { r1: RUN_COLORS[0], r3: RUN_COLORS[2] });
  equal(runColors(all, ['r3'])['r3'], both['r3']);
  equal(runColors(all, ['r4', 'r3', 'r2', 'r1'])['r3'], both['r3']);
});

test('runs RUN_COLORS.length apart do not share a colour; unknown runs get one too', () => {
  const many = Array.from({ length: 12 }, (_, i) => `r${i}`);
  const c = runColors(many, ['r0', 'r8']);
  ok(c.r0 !== c.r8, 'r0 and r8 differ');
  const u = runColors(all, ['r1', 'elsewhere']);
  ok(u.elsewhere && u.elsewhere !== u.r1, 'a run outside the list has a colour of its own');
});
