// `floe append` streams its input into rolling files and records the file's position: a rerun
// adds nothing, a grown file adds only its new lines, a replaced file is refused unless
// --allow-duplicate, rolled files hold every value exactly once with exact metrics, and a bad
// record after several rolled files leaves no file and no snapshot.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openCatalog } from '../../../catalog/index.ts';
import { runCli } from '../../../src/cli/main.ts';
import { pathToUri } from '../../../src/io/local-file-io.ts';
import { EntryStatus } from '../../../src/spec/data-file.ts';
import { decodeSingleValue } from '../../../src/spec/single-value.ts';
import { branchHead } from '../../../src/spec/table-metadata.ts';
import type { Catalog } from '../../../src/table/catalog.ts';
import { manifestEntries, snapshotManifests } from '../../../src/transaction/table-manifests.ts';
import { readTableRows } from '../../support/read-table.ts';

for (const k of ['FLOE_WAREHOUSE', 'FLOE_CATALOG', 'FLOE_CATALOG_NAME']) delete process.env[k];

const SCHEMA = {
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'kind', required: true, type: 'string' },
    { name: 'payload', required: false, type: 'string' },
  ],
};
const ID = { namespace: ['db'], name: 'events' };
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function lines(from: number, to: number): string {
  const out: string[] = [];
  for (let i = from; i < to; i++) out.push(JSON.stringify({ id: i, kind: ['a', 'b', 'c'][i % 3], payload: i % 5 === 0 ? null : `p${i}-${(i * 2654435761) % 1000003}` }));
  return `${out.join('\n')}\n`;
}

interface Ctx { dir: string; floe(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }>; withCatalog<T>(fn: (c: Catalog) => Promise<T>): Promise<T> }

