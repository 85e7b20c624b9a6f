import { HEAD_STATISTICS } from '../../common/attentionMaps';

export type StatName = (typeof HEAD_STATISTICS)[number];
export { HEAD_STATISTICS };

/** How each head statistic reads in the UI. */
export const STAT_LABEL: Record<StatName, string> = {
  entropy: 'entropy (nats)',
  meanDistance: 'mean distance',
  firstTokenShare: 'share on first token',
  specialShare: 'share on [CLS]/[SEP]',
  previousToken: 'previous-token score',
  induction: 'induction score',
};

export const formatStat = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
