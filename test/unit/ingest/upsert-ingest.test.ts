// TableIngestor in upsert mode on a real SQLite catalog: each batch is one merge commit that
// records its offsets; the table equals the last change per key (model-checked over random
// plain and Debezium streams, both row-level modes); bad records are dead letters committed
// before the batch, the rest merged; Debezium tombstones are skipped but their offsets count;
// a batch another writer committed in part is trimmed, never applied twice.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_BATCHER_CONFIG } from '../../../src/ingest/micro-batcher.ts';
import { committedOffsets, offsetsSummaryKey } from '../../../src/ingest/source-offsets.ts';
import { TableIngestor, type DeadLetter, type DeadLetterSink, type SourceRecord } from '../../../src/ingest/table-ingestor.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { branchHead } from '../../../src/spec/table-metadata.ts';
import { schemaWithKey } from '../../../src/transaction/set-table-key.ts';
import { readLiveRows } from '../../support/live-table-rows.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

const PLAIN = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'name', required: false, type: 'string' },
  { name: 'qty', required: false, type: 'int' },
] }, { assignIds: true });
const KEYED = schemaWithKey(PLAIN, ['id']);
const SOURCE = 'kafka/g/changes';
const BATCHER = { ...DEFAULT_BATCHER_CONFIG, windowMs: 600_000 };

function record(value: unknown, partition: number, offset: number, extra: Partial<SourceRecord> = {}): SourceRecord {
  const raw = value === null ? '' : JSON.stringify(value);
  return { value, raw, bytes: raw.length + 64, position: { sourceId: SOURCE, partition, offset: BigInt(offset) }, ...extra };
}

const tombstone = (partition: number, offset: number): SourceRecord =>
  record(null, partition, offset, { tombstone: true, decodeError: 'message value is null (a Kafka tombstone): no record to append' });

class MemoryDeadLetters implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  /** Calls in order, with what the table had committed at each (dead letters must come first). */
  readonly calls: { count: number; tableSnapshots: number }[] = [];
  constructor(private readonly snapshots: () => Promise<number>) {}
  async write(letters: readonly DeadLetter[]): Promise<void> {
    this.calls.push({ count: letters.length, tableSnapshots: await this.snapshots() });
    this.letters.push(...letters);
  }
}

type Row = { id: bigint; name: string | null; qty: number | null };
const sortRows = (rows: Row[]): Row[] => rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