async function withTable(props: string[], fn: (c: Ctx) => Promise<void>, partitionBy?: string): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-append-stream-'));
  const ctx: Ctx = {
    dir,
    async floe(...args) {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(['--warehouse', dir, ...args], {
        openCatalog: (o) => openCatalog({ warehouse: o.warehouse, name: o.name }), stdout: (l) => out.push(l), stderr: (l) => err.push(l),
      });
      return { code, out, err };
    },
    async withCatalog(fn) {
      const c = await openCatalog({ warehouse: dir });
      try { return await fn(c); } finally { await c.close(); }
    },
  };
  try {
    writeFileSync(path.join(dir, 'schema.json'), JSON.stringify(SCHEMA));
    assert.equal((await ctx.floe('namespace', 'create', 'db')).code, 0);
    const r = await ctx.floe('table', 'create', 'db.events', '--schema', path.join(dir, 'schema.json'), ...props.flatMap((p) => ['--property', p]), ...(partitionBy ? ['--partition-by', partitionBy] : []));
    assert.equal(r.code, 0, r.err.join('\n'));
    await fn(ctx);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ids = (rows: Record<string, unknown>[]): number[] => rows.map((r) => Number(r.id)).sort((a, b) => a - b);
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

describe('floe append: recorded file position', () => {
  test('a rerun adds nothing; a grown file adds only its new lines; the summary holds the position', () => withTable([], async (c) => {
    const file = path.join(c.dir, 'in.ndjson');
    writeFileSync(file, lines(0, 500));
    const first = await c.floe('append', 'db.events', file);
    assert.equal(first.code, 0, first.err.join('\n'));
    assert.match(first.out[0]!, /^appended 500 records in 1 file\(s\) to db\.events \(branch main\): snapshot (\d+), sequence 1$/);
    const uri = pathToUri(realpathSync(file));
    const snap = await c.withCatalog(async (cat) => branchHead((await cat.loadTable(ID)).metadata, 'main')!);
    assert.equal(snap.summary[`floe.offsets.${uri}`], `{"0":${statSync(file).size}}`);
    const identity = JSON.parse(snap.summary[`floe.source-file.${uri}`]!) as Record<string, unknown>;
    assert.equal(identity['next-line'], 501);
    assert.equal(identity['head-bytes'], Math.min(65536, statSync(file).size));

    const again = await c.floe('append', 'db.events', file);
    assert.deepEqual(again, { code: 0, out: [`nothing to append: ${file} is already in db.events (branch main) up to its end, recorded by snapshot ${snap.snapshotId}; --allow-duplicate appends it again`], err: [] });

    appendFileSync(file, lines(500, 730));
    const grown = await c.floe('append', 'db.events', file);
    assert.match(grown.out[0]!, /^appended 230 records in 1 file\(s\) .* \(resumed at line 501, byte \d+: the lines before were appended by snapshot \d+\)$/);
    await c.withCatalog(async (cat) => {
      assert.deepEqual(ids(await readTableRows(cat, ID)), range(0, 730));
      assert.equal((await cat.loadTable(ID)).metadata.snapshots.length, 2);
    });
  }));

  test('a replaced file is refused; --allow-duplicate appends it and records it as the file at that path', () => withTable([], async (c) => {
    const file = path.join(c.dir, 'in.ndjson');
    writeFileSync(file, lines(0, 300));
    assert.equal((await c.floe('append', 'db.events', file)).code, 0);
    writeFileSync(`${file}.tmp`, lines(1000, 1600));
    renameSync(`${file}.tmp`, file);
    const refused = await c.floe('append', 'db.events', file);
    assert.equal(refused.code, 1);
    assert.equal(refused.err.length, 1);
    assert.match(refused.err[0]!, /^floe: .*in\.ndjson is not the file recorded at this path in snapshot \d+ \(its first \d+ bytes differ\): .*nothing was appended \(--allow-duplicate appends it from its start\)$/);
    const forced = await c.floe('append', 'db.events', file, '--allow-duplicate');
    assert.match(forced.out[0]!, /^appended 600 records/);
    assert.match((await c.floe('append', 'db.events', file)).out[0]!, /^nothing to append: .* is already in db\.events/);
    // --allow-duplicate on a finished file appends it again: that is what it is for.
    assert.match((await c.floe('append', 'db.events', file, '--allow-duplicate')).out[0]!, /^appended 600 records/);
    await c.withCatalog(async (cat) => {
      assert.deepEqual(ids(await readTableRows(cat, ID)), [...range(0, 300), ...range(1000, 1600), ...range(1000, 1600)].sort((a, b) => a - b));
    });
  }));
});

describe('floe append: stdin', () => {
  test('stdin is appended with a note that it cannot be resumed; a rerun appends again', () => withTable([], async (c) => {
    const run = () => spawnSync(process.execPath, [path.join(REPO, 'bin', 'floe.js'), '--warehouse', c.dir, 'append', 'db.events', '-'], { input: lines(0, 50), encoding: 'utf8' });
    for (let i = 0; i < 2; i++) {
      const r = run();
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^appended 50 records in 1 file\(s\)/);
      assert.match(r.stderr, /^note: stdin cannot be resumed .* rerunning this append adds its records again\n$/);
    }
    await c.withCatalog(async (cat) => assert.equal((await readTableRows(cat, ID)).length, 100));
  }));
});

