// A batch converted while it fills (TableIngestor with `revive`), on a real SQLite catalog:
// the same rows, dead letters and offsets as a batch kept whole until its flush; the commit
// goes from records decoded again when the table's schema changed since the batch opened or a
// rebalance trimmed part of the batch; Kafka values decoded again equal the first decode.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { CONVERSION_CHUNK_RECORDS } from '../../../src/ingest/batch-conversion.ts';
import { DeadLetterTable } from '../../../src/ingest/dead-letter-table.ts';
import { kafkaMessageRecord, kafkaReviver } from '../../../src/ingest/kafka-source.ts';
import { DEFAULT_BATCHER_CONFIG } from '../../../src/ingest/micro-batcher.ts';
import { kafkaSourceId, offsetsSummaryKey } from '../../../src/ingest/source-offsets.ts';
import { TableIngestor, type SourceRecord } from '../../../src/ingest/table-ingestor.ts';
import { parseJsonExact } from '../../../src/spec/json.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { parsePartitionExpression } from '../../../src/spec/partition-spec.ts';
import { branchHead } from '../../../src/spec/table-metadata.ts';
import type { TableIdentifier } from '../../../src/table/identifier.ts';
import { readTableRows } from '../../support/read-table.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'day', required: true, type: 'date' },
  { name: 'payload', required: false, type: 'string' },
] }, { assignIds: true });
const SOURCE = 'kafka/g/topic';
const BATCHER = { ...DEFAULT_BATCHER_CONFIG, windowMs: 60_000 };

/** Record i of partition p: bad (a string id, an impossible date) where `bad` says so. */
function record(p: number, o: number, bad: 'id' | 'day' | 'json' | undefined): SourceRecord {
  const text = bad === 'json' ? '{"id": 1,'
    : JSON.stringify({ id: bad === 'id' ? `x${o}` : p * 100_000 + o, day: bad === 'day' ? '2026-02-30' : `2026-0${1 + (o % 3)}-1${p}`, payload: o % 7 === 0 ? null : `p${p}-${o}-${'é'.repeat(o % 5)}` });
  const position = { sourceId: SOURCE, partition: p, offset: BigInt(o) };
  if (bad === 'json') return { value: undefined, raw: text, bytes: text.length, position, decodeError: 'invalid JSON: unexpected end' };
  return { value: parseJsonExact(text), raw: text, bytes: text.length, position };
}

