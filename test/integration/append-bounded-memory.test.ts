// `floe append` of a ~300 MB NDJSON file (the real process): its peak RSS grows by far less
// than the input over the same process appending a tiny file — the input is streamed into
// rolling data files, never held whole (before, 300 MB took 1.1 GiB). The benchmark
// (npm run bench:append-memory) shows the same up to 2 GB.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EVENTS_SCHEMA_JSON } from '../support/datagen.ts';
import { eventLine, runMeasured, writeEventsNdjson } from '../support/ndjson-input.ts';
import { REPO_ROOT } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const INPUT_BYTES = Number(process.env.FLOE_APPEND_MEMORY_TEST_BYTES ?? 300e6);
/** Growth allowed over the bare append: about 60% of the input; before the fix it grew by ~975 MiB. */
const GROWTH_BOUND = 176 * 1024 ** 2;
const mib = (n: number): string => (n / 1024 ** 2).toFixed(0);

describe('floe append streams large input with bounded memory', () => {
  let wh: TestWarehouse;
  const floe = (...a: string[]) => runMeasured(process.execPath, [path.join(REPO_ROOT, 'bin', 'floe.js'), '--warehouse', wh.dir, ...a]);
  before(async () => {
    wh = await testWarehouse('floe-append-memory-');
    writeFileSync(path.join(wh.dir, 'schema.json'), JSON.stringify(EVENTS_SCHEMA_JSON));
    assert.equal((await floe('namespace', 'create', 'mem')).code, 0);
    for (const t of ['small', 'big']) assert.equal((await floe('table', 'create', `mem.${t}`, '--schema', path.join(wh.dir, 'schema.json'))).code, 0);
  });
  after(async () => { await wh?.cleanup(); });

  test(`peak RSS grows by less than ${mib(GROWTH_BOUND)} MiB for ~${Math.round(INPUT_BYTES / 1e6)} MB of input`, async () => {
    const small = path.join(wh.dir, 'small.ndjson');
    writeFileSync(small, `${Array.from({ length: 100 }, (_, i) => eventLine(i)).join('\n')}\n`);
    const base = await floe('append', 'mem.small', small);
    assert.equal(base.code, 0, base.stderr);

    const big = path.join(wh.dir, 'big.ndjson');
    const gen = await writeEventsNdjson(big, INPUT_BYTES);
    const r = await floe('append', 'mem.big', big);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^appended ${gen.lines} records in \\d+ file`));
    const growth = r.peakRssBytes - base.peakRssBytes;
    console.log(`# ${mib(gen.bytes)} MiB input (${gen.lines} records) in ${(r.wallMs / 1000).toFixed(1)} s: peak RSS ${mib(r.peakRssBytes)} MiB, tiny append ${mib(base.peakRssBytes)} MiB, growth ${mib(growth)} MiB`);
    assert.ok(growth < GROWTH_BOUND, `peak RSS grew by ${mib(growth)} MiB (bound ${mib(GROWTH_BOUND)} MiB) for ${mib(gen.bytes)} MiB of input`);

    const snap = (await wh.catalog.loadTable({ namespace: ['mem'], name: 'big' })).metadata.snapshots.at(-1)!;
    assert.equal(snap.summary['added-records'], String(gen.lines));
  });
});
