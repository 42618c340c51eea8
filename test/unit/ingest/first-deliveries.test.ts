// firstDeliveries keeps the first delivery of each source position. Its shortcut (offsets rising
// in every partition: nothing can repeat, the batch is returned as is) against the plain rule
// on generated batches: sorted runs, re-seeks that replay a stretch, several sources, records
// without a position.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { firstDeliveries, type SourceRecord } from '../../../src/ingest/table-ingestor.ts';

const rec = (sourceId: string, partition: number, offset: number): SourceRecord =>
  ({ value: { offset }, raw: '', bytes: 1, position: { sourceId, partition, offset: BigInt(offset) } });

function reference(items: SourceRecord[]): SourceRecord[] {
  const seen = new Set<string>();
  return items.filter((r) => {
    if (!r.position) return true;
    const k = `${r.position.sourceId}/${r.position.partition}/${r.position.offset}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const runs = fc.array(fc.tuple(fc.constantFrom('kafka/g/a', 'kafka/g/b'), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 8 })), { maxLength: 12 })
  .map((rs) => rs.flatMap(([s, p, start, n]) => Array.from({ length: n }, (_, k) => rec(s, p, start + k))));

describe('firstDeliveries', () => {
  test('equals keeping each position\'s first delivery, and returns the batch itself when nothing repeats', () => {
    fc.assert(fc.property(runs, fc.boolean(), (items, withUnpositioned) => {
      const batch = withUnpositioned ? [...items, { value: {}, raw: '', bytes: 1 }] : items;
      const got = firstDeliveries(batch);
      const want = reference(batch);
      assert.deepStrictEqual(got, want);
      if (want.length === batch.length) assert.equal(got, batch);
    }), { numRuns: 3000 });
  });
});