describe('floe append: rolling files', () => {
  test('files rolled near write.target-file-size-bytes per partition; every value once; exact counts and bounds', () => withTable(['write.target-file-size-bytes=65536'], async (c) => {
    const file = path.join(c.dir, 'big.ndjson');
    writeFileSync(file, lines(0, 60_000));
    const r = await c.floe('append', 'db.events', file);
    assert.equal(r.code, 0, r.err.join('\n'));
    await c.withCatalog(async (cat) => {
      const rows = await readTableRows(cat, ID);
      assert.deepEqual(ids(rows), range(0, 60_000));
      for (const row of rows.slice(0, 2000)) {
        const i = Number(row.id);
        assert.equal(row.kind, ['a', 'b', 'c'][i % 3]);
        assert.equal(row.payload, i % 5 === 0 ? null : `p${i}-${(i * 2654435761) % 1000003}`);
      }
      const t = await cat.loadTable(ID);
      const entries = [];
      for (const m of await snapshotManifests(cat.io, branchHead(t.metadata, 'main'))) entries.push(...(await manifestEntries(cat.io, m)).filter((e) => e.status !== EntryStatus.Deleted));
      const sizes = entries.map((e) => Number(e.dataFile.fileSizeInBytes));
      const perPartition = new Map<string, number>();
      for (const e of entries) perPartition.set(String(e.dataFile.partition[0]), (perPartition.get(String(e.dataFile.partition[0])) ?? 0) + 1);
      assert.deepEqual([...perPartition.keys()].sort(), ['a', 'b', 'c']);
      assert.ok([...perPartition.values()].every((n) => n >= 2), `rolled in every partition: ${[...perPartition]}`);
      // None overshoots the target by more than the encoder's lag (the first file is small: its
      // compression ratio is assumed, later ones use the measured one).
      assert.ok(sizes.every((s) => s <= 65536 * 1.2), `sizes ${sizes.join(',')}`);
      const idField = 1;
      let total = 0n;
      for (const e of entries) {
        const f = e.dataFile;
        assert.equal(statSync(new URL(f.filePath)).size, Number(f.fileSizeInBytes));
        const fileIds = (await readFileIds(cat, f.filePath));
        assert.equal(BigInt(fileIds.length), f.recordCount);
        assert.equal(f.valueCounts?.get(idField), f.recordCount);
        assert.equal(decodeSingleValue({ kind: 'long' }, f.lowerBounds!.get(idField)!), BigInt(Math.min(...fileIds)));
        assert.equal(decodeSingleValue({ kind: 'long' }, f.upperBounds!.get(idField)!), BigInt(Math.max(...fileIds)));
        const payloadNulls = fileIds.filter((i) => i % 5 === 0).length;
        assert.equal(f.nullValueCounts?.get(3), BigInt(payloadNulls));
        total += f.recordCount;
      }
      assert.equal(total, 60_000n);
    });
  }, 'kind'));

  test('a bad record after several rolled files: nothing committed, no data file left', () => withTable(['write.target-file-size-bytes=32768'], async (c) => {
    const file = path.join(c.dir, 'bad.ndjson');
    writeFileSync(file, `${lines(0, 40_000)}{"id": "oops", "kind": "a"}\n${lines(40_000, 40_010)}`);
    const r = await c.floe('append', 'db.events', file);
    assert.equal(r.code, 1);
    assert.equal(r.err.length, 1);
    assert.match(r.err[0]!, /^floe: .*bad\.ndjson line 40001: field 'id': expected long .*"oops"; nothing was committed$/);
    const dataDir = path.join(c.dir, 'db', 'events', 'data');
    const left = (() => { try { return readdirSync(dataDir, { recursive: true }).filter((f) => String(f).endsWith('.parquet') || String(f).includes('tmp')); } catch { return []; } })();
    assert.deepEqual(left, []);
    await c.withCatalog(async (cat) => assert.equal((await cat.loadTable(ID)).metadata.snapshots.length, 0));
    // Invalid JSON late in the input is refused the same way.
    writeFileSync(file, `${lines(0, 40_000)}{"id": 1,\n`);
    const j = await c.floe('append', 'db.events', file);
    assert.match(j.err[0]!, /bad\.ndjson line 40001: invalid JSON/);
    assert.deepEqual((() => { try { return readdirSync(dataDir, { recursive: true }).filter((f) => String(f).endsWith('.parquet')); } catch { return []; } })(), []);
    // Bytes that are not UTF-8 are refused, not stored as U+FFFD text.
    writeFileSync(file, Buffer.concat([Buffer.from(lines(0, 10)), Buffer.from('{"id": 11, "kind": "'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]));
    const u = await c.floe('append', 'db.events', file);
    assert.equal(u.code, 1);
    assert.match(u.err[0]!, /bad\.ndjson line 11: invalid UTF-8/);
    await c.withCatalog(async (cat) => assert.equal((await cat.loadTable(ID)).metadata.snapshots.length, 0));
  }, 'kind'));
});

async function readFileIds(cat: Catalog, uri: string): Promise<number[]> {
  const arrow = await import('apache-arrow');
  const parquet = await import('parquet-wasm');
  const t = arrow.tableFromIPC(parquet.readParquet(await cat.io.read(uri)).intoIPCStream());
  return [...t.getChild('id')!].map((v) => Number(v));
}
