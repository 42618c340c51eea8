// TableIngestor on a real SQLite catalog: a message delivered twice into one batch (kafkajs
// re-fetches a partition from the table's offset when the seek lands after the first fetch, as
// on a restart whose crash fell before Kafka's offset commit) is committed once. Every test runs
// twice: records kept whole until the flush, and converted while the batch fills (`revive`).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { DeadLetterTable } from '../../../src/ingest/dead-letter-table.ts';
import { kafkaMessageRecord } from '../../../src/ingest/kafka-source.ts';
import { offsetsSummaryKey } from '../../../src/ingest/source-offsets.ts';
import { DEFAULT_BATCHER_CONFIG } from '../../../src/ingest/micro-batcher.ts';
import { TableIngestor, type SourceRecord } from '../../../src/ingest/table-ingestor.ts';
import { parseJsonExact } from '../../../src/spec/json.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { branchHead } from '../../../src/spec/table-metadata.ts';
import { readTableRows } from '../../support/read-table.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'payload', required: true, type: 'string' },
] }, { assignIds: true });

const SOURCE = 'kafka/g/topic';

function message(partition: number, offset: number): SourceRecord {
  const value = { id: partition * 1000 + offset, payload: `p${partition}-${offset}` };
  const raw = JSON.stringify(value);
  return { value, raw, bytes: raw.length, position: { sourceId: SOURCE, partition, offset: BigInt(offset) } };
}

for (const early of [false, true]) describe(`TableIngestor (${early ? 'converted while the batch fills' : 'records kept until the flush'})`, () => {
  // Kafka records kept as bytes decode as kafkaMessageRecord did; the others are JSON text.
  const mode = early ? { revive: (r: SourceRecord) => parseJsonExact(typeof r.raw === 'string' ? r.raw : Buffer.from(r.raw).toString('utf8')) } : {};
  let wh: TestWarehouse;
  const id = { namespace: ['ing'], name: 'events' };
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['ing']);
    await wh.catalog.createTable(id, { schema: SCHEMA });
  });
  afterEach(async () => { await wh.cleanup(); });

  test('a message delivered twice into one batch is committed once', async () => {
    const ing = await TableIngestor.open(wh.catalog, id, { ...mode, batcher: { ...DEFAULT_BATCHER_CONFIG, windowMs: 60_000 } });
    for (let o = 0; o < 10; o++) ing.offer(message(0, o));
    for (let o = 0; o < 4; o++) ing.offer(message(1, o));
    // The partitions re-fetched from a later seek: offsets 6..9 and 2..3 arrive again.
    for (let o = 6; o < 10; o++) ing.offer(message(0, o));
    for (let o = 2; o < 4; o++) ing.offer(message(1, o));
    await ing.close();
    const ids = (await readTableRows(wh.catalog, id)).map((r) => Number(r.id)).sort((a, b) => a - b);
    assert.deepEqual(ids, [...Array.from({ length: 10 }, (_, o) => o), ...Array.from({ length: 4 }, (_, o) => 1000 + o)]);
    const head = branchHead((await wh.catalog.loadTable(id)).metadata, 'main')!;
    assert.equal(head.summary[offsetsSummaryKey(SOURCE)], '{"0":10,"1":4}');
    assert.equal(head.summary['added-records'], '14');
  });

  test('a Kafka message kept as bytes (it decoded) that fails the schema is dead-lettered with its text as sent', async () => {
    const dlq = { namespace: ['ing'], name: 'dead' };
    const ing = await TableIngestor.open(wh.catalog, id, { ...mode, batcher: { ...DEFAULT_BATCHER_CONFIG, windowMs: 60_000 }, deadLetters: await DeadLetterTable.open(wh.catalog, dlq) });
    const sent = ['{"id":1,"payload":"ok é 😀"}', '{"id":"two","payload":"naïve 😀"}', '\ufeff{"id":3,"payload":"bom"}', '[4]'];
    sent.forEach((text, o) => {
      const rec = kafkaMessageRecord(SOURCE, 'topic', 0, BigInt(o), { key: null, value: Buffer.from(text), timestamp: '1700000000000', headers: {} }, undefined);
      if (o < 3) assert.ok(rec.raw instanceof Uint8Array, 'a payload that decoded is kept as bytes');
      ing.offer(rec);
    });
    await ing.close();
    const rows = (await readTableRows(wh.catalog, id)).map((r) => [Number(r.id), r.payload]).sort();
    assert.deepEqual(rows, [[1, 'ok é 😀'], [3, 'bom']]);
    const dead = (await readTableRows(wh.catalog, dlq)).map((r) => [Number(r.source_offset), r.payload]).sort();
    assert.deepEqual(dead, [[1, '{"id":"two","payload":"naïve 😀"}'], [3, '[4]']]);
  });

  test('a clean batch is appended without a validation pass; a batch the writer refuses is checked record by record: each good row once, each bad one dead-lettered once, offsets whole', async () => {
    const dlq = { namespace: ['ing'], name: 'dead' };
    const ing = await TableIngestor.open(wh.catalog, id, { ...mode, batcher: { ...DEFAULT_BATCHER_CONFIG, windowMs: 60_000, maxRecords: 5 }, deadLetters: await DeadLetterTable.open(wh.catalog, dlq) });
    // Batch 1 (offsets 0–4) is clean; batch 2 (5–9) holds two values only the writer refuses.
    for (let o = 0; o < 10; o++) {
      const m = message(0, o);
      if (o === 6) ing.offer({ ...m, value: { id: 6, payload: 42 } });
      else if (o === 8) ing.offer({ ...m, value: { id: 2 ** 64, payload: 'too big for a long' } });
      else ing.offer(m);
    }
    await ing.close();
    const ids = (await readTableRows(wh.catalog, id)).map((r) => Number(r.id)).sort((a, b) => a - b);
    assert.deepEqual(ids, [0, 1, 2, 3, 4, 5, 7, 9]);
    const dead = (await readTableRows(wh.catalog, dlq)).map((r) => Number(r.source_offset)).sort((a, b) => a - b);
    assert.deepEqual(dead, [6, 8]);
    const meta = (await wh.catalog.loadTable(id)).metadata;
    assert.equal(branchHead(meta, 'main')!.summary[offsetsSummaryKey(SOURCE)], '{"0":10}');
    assert.equal(meta.snapshots.length, 2, 'one table commit per batch: the refused attempt committed nothing');
  });
});
