// `floe ingest` in upsert mode on an NDJSON file (no Kafka): the table equals the last change per
// key; a rerun of the same file applies nothing again (the commits record file positions: a
// change written meanwhile by another writer is not overwritten by a replay) and a file that
// grew applies only its new lines; bad records land in the dead-letter table once, with their
// reasons, and the rest is committed; per-commit inserted/updated/deleted counts reach metrics.
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { parseIngestConfig } from '../../src/ingest/ingest-config.ts';
import { startIngest } from '../../src/ingest/ingest-runner.ts';
import { mergeRecords } from '../../src/merge/merge-records.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { schemaWithKey } from '../../src/transaction/set-table-key.ts';
import { readLiveRows } from '../support/live-table-rows.ts';
import { readTableRows } from '../support/read-table.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaWithKey(schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'name', required: false, type: 'string' },
  { name: 'seq', required: true, type: 'long' },
] }, { assignIds: true }), ['id']);
const ID = { namespace: ['up'], name: 'people' };
const DEAD = { namespace: ['up'], name: 'dead_letters' };

type Row = { id: bigint; name: string | null; seq: bigint };

/** A deterministic change stream: `count` changes over `keys` keys (linear congruential), one in
 * 6 a delete; every `badEvery`-th line a bad record of a rotating kind. */
function changes(first: number, count: number, keys: number, badEvery = 0): { lines: string[]; bad: Map<string, RegExp> } {
  const lines: string[] = [];
  const bad = new Map<string, RegExp>();
  let x = 12345 + first;
  for (let i = first; i < first + count; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const r = Math.floor(x / 65536); // an LCG's low bits repeat with short periods
    const id = r % keys;
    if (badEvery > 0 && i % badEvery === badEvery - 1) {
      const kinds: [string, RegExp][] = [
        [JSON.stringify({ op: 'u', name: 'no key', seq: i }), /^line \d+: key field 'id' is missing/],
        [JSON.stringify({ id, op: 'merge', seq: i }), /unknown op "merge"/],
        [JSON.stringify({ id, op: 'u', name: 'bad seq', seq: 'soon' }), /field 'seq'/],
        [`{"id": ${id}, "op": `, /invalid JSON/],
      ];
      const [text, reason] = kinds[(i / badEvery | 0) % kinds.length]!;
      lines.push(text);
      bad.set(text, reason);
      continue;
    }
    lines.push(JSON.stringify(Math.floor(r / keys) % 6 === 0 ? { id, op: 'd', seq: i } : { id, op: i % 2 ? 'u' : 'c', name: `n${id}@${i}`, seq: i }));
  }
  return { lines, bad };
}

