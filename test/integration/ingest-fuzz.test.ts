// Fuzz: 100,000 seeded, mutated NDJSON records through the real `floe ingest` process (a table
// with every Iceberg type, nested struct/list/map, partitioned by hour and bucket). Whatever the
// mutation — wrong types, huge ints, deep nesting, odd unicode, missing or extra fields, bad
// arrays and maps, NaN-like and empty strings, numbers as strings, broken JSON — the process
// must finish with exit 0 and every line must be in the table or in the dead letters, exactly
// once. FLOE_FUZZ_SEED / FLOE_FUZZ_RECORDS replay or resize a run; a failure prints its seed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { parsePartitionExpression } from '../../src/spec/partition-spec.ts';
import { readTableColumn, readTableRows } from '../support/read-table.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';
import { seededRandom as rng } from '../../src/cli/demo.ts';
import { FUZZ_SCHEMA as SCHEMA, fuzzLine } from '../support/fuzz-lines.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SEED = Number(process.env.FLOE_FUZZ_SEED ?? 20261127);
const RECORDS = Number(process.env.FLOE_FUZZ_RECORDS ?? 100_000);

function runFloe(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/floe.js', ...args], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); if (stderr.length > 4_000_000) stderr = stderr.slice(-1_000_000); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe(`ingest fuzz (seed ${SEED}, ${RECORDS} records)`, () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse('floe-fuzz-');
    await wh.catalog.createNamespace(['fz']);
    await wh.catalog.createTable({ namespace: ['fz'], name: 'all_types' }, { schema: SCHEMA, spec: parsePartitionExpression('hour(tstz), bucket(2,id)', SCHEMA) });
  });
  afterEach(async () => { await wh.cleanup(); });

  test('every record lands in the table or the dead letters, exactly once, and the process lives', { timeout: 900_000 }, async () => {
    const r = rng(SEED);
    const lines = Array.from({ length: RECORDS }, (_, n) => fuzzLine(r, 1_000_000 + n));
    const file = path.join(wh.dir, 'fuzz.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const cfg = path.join(wh.dir, 'ingest.json');
    writeFileSync(cfg, JSON.stringify({
      source: { type: 'ndjson', path: file },
      routes: [{ table: 'fz.all_types' }],
      batch: { maxRecords: 5000, windowMs: 600_000 },
      deadLetter: { table: 'fz.dead_letters' },
    }));
    const run = await runFloe(['--warehouse', wh.dir, 'ingest', '--config', cfg]);
    assert.equal(run.code, 0, `seed ${SEED}: floe ingest exited ${run.code}:\n${run.stderr.slice(-3000)}`);

    // Expected: each non-blank line once (the source skips blank lines).
    const expected = new Map<string, number>();
    for (const l of lines) if (l.trim() !== '') expected.set(l, (expected.get(l) ?? 0) + 1);
    const total = [...expected.values()].reduce((a, b) => a + b, 0);

    const seen = new Map<string, number>();
    const count = (l: string): void => { seen.set(l, (seen.get(l) ?? 0) + 1); };
    const good = await readTableColumn(wh.catalog, { namespace: ['fz'], name: 'all_types' }, 'id');
    for (const g of good) {
      const n = Number(g) - 1_000_000;
      assert.ok(n >= 0 && n < RECORDS, `seed ${SEED}: unexpected id ${String(g)} in the table`);
      count(lines[n]!);
    }
    const dead = await readTableRows(wh.catalog, { namespace: ['fz'], name: 'dead_letters' });
    for (const d of dead) {
      const payload = String(d.payload);
      const error = String(d.error);
      assert.doesNotMatch(error, /[\r\n]/, `seed ${SEED}: a dead-letter reason spans lines: ${error}`);
      const m = /^line (\d+): field '([^']*)': ./.exec(error);
      assert.ok(m, `seed ${SEED}: a reason that does not name line and field: ${error}`);
      assert.equal(lines[Number(m[1]) - 1], payload, `seed ${SEED}: reason names line ${m[1]} for another payload`);
      count(payload);
    }
    const wrong: string[] = [];
    for (const [l, n] of expected) if (seen.get(l) !== n) wrong.push(`${seen.get(l) ?? 0}× (want ${n}): ${l.slice(0, 200)}`);
    for (const l of seen.keys()) if (!expected.has(l)) wrong.push(`not an input line: ${l.slice(0, 200)}`);
    assert.deepStrictEqual(wrong.slice(0, 10), [], `seed ${SEED}: ${wrong.length} line(s) not accounted exactly once`);
    assert.equal(good.length + dead.length, total);
    // The fuzz means something only if both outcomes are common.
    assert.ok(good.length > RECORDS * 0.25 && dead.length > RECORDS * 0.25, `seed ${SEED}: ${good.length} rows, ${dead.length} dead letters`);
    console.log(`seed ${SEED}: ${good.length} rows committed, ${dead.length} dead-lettered`);
  });
});
