// The ingest pipeline on an NDJSON source: good records land in the table, each bad one
// (invalid JSON, wrong type, missing required field, unknown column, oversized value) lands in
// the dead-letter table with its reason; counts match exactly; flush reasons are recorded in
// snapshot summaries and in metrics.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { parseIngestConfig } from '../../src/ingest/ingest-config.ts';
import { startIngest } from '../../src/ingest/ingest-runner.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { readTableRows } from '../support/read-table.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'ts', required: true, type: 'timestamptz' },
  { name: 'amount', required: false, type: 'decimal(6,2)' },
] }, { assignIds: true });

describe('ingest from NDJSON with dead letters', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['ing']);
    await wh.catalog.createTable({ namespace: ['ing'], name: 'events' }, { schema: SCHEMA });
  });
  afterEach(async () => { await wh.cleanup(); });

  test('a line whose bytes are not UTF-8 is a dead letter with its reason, never U+FFFD text in the table', async () => {
    const file = path.join(wh.dir, 'utf8.ndjson');
    writeFileSync(file, Buffer.concat([
      Buffer.from('{"id": 1, "ts": "2026-01-01T00:00:00Z", "amount": "1.00"}\n{"id": 2, "ts": "2026-01-01T00:00:00Z", "amount": "'),
      Buffer.from([0xc3, 0x28]), Buffer.from('"}\n{"id": 3, "ts": "2026-01-01T00:00:00Z", "amount": "3.00"}\n'),
    ]));
    const cfg = parseIngestConfig(JSON.stringify({
      source: { type: 'ndjson', path: file }, routes: [{ table: 'ing.events' }], deadLetter: { table: 'ing.dead_letters' },
    }), 'test.json');
    const run = await startIngest(wh.catalog, cfg, { logStream: new PassThrough() });
    await run.done;
    const good = await readTableRows(wh.catalog, { namespace: ['ing'], name: 'events' });
    assert.deepEqual(good.map((g) => String(g.id)).sort(), ['1', '3']);
    const dead = await readTableRows(wh.catalog, { namespace: ['ing'], name: 'dead_letters' });
    assert.equal(dead.length, 1);
    assert.match(String(dead[0]!.error), /^line 2: .*invalid UTF-8/);
  });

  test('good records committed, bad ones dead-lettered with reasons, counts exact', async () => {
    const lines: string[] = [];
    const bad = new Map<number, RegExp>();
    for (let i = 0; i < 1000; i++) {
      if (i % 20 === 7) {
        const kind = (i / 20) % 5 | 0;
        const variants: [string, RegExp][] = [
          ['{"id": 1, "ts": ', /invalid JSON/],
          [JSON.stringify({ id: 'x', ts: '2026-01-01T00:00:00Z' }), /field 'id'.*expected long/],
          [JSON.stringify({ id: i }), /field 'ts'.*required value is missing/],
          [JSON.stringify({ id: i, ts: '2026-01-01T00:00:00Z', extra: 1 }), /field 'extra'.*unknown column/],
          [JSON.stringify({ id: i, ts: '2026-01-01T00:00:00Z', amount: '123456.78' }), /field 'amount'.*does not fit/],
        ];
        lines.push(variants[kind]![0]);
        bad.set(lines.length - 1, variants[kind]![1]);
      } else {
        lines.push(JSON.stringify({ id: i, ts: `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`, amount: `${i % 100}.25` }));
      }
    }
    const file = path.join(wh.dir, 'in.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const cfg = parseIngestConfig(JSON.stringify({
      source: { type: 'ndjson', path: file },
      routes: [{ table: 'ing.events' }],
      batch: { maxRecords: 300, windowMs: 60_000 },
      deadLetter: { table: 'ing.dead_letters' },
      metrics: { port: 0 },
    }), 'test.json');
    const logs = new PassThrough();
    const logLines: string[] = [];
    logs.on('data', (d: Buffer) => logLines.push(...d.toString().split('\n').filter(Boolean)));
    const run = await startIngest(wh.catalog, cfg, { logStream: logs });
    const metricsText = await (await fetch(`http://127.0.0.1:${run.metricsPort}/metrics`)).text();
    assert.match(metricsText, /floe_ingest_records_committed_total/);
    await run.done;

    const t = await wh.catalog.loadTable({ namespace: ['ing'], name: 'events' });
    const reasons = t.metadata.snapshots.map((s) => s.summary['floe.flush-reason']);
    assert.deepStrictEqual(reasons, ['count', 'count', 'count', 'shutdown']);
    const dead = await readTableRows(wh.catalog, { namespace: ['ing'], name: 'dead_letters' });
    assert.equal(dead.length, bad.size);
    const byPayload = new Map(dead.map((d) => [String(d.payload), String(d.error)]));
    for (const [line, reason] of bad) assert.match(byPayload.get(lines[line]!) ?? '(missing)', reason, lines[line]);
    const good = await readTableRows(wh.catalog, { namespace: ['ing'], name: 'events' });
    assert.equal(good.length, 1000 - bad.size);
    assert.equal(new Set(good.map((g) => String(g.id))).size, 1000 - bad.size);
    const committed = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'batch committed');
    assert.equal(committed.reduce((s, l) => s + Number(l.records), 0), 1000 - bad.size);
    assert.equal(committed.reduce((s, l) => s + Number(l.deadLetters), 0), bad.size);
  });
});
