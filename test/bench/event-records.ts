// The benchmarks' 8-column event records (EVENTS_SCHEMA_JSON), from a fixed formula, no RNG, so
// a Python peer can build the very same rows: test/bench/append_peers.py holds the twin. Keep
// the two in step (append_peers.py --check-files compares floe's Parquet output with it).
import { EVENT_TYPES } from '../support/datagen.ts';

/** Records `offset` … `offset + n - 1`, as a JS caller would hand them to appendRecords. */
export function makeEventRecords(n: number, offset: number): Record<string, unknown>[] {
  const base = Date.UTC(2026, 10, 1);
  return Array.from({ length: n }, (_, i) => ({
    event_id: offset + i,
    user_id: (i * 7919) % 100_000,
    ts: new Date(base + (offset + i) * 37).toISOString(),
    event_type: EVENT_TYPES[i % EVENT_TYPES.length],
    page: i % 10 === 0 ? null : `/products/${i % 5000}`,
    value: (i % 1000) / 7,
    count: i % 100,
    flag: i % 3 === 0,
  }));
}