describe('TableIngestor converting batches while they fill', () => {
  let wh: TestWarehouse;
  const early: TableIdentifier = { namespace: ['ing'], name: 'early' };
  const kept: TableIdentifier = { namespace: ['ing'], name: 'kept' };
  let revived = 0;
  const revive = (r: SourceRecord): unknown => { revived++; return parseJsonExact(r.raw as string); };
  beforeEach(async () => {
    revived = 0;
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['ing']);
    for (const id of [early, kept]) {
      await wh.catalog.createTable(id, { schema: SCHEMA, spec: parsePartitionExpression('month(day)', SCHEMA) });
    }
  });
  afterEach(async () => { await wh.cleanup(); });

  const rowsOf = async (id: TableIdentifier) => (await readTableRows(wh.catalog, id))
    .map((r) => `${String(r.id)}|${String(r.day)}|${String(r.payload)}`).sort();

  test('records over several chunks, bad ones in different chunks: the same rows, dead letters and offsets as records kept whole', async () => {
    const n = 2 * CONVERSION_CHUNK_RECORDS + 1_000;
    const badAt = new Map<number, 'id' | 'day' | 'json'>([[3, 'id'], [CONVERSION_CHUNK_RECORDS + 7, 'day'], [n - 1, 'json'], [n - 2, 'id']]);
    const dead: Record<string, string[]> = {};
    for (const [id, revive_] of [[early, revive], [kept, undefined]] as const) {
      const dlq = { namespace: ['ing'], name: `${id.name}_dead` };
      const ing = await TableIngestor.open(wh.catalog, id, { batcher: BATCHER, deadLetters: await DeadLetterTable.open(wh.catalog, dlq), ...(revive_ ? { revive: revive_ } : {}) });
      for (let o = 0; o < n; o++) ing.offer(record(o % 3, o, badAt.get(o)));
      await ing.close();
      dead[id.name] = (await readTableRows(wh.catalog, dlq)).map((r) => `${String(r.source_offset)}: ${String(r.error)}`).sort();
      const meta = (await wh.catalog.loadTable(id)).metadata;
      assert.equal(meta.snapshots.length, 1, 'one commit for the batch');
      assert.equal(branchHead(meta, 'main')!.summary[offsetsSummaryKey(SOURCE)], JSON.stringify({ 0: lastOf(n, 0) + 1, 1: lastOf(n, 1) + 1, 2: lastOf(n, 2) + 1 }));
    }
    assert.deepEqual(await rowsOf(early), await rowsOf(kept));
    assert.equal((await rowsOf(early)).length, n - badAt.size);
    assert.deepEqual(dead.early, dead.kept);
    assert.equal(dead.early!.length, badAt.size);
    assert.equal(revived, 0, 'nothing decoded again on the converted path');
  });

  test('the schema changed after the batch opened: the batch is committed from its records, decoded again', async () => {
    const ing = await TableIngestor.open(wh.catalog, early, { batcher: BATCHER, revive });
    for (let o = 0; o < 10; o++) ing.offer(record(0, o, undefined));
    const m = (await wh.catalog.loadTable(early)).metadata;
    const next = schemaFromJson({ type: 'struct', 'schema-id': 1, fields: [...SCHEMA.fields.map((f) => ({ id: f.id, name: f.name, required: f.required, type: f.type.kind })), { id: 4, name: 'extra', required: false, type: 'string' }] } as never, { schemaId: 1 });
    await wh.catalog.commitTable(early, [], [{ action: 'add-schema', schema: next, lastColumnId: Math.max(m.lastColumnId, 4) }, { action: 'set-current-schema', schemaId: 1 }]);
    await ing.close();
    const rows = await readTableRows(wh.catalog, early);
    assert.equal(rows.length, 10);
    assert.ok(rows.every((r) => r.extra === null));
    assert.equal(revived, 10, 'each record decoded again once');
  });

  test('a batch another writer committed in part is trimmed: the rest decoded again and appended once', async () => {
    let dropped = 0;
    const zombie = await TableIngestor.open(wh.catalog, early, { batcher: BATCHER, revive, events: { onStale: (i) => { dropped += i.dropped; } } });
    for (let o = 0; o < 10; o++) zombie.offer(record(0, o, undefined));
    // Meanwhile the partition's new owner commits offsets 0–5.
    const owner = await TableIngestor.open(wh.catalog, early, { batcher: BATCHER, revive });
    for (let o = 0; o < 6; o++) owner.offer(record(0, o, undefined));
    await owner.close();
    revived = 0;
    await zombie.close();
    assert.equal(dropped, 6);
    assert.equal(revived, 4, 'only the records left after the trim are decoded again');
    const ids = (await readTableRows(wh.catalog, early)).map((r) => Number(r.id)).sort((a, b) => a - b);
    assert.deepEqual(ids, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(branchHead((await wh.catalog.loadTable(early)).metadata, 'main')!.summary[offsetsSummaryKey(SOURCE)], '{"0":10}');
  });
});

function lastOf(n: number, p: number): number {
  let last = -1;
  for (let o = 0; o < n; o++) if (o % 3 === p) last = o;
  return last;
}

describe('kafkaReviver', () => {
  test('decodes a payload again to the value kafkaMessageRecord gave, captured metadata included', () => {
    const capture = { topic: 'kt', partition: 'kp', offset: 'ko', timestamp: 'kts' };
    const revive = kafkaReviver('g', 't', capture)!;
    const text = '{"id": 12345678901234567890, "s": "naïve 😀", "n": [1.5, null]}';
    const rec = kafkaMessageRecord(kafkaSourceId('g', 't'), 't', 3, 41n, { key: Buffer.from('k'), value: Buffer.from(text), timestamp: '1700000000123', headers: {} }, capture);
    assert.ok(rec.raw instanceof Uint8Array);
    assert.deepEqual(revive(rec), rec.value);
  });

  test('a route capturing the key or headers has no reviver (the record does not keep them)', () => {
    assert.equal(kafkaReviver('g', 't', { key: 'k' }), undefined);
    assert.equal(kafkaReviver('g', 't', { headers: 'h' }), undefined);
    assert.notEqual(kafkaReviver('g', 't', undefined), undefined);
  });
});
