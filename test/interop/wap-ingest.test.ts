// Write-audit-publish ingest, proven by real readers: every batch is staged on the audit
// branch, audited with six kinds of checks, then published to main or quarantined. While a
// batch is staged, pyiceberg, DuckDB and Spark reading main never see it (and the branch's
// snapshot shows it); after the gate main holds exactly the published batches, each failed
// batch waits on its own quarantine branch, and every record is in exactly one of the two.
// A restart resumes after the last batch — quarantined ones included — and a batch staged by
// a process that died before its audit is gated when the pipeline starts again.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseIngestConfig } from '../../src/ingest/ingest-config.ts';
import { kafkaSourceId } from '../../src/ingest/source-offsets.ts';
import { TableIngestor, type SourceRecord } from '../../src/ingest/table-ingestor.ts';
import { wapBatchOptions } from '../../src/ingest/wap-route.ts';
import type { WapGateResult } from '../../src/ingest/wap-batches.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { MAIN_BRANCH } from '../../src/spec/table-metadata.ts';
import { divergence } from '../../src/table/ref-lineage.ts';
import { canonicalRows, normalizeRows } from '../support/canonical.ts';
import { ALL_READERS, ReaderServer, readersUnavailable, type ReaderName } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'name', required: false, type: 'string' },
    { name: 'status', required: false, type: 'string' },
    { name: 'amount', required: false, type: 'double' },
    { name: 'ts', required: false, type: 'timestamptz' },
  ],
}, { assignIds: true });
const ID = { namespace: ['wap'], name: 'orders' };
const SOURCE = kafkaSourceId('g', 'orders');
const NOW_MS = Date.UTC(2026, 11, 1, 12, 0, 0);
const MAIN_READERS: readonly ReaderName[] = ['pyiceberg', 'duckdb', 'spark'];
const BY_NAME_READERS: readonly ReaderName[] = ALL_READERS.filter((r) => r === 'spark' || r === 'trino');

const CHECKS = `
checks:
  - type: not_null
    columns: [name]
  - type: unique
    columns: [id]
    scope: branch
  - type: accepted_values
    column: status
    values: [new, paid, shipped]
  - type: range
    column: amount
    min: 0
    max: 10000
  - type: row_count
    min: 1
    max: 50
  - type: freshness
    column: ts
    max_age: 1h
  - type: sql
    name: no-poison
    sql: SELECT * FROM rows WHERE name = 'poison'
`;

interface Row { id: bigint; name: string | null; status: string; amount: number; ts: bigint }

let nextId = 0;
function rows(n: number, tweak: (r: Row, i: number) => Row = (r) => r): Row[] {
  return Array.from({ length: n }, (_, i) => tweak({ id: BigInt(nextId++), name: `n${nextId}`, status: 'new', amount: 10 + i, ts: BigInt(NOW_MS - 60_000) * 1000n }, i));
}

/** The batches in source order, each with whether its audit must pass and which check fails. */
function batches(): { rows: Row[]; pass: boolean; failing?: string }[] {
  return [
    { rows: rows(20), pass: true },
    { rows: rows(10, (r, i) => (i === 3 ? { ...r, name: null } : r)), pass: false, failing: 'not_null' },
    { rows: rows(15), pass: true },
    { rows: rows(8, (r, i) => (i === 2 ? { ...r, id: 0n } : r)), pass: false, failing: 'unique' }, // id 0 is on main already
    { rows: rows(12, (r, i) => (i === 0 ? { ...r, status: 'lost' } : r)), pass: false, failing: 'accepted_values' },
    { rows: rows(9, (r, i) => (i === 8 ? { ...r, amount: -1 } : r)), pass: false, failing: 'range' },
    { rows: rows(60), pass: false, failing: 'row_count' },
    { rows: rows(7, (r) => ({ ...r, ts: BigInt(NOW_MS - 3 * 3_600_000) * 1000n })), pass: false, failing: 'freshness' },
    { rows: rows(6, (r, i) => (i === 5 ? { ...r, name: 'poison' } : r)), pass: false, failing: 'no-poison' },
    { rows: rows(11), pass: true },
  ];
}