describe('TableIngestor upsert mode', () => {
  let wh: TestWarehouse;
  const id = { namespace: ['up'], name: 'people' };
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['up']);
    await wh.catalog.createTable(id, { schema: KEYED, properties: { 'commit.retry.min-wait-ms': '1' } });
  });
  afterEach(async () => { await wh.cleanup(); });

  const rows = async (): Promise<Row[]> => sortRows((await readLiveRows(wh.catalog, id)) as Row[]);
  const snapshots = async (): Promise<number> => (await wh.catalog.loadTable(id)).metadata.snapshots.length;
  const head = async () => branchHead((await wh.catalog.loadTable(id)).metadata, 'main')!;

  test('a table without a key is refused at open, naming the fix', async () => {
    const plain = { namespace: ['up'], name: 'nokey' };
    await wh.catalog.createTable(plain, { schema: PLAIN });
    await assert.rejects(TableIngestor.open(wh.catalog, plain, { batcher: BATCHER, upsert: { format: 'plain' } }), /has no key.*floe table set-key up\.nokey/);
    await assert.rejects(TableIngestor.open(wh.catalog, id, { batcher: BATCHER, upsert: { format: 'plain' }, evolveSchema: true }), /evolveSchema cannot be combined with upsert/);
  });

  test('plain: one merge commit per batch, last change per key wins, offsets recorded, counts reported', async () => {
    const commits: { records: number; upserted?: { inserted: number; updated: number; deleted: number } }[] = [];
    const ing = await TableIngestor.open(wh.catalog, id, { batcher: BATCHER, upsert: { format: 'plain', opField: 'op' }, events: { onCommit: (i) => { commits.push(i); } } });
    ing.offer(record({ id: 1, name: 'a', qty: 1, op: 'c' }, 0, 0));
    ing.offer(record({ id: 2, name: 'b', qty: 1, op: 'insert' }, 0, 1));
    ing.offer(record({ id: 1, name: 'a2', qty: 2, op: 'U' }, 1, 0));
    await ing.flush('count');
    ing.offer(record({ id: 2, op: 'd' }, 0, 2));
    ing.offer(record({ id: 3, name: 'c', op: 'u' }, 0, 3));
    ing.offer(record({ id: 1, name: 'a3', qty: 3, op: 'u' }, 1, 1));
    await ing.close();
    assert.deepEqual(await rows(), [{ id: 1n, name: 'a3', qty: 3 }, { id: 3n, name: 'c', qty: null }]);
    assert.deepEqual(commits.map((c) => c.upserted), [{ upserted: 2, inserted: 2, updated: 0, deleted: 0 }, { upserted: 2, inserted: 1, updated: 1, deleted: 1 }]);
    assert.deepEqual(commits.map((c) => c.records), [3, 3]);
    assert.equal(await snapshots(), 2);
    assert.equal((await head()).summary[offsetsSummaryKey(SOURCE)], '{"0":4,"1":2}');
    assert.deepEqual({ ...ing.counts }, { received: 6, committed: 6, deadLettered: 0, staleDropped: 0, upserted: 4, inserted: 3, updated: 1, deleted: 1 });
  });

  test('debezium: { schema, payload } wrappers and tombstones; a batch of tombstones only still records its offsets', async () => {
    const ing = await TableIngestor.open(wh.catalog, id, { batcher: BATCHER, upsert: { format: 'debezium' } });
    const ev = (op: string, row: object | null, before: object | null, lsn: number) => ({ op, before, after: row, source: { lsn }, ts_ms: 1 });
    ing.offer(record({ schema: { type: 'struct' }, payload: ev('c', { id: 1, name: 'x', qty: 1 }, null, 10) }, 0, 0));
    ing.offer(record(ev('c', { id: 2, name: 'y', qty: 1 }, null, 11), 0, 1));
    ing.offer(tombstone(0, 2));
    ing.offer(record(ev('d', null, { id: 2 }, 12), 0, 3));
    ing.offer(tombstone(0, 4));
    ing.offer(record({ schema: null, payload: null }, 0, 5));
    await ing.flush('count');
    assert.deepEqual(await rows(), [{ id: 1n, name: 'x', qty: 1 }]);
    assert.equal((await head()).summary[offsetsSummaryKey(SOURCE)], '{"0":6}');
    ing.offer(tombstone(0, 6));
    ing.offer(tombstone(0, 7));
    await ing.close();
    assert.equal(await snapshots(), 2, 'the tombstone-only batch is an (empty) commit');
    assert.equal((await head()).summary[offsetsSummaryKey(SOURCE)], '{"0":8}');
    assert.deepEqual(await rows(), [{ id: 1n, name: 'x', qty: 1 }]);
    assert.equal(ing.counts.committed, 3, 'tombstones and Connect null payloads are not counted as changes');
  });

  test('bad records go to the dead letters before the batch commits, with reasons; the rest is merged', async () => {
    const sink = new MemoryDeadLetters(snapshots);
    const ing = await TableIngestor.open(wh.catalog, id, { batcher: BATCHER, upsert: { format: 'debezium' }, deadLetters: sink });
    ing.offer(record({ op: 'c', after: { id: 1, name: 'ok', qty: 1 }, source: { lsn: 1 } }, 0, 0));
    ing.offer(record({ op: 'c', after: { id: null, name: 'nokey' }, source: { lsn: 2 } }, 0, 1));
    ing.offer(record({ op: 'x', after: { id: 5 }, source: { lsn: 3 } }, 0, 2));
    ing.offer(record({ op: 't', source: { lsn: 4 } }, 0, 3));
    ing.offer(record({ op: 'u', after: { id: 6, qty: 'many' }, source: { lsn: 5 } }, 0, 4));
    ing.offer({ value: undefined, raw: '{"op":', bytes: 70, position: { sourceId: SOURCE, partition: 0, offset: 5n }, decodeError: 'invalid JSON: unexpected end' });
    ing.offer(record({ op: 'u', after: { id: 7, name: 'ok too' }, source: { lsn: 7 } }, 0, 6));
    await ing.close();
    assert.deepEqual(await rows(), [{ id: 1n, name: 'ok', qty: 1 }, { id: 7n, name: 'ok too', qty: null }]);
    assert.deepEqual(sink.calls, [{ count: 5, tableSnapshots: 0 }], 'one dead-letter write, before the table commit');
    const byOffset = new Map(sink.letters.map((l) => [Number(l.position!.offset), l.error]));
    assert.match(byOffset.get(1)!, /^partition 0 offset 1: .*key field 'id' is missing/);
    assert.match(byOffset.get(2)!, /unknown op "x"/);
    assert.match(byOffset.get(3)!, /truncate/);
    assert.match(byOffset.get(4)!, /field 'qty'/);
    assert.match(byOffset.get(5)!, /invalid JSON/);
    assert.equal((await head()).summary[offsetsSummaryKey(SOURCE)], '{"0":7}');
    assert.equal(ing.counts.deadLettered, 5);
    assert.equal(ing.counts.committed, 2);
  });

  test('write.upsert.enabled (equality deletes, the table is not read): rows written are counted as upserted', async () => {
    const eq = { namespace: ['up'], name: 'eq' };
    await wh.catalog.createTable(eq, { schema: KEYED, properties: { 'write.upsert.enabled': 'true' } });
    const commits: { upserted?: { upserted: number; inserted: number; updated: number; deleted: number } }[] = [];
    const ing = await TableIngestor.open(wh.catalog, eq, { batcher: BATCHER, upsert: { format: 'plain', opField: 'op' }, events: { onCommit: (i) => { commits.push(i); } } });
    ing.offer(record({ id: 1, name: 'a', op: 'c' }, 0, 0));
    ing.offer(record({ id: 2, name: 'b', op: 'c' }, 0, 1));
    await ing.flush('count');
    ing.offer(record({ id: 1, name: 'a2', op: 'u' }, 0, 2));
    ing.offer(record({ id: 2, op: 'd' }, 0, 3));
    await ing.close();
    assert.deepEqual(sortRows((await readLiveRows(wh.catalog, eq)) as Row[]), [{ id: 1n, name: 'a2', qty: null }]);
    assert.deepEqual(commits.map((c) => c.upserted), [{ upserted: 2, inserted: 0, updated: 0, deleted: 0 }, { upserted: 1, inserted: 0, updated: 0, deleted: 1 }]);
  });

  test('without a dead-letter destination a bad record fails the batch and nothing is committed', async () => {
    const ing = await TableIngestor.open(wh.catalog, id, { batcher: BATCHER, upsert: { format: 'plain' } });
    ing.offer(record({ id: 1, name: 'ok' }, 0, 0));
    ing.offer(record({ name: 'no id' }, 0, 1));
    await assert.rejects(ing.close(), /1 record\(s\) failed validation and no dead-letter destination.*key field 'id' is missing/);
    assert.equal(await snapshots(), 0);
  });

  test('a batch whose head another writer already merged is trimmed: each change applied once, in order', async () => {
    const first = await TableIngestor.open(wh.catalog, id, { batcher: BATCHER, upsert: { format: 'plain' } });
    const change = (o: number) => record({ id: o % 3, name: `v${o}`, qty: o }, 0, o);
    for (let o = 0; o < 5; o++) first.offer(change(o));
    await first.close();
    // A zombie that read the partition from offset 0 and holds changes 0..7.
    let dropped = 0;
    const zombie = await TableIngestor.open(wh.catalog, id, { batcher: BATCHER, upsert: { format: 'plain' }, events: { onStale: (i) => { dropped += i.dropped; } } });
    for (let o = 0; o < 8; o++) zombie.offer(change(o));
    await zombie.close();
    assert.equal(dropped, 5);
    assert.deepEqual(await rows(), [{ id: 0n, name: 'v6', qty: 6 }, { id: 1n, name: 'v7', qty: 7 }, { id: 2n, name: 'v5', qty: 5 }]);
    assert.equal(committedOffsets((await wh.catalog.loadTable(id)).metadata, 'main', SOURCE).get(0), 8n);
    assert.equal(zombie.counts.committed, 3);
  });

  for (const mode of ['merge-on-read', 'copy-on-write'] as const) {
    test(`property (${mode}): random plain and Debezium streams in random batches equal the last change per key (seeded)`, async () => {
      let run = 0;
      await fc.assert(fc.asyncProperty(
        fc.boolean(),
        fc.array(fc.record({ key: fc.integer({ min: 0, max: 7 }), del: fc.boolean(), qty: fc.integer({ min: -5, max: 5 }), cut: fc.boolean(), partition: fc.integer({ min: 0, max: 1 }) }), { minLength: 1, maxLength: 40 }),
        async (debezium, steps) => {
          const t = { namespace: ['up'], name: `p_${mode.replace(/-/g, '_')}_${run++}` };
          await wh.catalog.createTable(t, { schema: KEYED, properties: { 'commit.retry.min-wait-ms': '1' } });
          const ing = await TableIngestor.open(wh.catalog, t, { batcher: BATCHER, upsert: debezium ? { format: 'debezium', mode } : { format: 'plain', opField: 'op', mode } });
          const model = new Map<number, Row>();
          const next = [0, 0];
          for (let i = 0; i < steps.length; i++) {
            const s = steps[i]!;
            const row = { id: s.key, name: `k${s.key}-${i}`, qty: s.qty };
            const value = debezium
              ? { op: s.del ? 'd' : 'u', before: s.del ? { id: s.key } : null, after: s.del ? null : row, source: { lsn: i }, ts_ms: 0 }
              : s.del ? { id: s.key, op: 'd' } : { ...row, op: 'u' };
            ing.offer(record(value, s.partition, next[s.partition]!++));
            if (s.del) model.delete(s.key); else model.set(s.key, { id: BigInt(s.key), name: row.name, qty: s.qty });
            if (s.cut) await ing.flush('count');
          }
          await ing.close();
          const got = sortRows((await readLiveRows(wh.catalog, t)) as Row[]);
          assert.deepEqual(got, sortRows([...model.values()]));
          await wh.catalog.dropTable(t);
        },
      ), { seed: mode === 'merge-on-read' ? 20261127 : 7151, numRuns: 25 });
    });
  }
});