/** The last change per key: what the table must hold. */
function model(lines: readonly string[]): Row[] {
  const m = new Map<number, Row>();
  for (const l of lines) {
    let v: { id?: unknown; op?: unknown; name?: unknown; seq?: unknown };
    try { v = JSON.parse(l) as typeof v; } catch { continue; }
    if (typeof v.id !== 'number' || typeof v.seq !== 'number' || !['u', 'c', 'd'].includes(String(v.op))) continue;
    if (v.op === 'd') m.delete(v.id);
    else m.set(v.id, { id: BigInt(v.id), name: String(v.name), seq: BigInt(v.seq) });
  }
  return [...m.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}

describe('ingest upsert from NDJSON', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['up']);
    await wh.catalog.createTable(ID, { schema: SCHEMA, properties: { 'commit.retry.min-wait-ms': '1' } });
  });
  afterEach(async () => { await wh.cleanup(); });

  const rows = async (): Promise<Row[]> => ((await readLiveRows(wh.catalog, ID)) as Row[]).sort((a, b) => (a.id < b.id ? -1 : 1));
  const snapshots = async (): Promise<number> => (await wh.catalog.loadTable(ID)).metadata.snapshots.length;

  async function ingest(file: string, extra: object = {}): Promise<{ metrics: string }> {
    const cfg = parseIngestConfig(JSON.stringify({
      source: { type: 'ndjson', path: file },
      routes: [{ table: 'up.people', upsert: { opField: 'op' } }],
      batch: { maxRecords: 250, windowMs: 60_000 },
      deadLetter: { table: 'up.dead_letters' },
      ...extra,
    }), 'test.json');
    const run = await startIngest(wh.catalog, cfg, { logStream: new PassThrough() });
    await run.done;
    return { metrics: await run.metrics.registry.metrics() };
  }

  for (const mode of ['merge-on-read', 'copy-on-write'] as const) {
    test(`${mode}: the table equals the last change per key; a rerun applies nothing again; a grown file applies only its new lines`, async () => {
      const file = path.join(wh.dir, 'changes.ndjson');
      const first = changes(0, 2000, 300);
      writeFileSync(file, `${first.lines.join('\n')}\n`);
      const cfg = { routes: [{ table: 'up.people', upsert: { opField: 'op', mode } }] };
      const { metrics } = await ingest(file, cfg);
      assert.deepEqual(await rows(), model(first.lines));
      assert.equal(await snapshots(), 8, '2000 lines in batches of 250: one merge commit each');
      const counted = (change: string): number => Number(new RegExp(`floe_ingest_upserted_rows_total\\{table="up\\.people",change="${change}"\\} (\\d+)`).exec(metrics)?.[1] ?? NaN);
      const live = (await rows()).length;
      assert.equal(counted('inserted') - counted('deleted'), live, 'inserted - deleted = live rows');
      assert.ok(counted('updated') > 0 && counted('deleted') > 0);

      // Another writer changes a key the file also changed: a replay would overwrite it.
      const victim = model(first.lines)[0]!;
      await mergeRecords(wh.catalog, ID, [{ id: Number(victim.id), name: 'external', seq: 1_000_000 }]);
      const before = await snapshots();
      await ingest(file, cfg);
      assert.equal(await snapshots(), before, 'a finished file commits nothing');
      const expected = model(first.lines).map((r) => (r.id === victim.id ? { ...r, name: 'external', seq: 1_000_000n } : r));
      assert.deepEqual(await rows(), expected, 'nothing from the file was applied again');

      const more = changes(2000, 600, 300);
      appendFileSync(file, `${more.lines.join('\n')}\n`);
      await ingest(file, cfg);
      const grownModel = new Map(expected.map((r) => [r.id, r]));
      for (const r of model(more.lines)) grownModel.set(r.id, r);
      const deletedLater = new Set<bigint>();
      for (const l of more.lines) { const v = JSON.parse(l) as { id: number; op: string }; if (v.op === 'd') deletedLater.add(BigInt(v.id)); else deletedLater.delete(BigInt(v.id)); }
      for (const id of deletedLater) grownModel.delete(id);
      assert.deepEqual(await rows(), [...grownModel.values()].sort((a, b) => (a.id < b.id ? -1 : 1)));
      assert.equal(await snapshots(), before + 3, '600 new lines: three more commits');
    });
  }

  test('bad records are dead-lettered once with their reasons, the rest is committed; a rerun dead-letters nothing again', async () => {
    const file = path.join(wh.dir, 'bad.ndjson');
    const input = changes(0, 1000, 120, 37);
    writeFileSync(file, `${input.lines.join('\n')}\n`);
    await ingest(file);
    assert.deepEqual(await rows(), model(input.lines));
    const dead = await readTableRows(wh.catalog, DEAD);
    const badLines = input.lines.filter((l) => input.bad.has(l)).length;
    assert.ok(badLines >= 20);
    assert.equal(dead.length, badLines);
    for (const d of dead) assert.match(String(d.error), input.bad.get(String(d.payload)) ?? /^(?!)/, String(d.payload));
    await ingest(file);
    assert.equal((await readTableRows(wh.catalog, DEAD)).length, dead.length);
  });

  test('Debezium NDJSON with { schema, payload } wrappers and null lines (tombstones)', async () => {
    const file = path.join(wh.dir, 'cdc.ndjson');
    const ev = (op: string, id: number, lsn: number, wrap: boolean) => {
      const e = { op, before: op === 'd' ? { id } : null, after: op === 'd' ? null : { id, name: `v${lsn}`, seq: lsn }, source: { lsn }, ts_ms: 1 };
      return JSON.stringify(wrap ? { schema: { type: 'struct' }, payload: e } : e);
    };
    writeFileSync(file, `${[ev('c', 1, 1, true), ev('c', 2, 2, false), 'null', ev('u', 1, 3, true), ev('d', 2, 4, false), 'null', ev('r', 3, 5, true)].join('\n')}\n`);
    await ingest(file, { routes: [{ table: 'up.people', upsert: { format: 'debezium' } }] });
    assert.deepEqual(await rows(), [{ id: 1n, name: 'v3', seq: 3n }, { id: 3n, name: 'v5', seq: 5n }]);
    assert.equal(await wh.catalog.tableExists(DEAD) ? (await readTableRows(wh.catalog, DEAD)).length : 0, 0);
  });

  test('a table without a key fails at start with the fix, before anything is created', async () => {
    await wh.catalog.createTable({ namespace: ['up'], name: 'plain' }, { schema: schemaFromJson({ type: 'struct', fields: [{ name: 'id', required: true, type: 'long' }] }, { assignIds: true }) });
    const file = path.join(wh.dir, 'x.ndjson');
    writeFileSync(file, '{"id": 1}\n');
    const cfg = parseIngestConfig(JSON.stringify({
      source: { type: 'ndjson', path: file }, routes: [{ table: 'up.plain', upsert: {} }], deadLetter: { table: 'up.dead_letters' },
    }), 'test.json');
    await assert.rejects(startIngest(wh.catalog, cfg, { logStream: new PassThrough() }), /^ValidationError: table up\.plain has no key.*'floe table set-key up\.plain COLUMNS'/);
    assert.equal(await wh.catalog.tableExists(DEAD), false);
  });
});