describe('write-audit-publish ingest', { skip: readersUnavailable() }, () => {
  let wh: TestWarehouse;
  let readers: ReaderServer;
  let dir: string;
  let checksFile: string;
  let offset = 0n;
  const published: Row[] = [];
  const quarantined = new Map<string, Row[]>();

  before(async () => {
    wh = await testWarehouse();
    readers = new ReaderServer();
    dir = await mkdtemp(path.join(tmpdir(), 'floe-wap-'));
    checksFile = path.join(dir, 'checks.yaml');
    await writeFile(checksFile, CHECKS);
    await wh.catalog.createNamespace(['wap']);
    await wh.catalog.createTable(ID, { schema: SCHEMA });
  });
  after(async () => {
    await readers?.close();
    await wh?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const expected = (list: readonly Row[]): Record<string, unknown>[] => canonicalRows(SCHEMA, list as unknown as Record<string, unknown>[]);
  const read = async (reader: ReaderName, snapshotId?: bigint): Promise<Record<string, unknown>[]> =>
    normalizeRows(SCHEMA, (await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'wap.orders', ...(snapshotId !== undefined ? { snapshotId } : {}) })).rows);

  const toRecord = (r: Row, i: number, n: number): SourceRecord => {
    const value = { id: r.id, name: r.name, status: r.status, amount: r.amount, ts: new Date(Number(r.ts / 1000n)).toISOString() };
    const raw = JSON.stringify({ ...value, id: String(r.id) });
    const o = offset + BigInt(i);
    void n;
    return { value, raw, bytes: raw.length, position: { sourceId: SOURCE, partition: 0, offset: o } };
  };

  async function open(gateFails = false, events: Partial<{ staged: () => Promise<void>; gated: (r: WapGateResult) => void }> = {}): Promise<TableIngestor> {
    const cfg = parseIngestConfig(JSON.stringify({
      source: { type: 'kafka', brokers: ['unused:9092'], groupId: 'g' },
      routes: [{ topic: 'orders', table: 'wap.orders', wap: { branch: 'audit', checks: checksFile, publish: 'every-batch' } }],
    }), path.join(dir, 'pipeline.json'));
    const wap = await wapBatchOptions(wh.catalog, ID, cfg.routes[0]!.wap!, { nowMs: () => NOW_MS });
    return TableIngestor.open(wh.catalog, ID, {
      batcher: { windowMs: 3_600_000, maxRecords: 1_000_000, maxBytes: 1 << 30, bufferLimitBytes: 1 << 30 },
      wap: gateFails ? { ...wap, gate: () => Promise.reject(new Error('simulated crash before the audit')) } : wap,
      events: {
        onStaged: async () => { await events.staged?.(); },
        onWap: (r) => { events.gated?.(r); },
      },
    });
  }

  test('readers of main never see a staged or failed batch; each failing check quarantines only its batch', async () => {
    let current: { rows: Row[]; pass: boolean; failing?: string } | undefined;
    const gates: WapGateResult[] = [];
    const ing = await open(false, {
      staged: async () => {
        const m = (await wh.catalog.loadTable(ID)).metadata;
        const head = m.refs.audit!.snapshotId;
        assert.equal(divergence(m, head).branchOnly.length, 1, 'the branch holds exactly the staged batch');
        for (const reader of MAIN_READERS) assert.deepStrictEqual(await read(reader), expected(published), `${reader} reading main while a batch is staged`);
        for (const reader of ['pyiceberg', 'duckdb'] as const) {
          assert.deepStrictEqual(await read(reader, head), expected([...published, ...current!.rows]), `${reader} reading the audit branch's head`);
        }
        // Spark and Trino read the branch by name (VERSION AS OF 'audit').
        for (const reader of BY_NAME_READERS) {
          const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'wap.orders', ref: 'audit' });
          assert.deepStrictEqual(normalizeRows(SCHEMA, res.rows), expected([...published, ...current!.rows]), `${reader} reading the audit branch by name`);
        }
      },
      gated: (r) => { gates.push(r); },
    });
    const all = batches();
    for (const b of all) {
      current = b;
      b.rows.forEach((r, i) => { ing.offer(toRecord(r, i, b.rows.length)); });
      await ing.flush('count');
      offset += BigInt(b.rows.length);
      const gate = gates.at(-1)!;
      if (b.pass) {
        assert.equal(gate.outcome, 'published', `a clean batch is published: ${gate.failedChecks.join(', ')}`);
        published.push(...b.rows);
      } else {
        assert.equal(gate.outcome, 'quarantined', `the batch failing ${b.failing} is quarantined`);
        assert.equal(gate.failedChecks.length, 1, `only ${b.failing} fails: ${gate.failedChecks.join(', ')}`);
        assert.match(gate.failedChecks[0]!, new RegExp(b.failing!));
        quarantined.set(gate.quarantineBranch!, b.rows);
      }
      for (const reader of MAIN_READERS) assert.deepStrictEqual(await read(reader), expected(published), `${reader} reading main after the gate`);
    }
    await ing.close();
    assert.equal(gates.length, all.length);
    assert.equal(quarantined.size, 7);
  });

  test('every record is on main or on exactly one quarantine branch, with the audit report kept', async () => {
    const m = (await wh.catalog.loadTable(ID)).metadata;
    const seen = new Map<bigint, number>();
    for (const r of published) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
    for (const [name, list] of quarantined) {
      const ref = m.refs[name];
      assert.ok(ref, `quarantine branch ${name} exists`);
      const own = divergence(m, ref.snapshotId).branchOnly;
      assert.equal(own.length, 1, `${name} holds one batch over main`);
      const fork = divergence(m, ref.snapshotId).forkPoint?.snapshotId;
      const base = fork === undefined ? [] : await read('duckdb', fork);
      const atHead = await read('duckdb', ref.snapshotId);
      const baseKeys = new Set(base.map((r) => JSON.stringify(r)));
      assert.deepStrictEqual(atHead.filter((r) => !baseKeys.has(JSON.stringify(r))), expected(list), `${name} holds its batch's rows`);
      const report = m.properties[`floe.wap.audit.${name}`];
      assert.ok(report && JSON.parse(report).status === 'quarantined', `${name} keeps its audit report`);
      for (const r of list) if (r.id !== 0n) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
    }
    assert.equal(m.refs.main!.snapshotId, m.refs.audit?.snapshotId ?? m.refs.main!.snapshotId, 'the audit branch is at main after a publish');
    for (const [id, n] of seen) assert.equal(n, 1, `record ${id} is in exactly one place`);
    // One generated id was replaced by the duplicate 0 of the `unique` batch.
    assert.equal(seen.size, nextId - 1, 'no record is missing');
  });

  test('a restart resumes after the last batch, quarantined ones included', async () => {
    const ing = await open();
    assert.deepStrictEqual(await ing.committedOffsets(SOURCE), new Map([[0, offset]]));
    await ing.close();
  });

  test('a batch staged by a process that died before its audit is gated when the pipeline starts again', async () => {
    const crashed = await open(true);
    const b = rows(5);
    b.forEach((r, i) => { crashed.offer(toRecord(r, i, b.length)); });
    await assert.rejects(crashed.flush('count'), /simulated crash/);
    offset += BigInt(b.length);
    for (const reader of MAIN_READERS) assert.deepStrictEqual(await read(reader), expected(published), `${reader}: main does not show the unaudited batch`);
    const gates: WapGateResult[] = [];
    const restarted = await open(false, { gated: (r) => { gates.push(r); } });
    assert.deepStrictEqual(gates.map((g) => g.outcome), ['published']);
    published.push(...b);
    for (const reader of MAIN_READERS) assert.deepStrictEqual(await read(reader), expected(published), `${reader} after the recovery`);
    assert.deepStrictEqual(await restarted.committedOffsets(SOURCE), new Map([[0, offset]]));
    const m = (await wh.catalog.loadTable(ID)).metadata;
    assert.ok(m.refs[MAIN_BRANCH]);
  });
});
