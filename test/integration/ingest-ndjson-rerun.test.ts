// Rerunning `floe ingest` on a finished NDJSON file adds nothing, and the file's recorded
// position is one for both commands: `floe append` of a file `floe ingest` already took adds
// nothing either, and an ingest after an append of the same file resumes where the append
// stopped. The config is the README's NDJSON example, in YAML, with every key an NDJSON user
// sets (ingest-ndjson-restart.test.ts covers kills mid-file, a grown and a replaced file).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readTableRows } from '../support/read-table.ts';
import { REPO_ROOT } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const EVENTS = { namespace: ['shop'], name: 'orders' };

/** The README's example, with the file and table of this test. */
const readmeConfig = (file: string): string => `# floe ingest --config orders-ndjson.yaml
source:
  type: ndjson              # one JSON object per line
  path: ${file}   # relative paths are read from the working directory; "-" reads stdin (not resumable)
routes:
  - table: shop.orders      # exactly one route for a file source
    branch: main            # default main
    evolveSchema: false     # true: unknown fields become new optional columns
batch:
  maxRecords: 2             # commit every 2 records …
  maxBytes: 134217728       # … or 128 MiB of input …
  windowMs: 10000           # … or 10 s after the batch's first record, whichever comes first
deadLetter:
  table: shop.orders_rejected   # bad lines land here with the reason, the file and the byte offset
`;

const line = (id: number): string => JSON.stringify({ id, customer: `c${id % 3}`, amount: `${id}.50`, ts: `2026-03-0${1 + (id % 5)}T10:00:00Z` });

interface Run { status: number | null; stdout: string; stderr: string }
function floe(wh: TestWarehouse, ...args: string[]): Run {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'floe.js'), '--warehouse', wh.dir, ...args], { cwd: wh.dir, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('NDJSON: a repeated ingest or append of the same file adds nothing', () => {
  let wh: TestWarehouse;
  let file: string;
  let config: string;

  before(async () => {
    wh = await testWarehouse('floe-ndjson-rerun-');
    file = path.join(wh.dir, 'orders.ndjson');
    config = path.join(wh.dir, 'orders-ndjson.yaml');
    writeFileSync(path.join(wh.dir, 'schema.json'), JSON.stringify({ type: 'struct', fields: [
      { name: 'id', required: true, type: 'long' },
      { name: 'customer', required: true, type: 'string' },
      { name: 'amount', required: false, type: 'decimal(10,2)' },
      { name: 'ts', required: true, type: 'timestamptz' },
    ] }));
    for (const args of [['namespace', 'create', 'shop'], ['table', 'create', 'shop.orders', '--schema', 'schema.json', '--partition-by', 'day(ts)']]) {
      const r = floe(wh, ...args);
      assert.equal(r.status, 0, r.stderr);
    }
    writeFileSync(file, `${[1, 2, 3, 4, 5].map(line).join('\n')}\nnot json\n`);
    writeFileSync(config, readmeConfig(file));
  });
  after(async () => { await wh?.cleanup(); });

  const ids = async (): Promise<number[]> => (await readTableRows(wh.catalog, EVENTS)).map((r) => Number(r.id)).sort((a, b) => a - b);
  const snapshots = async (): Promise<number> => (await wh.catalog.loadTable(EVENTS)).metadata.snapshots.length;

  test('the first ingest takes every line; the bad one is a dead letter', async () => {
    const r = floe(wh, 'ingest', '--config', config);
    assert.equal(r.status, 0, r.stderr);
    // Decimals come back unscaled (1.50 → 150), timestamps as epoch milliseconds.
    const rows = await readTableRows(wh.catalog, EVENTS);
    assert.deepEqual(rows.map((x) => [Number(x.id), x.customer, String(x.amount), new Date(Number(x.ts)).toISOString()]).sort((a, b) => Number(a[0]) - Number(b[0])),
      [1, 2, 3, 4, 5].map((id) => [id, `c${id % 3}`, `${id}50`, `2026-03-0${1 + (id % 5)}T10:00:00.000Z`]));
    assert.equal(await snapshots(), 3, 'maxRecords 2: three commits for five records');
    const dead = await readTableRows(wh.catalog, { namespace: ['shop'], name: 'orders_rejected' });
    assert.deepEqual(dead.map((d) => d.payload), ['not json']);
  });

  test('a rerun of the same config adds nothing and says so', async () => {
    const before = await snapshots();
    const r = floe(wh, 'ingest', '--config', config);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /file already ingested up to its end: nothing to add/);
    assert.equal(await snapshots(), before);
    assert.deepEqual(await ids(), [1, 2, 3, 4, 5]);
  });

  test('floe append of the file the ingest took adds nothing', async () => {
    const before = await snapshots();
    const r = floe(wh, 'append', 'shop.orders', file);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^nothing to append: .*orders\.ndjson is already in shop\.orders \(branch main\) up to its end, recorded by snapshot \d+/);
    assert.equal(await snapshots(), before);
    assert.deepEqual(await ids(), [1, 2, 3, 4, 5]);
  });

  test('new lines: append takes only them, twice adds them once, and the ingest after it adds nothing', async () => {
    appendFileSync(file, `${[6, 7].map(line).join('\n')}\n`);
    const first = floe(wh, 'append', 'shop.orders', file);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /^appended 2 records .*\(resumed at line 7, byte \d+: the lines before were appended by snapshot \d+\)/);
    const again = floe(wh, 'append', 'shop.orders', file);
    assert.match(again.stdout, /^nothing to append: /);
    const before = await snapshots();
    const r = floe(wh, 'ingest', '--config', config);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /file already ingested up to its end: nothing to add/);
    assert.equal(await snapshots(), before);
    assert.deepEqual(await ids(), [1, 2, 3, 4, 5, 6, 7]);
  });
});
