// Kafka message → source record for upsert ingest: a Kafka Connect `{ schema, payload }`
// wrapper and a null value (a tombstone) reach mergeRecords as they were sent, and a Debezium
// upsert batch of them merges the wrapped events and skips the tombstones (offsets counted),
// while an append route dead-letters a tombstone with a reason.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { kafkaMessageRecord } from '../../../src/ingest/kafka-source.ts';
import { DEFAULT_BATCHER_CONFIG } from '../../../src/ingest/micro-batcher.ts';
import { offsetsSummaryKey } from '../../../src/ingest/source-offsets.ts';
import { TableIngestor, type DeadLetter } from '../../../src/ingest/table-ingestor.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { branchHead } from '../../../src/spec/table-metadata.ts';
import { schemaWithKey } from '../../../src/transaction/set-table-key.ts';
import { readLiveRows } from '../../support/live-table-rows.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

const SOURCE = 'kafka/g/cdc';
const message = (value: string | null) => ({ key: Buffer.from('1'), value: value === null ? null : Buffer.from(value), timestamp: '1700000000000', headers: {} });

describe('Kafka messages in upsert mode', () => {
  test('a { schema, payload } wrapper is kept whole; a null value is a tombstone', () => {
    const event = { op: 'u', before: { id: 1 }, after: { id: 1, name: 'x' }, source: { lsn: 18446744073709551615n }, ts_ms: 5 };
    const wrapped = `{"schema":{"type":"struct","fields":[]},"payload":{"op":"u","before":{"id":1},"after":{"id":1,"name":"x"},"source":{"lsn":18446744073709551615},"ts_ms":5}}`;
    const r = kafkaMessageRecord(SOURCE, 'cdc', 2, 7n, message(wrapped), undefined);
    assert.deepStrictEqual(r.value, { schema: { type: 'struct', fields: [] }, payload: event });
    assert.equal(r.decodeError, undefined);
    assert.equal(Buffer.from(r.raw).toString('utf8'), wrapped);
    assert.deepEqual(r.position, { sourceId: SOURCE, partition: 2, offset: 7n });

    const t = kafkaMessageRecord(SOURCE, 'cdc', 2, 8n, message(null), undefined);
    assert.equal(t.value, null);
    assert.equal(t.tombstone, true);
    assert.match(t.decodeError ?? '', /tombstone/);
    assert.deepEqual(t.position, { sourceId: SOURCE, partition: 2, offset: 8n });
  });

  describe('through the ingestor', () => {
    let wh: TestWarehouse;
    const id = { namespace: ['k'], name: 't' };
    const schema = schemaFromJson({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }, { name: 'name', required: false, type: 'string' }] }, { assignIds: true });
    beforeEach(async () => {
      wh = await testWarehouse();
      await wh.catalog.createNamespace(['k']);
      await wh.catalog.createTable(id, { schema: schemaWithKey(schema, ['id']) });
    });
    afterEach(async () => { await wh.cleanup(); });

    const messages = [
      `{"schema":{"type":"struct"},"payload":{"op":"c","before":null,"after":{"id":1,"name":"a"},"source":{"lsn":1},"ts_ms":1}}`,
      `{"op":"c","before":null,"after":{"id":2,"name":"b"},"source":{"lsn":2},"ts_ms":1}`,
      `{"schema":{"type":"struct"},"payload":{"op":"d","before":{"id":2},"after":null,"source":{"lsn":3},"ts_ms":1}}`,
      null,
      `{"schema":null,"payload":null}`,
    ];

    test('Debezium upsert: wrapped events merged, tombstones skipped, every offset recorded', async () => {
      const ing = await TableIngestor.open(wh.catalog, id, { batcher: { ...DEFAULT_BATCHER_CONFIG, windowMs: 60_000 }, upsert: { format: 'debezium' } });
      messages.forEach((m, i) => { ing.offer(kafkaMessageRecord(SOURCE, 'cdc', 0, BigInt(i), message(m), undefined)); });
      await ing.close();
      assert.deepEqual(await readLiveRows(wh.catalog, id), [{ id: 1n, name: 'a' }]);
      assert.equal(branchHead((await wh.catalog.loadTable(id)).metadata, 'main')!.summary[offsetsSummaryKey(SOURCE)], '{"0":5}');
      assert.deepEqual({ inserted: ing.counts.inserted, deleted: ing.counts.deleted, deadLettered: ing.counts.deadLettered }, { inserted: 1, deleted: 0, deadLettered: 0 });
    });

    test('append route: the tombstone is a dead letter saying so', async () => {
      const letters: DeadLetter[] = [];
      const ing = await TableIngestor.open(wh.catalog, id, { batcher: { ...DEFAULT_BATCHER_CONFIG, windowMs: 60_000 }, deadLetters: { write: async (l) => { letters.push(...l); } } });
      ing.offer(kafkaMessageRecord(SOURCE, 'cdc', 0, 0n, message('{"id": 1, "name": "a"}'), undefined));
      ing.offer(kafkaMessageRecord(SOURCE, 'cdc', 0, 1n, message(null), undefined));
      await ing.close();
      assert.equal(letters.length, 1);
      assert.match(letters[0]!.error, /^partition 0 offset 1: field '\(payload\)': message value is null \(a Kafka tombstone\)/);
    });
  });
});
