// Per-leaf metrics of several batches of one file folded into the file's: the one way a file
// written batch by batch gets its metrics (rolling writer, worker-encoded appends).
import { compareValues } from '../spec/single-value.ts';
import type { LeafMetrics } from './record-converter.ts';

/** Folds a batch's per-leaf metrics into a file's: counts add up, bounds widen. */
export function mergeMetrics(into: Map<number, LeafMetrics>, from: ReadonlyMap<number, LeafMetrics>): void {
  for (const [id, m] of from) {
    const cur = into.get(id);
    if (!cur) { into.set(id, { ...m }); continue; }
    cur.valueCount += m.valueCount;
    cur.nullCount += m.nullCount;
    cur.nanCount += m.nanCount;
    if (m.nanCountUnknown) cur.nanCountUnknown = true;
    if (m.min !== undefined && (cur.min === undefined || compareValues(cur.type, m.min, cur.min) < 0)) cur.min = m.min;
    if (m.max !== undefined && (cur.max === undefined || compareValues(cur.type, m.max, cur.max) > 0)) cur.max = m.max;
  }
}
