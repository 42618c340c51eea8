// The floe command in-process (runCli with collected output) against a temp warehouse: the
// happy path, one-line errors with exit code 1, and proof that a failed append leaves the
// table untouched (no snapshot, no data file). One test runs the real bin/floe.js.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCatalog } from '../../../catalog/index.ts';
import { expireSnapshots } from '../../../compaction/expire-snapshots.ts';
import { removeOrphanFiles } from '../../../compaction/remove-orphans.ts';
import { rewriteManifests } from '../../../compaction/rewrite-manifests.ts';
import { startCompaction } from '../../../compaction/compaction-service.ts';
import { parseSize, runCli } from '../../../src/cli/main.ts';
import { pathToUri } from '../../../src/io/local-file-io.ts';
import type { TableMetadata } from '../../../src/spec/table-metadata.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// The CLI reads these as defaults; a developer's shell must not redirect the tests.
for (const k of ['FLOE_WAREHOUSE', 'FLOE_CATALOG', 'FLOE_CATALOG_NAME']) delete process.env[k];

const SCHEMA = {
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'ts', required: true, type: 'timestamptz' },
    { name: 'region', required: false, type: 'string' },
    { name: 'amount', required: false, type: 'decimal(10,2)' },
  ],
};

const ndjson = (...lines: string[]): string => `${lines.join('\n')}\n`;
const GOOD_3 = ndjson(
  '{"id": 1, "ts": "2026-01-01T10:00:00Z", "region": "eu", "amount": "12.30"}',
  '{"id": 2, "ts": "2026-01-02T11:00:00Z", "region": "eu", "amount": "1.00"}',
  '',
  '{"id": 3, "ts": "2026-01-01T12:00:00Z", "region": "eu"}',
);
const GOOD_2 = ndjson(
  '{"id": 4, "ts": "2026-01-03T10:00:00Z", "region": "us", "amount": null}',
  '{"id": "9007199254740993", "ts": "2026-01-03T10:00:00Z", "region": "us"}',
);

interface Run { code: number; out: string[]; err: string[] }

interface Warehouse {
  dir: string;
  floe(...args: string[]): Promise<Run>;
  file(name: string, text: string): Promise<string>;
  metadata(): Promise<TableMetadata>;
  dataFiles(): Promise<string[]>;
  metadataFiles(): Promise<string[]>;
}

async function listFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name)).sort();
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw err;
  }
}

async function withWarehouse(fn: (w: Warehouse) => Promise<void>, opts: { table?: boolean } = {}): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'floe-cli-'));
  const w: Warehouse = {
    dir,
    async floe(...args) {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(['--warehouse', dir, ...args], {
        openCatalog: (o) => openCatalog({ warehouse: o.warehouse, name: o.name, ...(o.uri ? { uri: o.uri } : {}) }),
        stdout: (l) => out.push(l),
        stderr: (l) => err.push(l),
      });
      return { code, out, err };
    },
    async file(name, text) {
      const p = path.join(dir, name);
      await writeFile(p, text);
      return p;
    },
    async metadata() {
      const c = await openCatalog({ warehouse: dir });
      try {
        return (await c.loadTable({ namespace: ['db'], name: 'events' })).metadata;
      } finally {
        await c.close();
      }
    },
    dataFiles: () => listFiles(path.join(dir, 'db', 'events', 'data')),
    metadataFiles: () => listFiles(path.join(dir, 'db', 'events', 'metadata')),
  };
  try {
    if (opts.table ?? true) {
      assert.deepEqual(await w.floe('namespace', 'create', 'db'), { code: 0, out: ['created namespace db'], err: [] });
      const schema = await w.file('schema.json', JSON.stringify(SCHEMA));
      const r = await w.floe('table', 'create', 'db.events', '--schema', schema, '--partition-by', 'day(ts),region',
        '--property', 'commit.retry.num-retries=9', '--property', 'owner=team=a');
      assert.deepEqual(r, { code: 0, out: [`created table db.events at ${pathToUri(dir)}/db/events`], err: [] });
    }
    await fn(w);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A failing run: exit 1, exactly one stderr line `floe: …` matching every pattern, no stdout. */
function assertOneLineError(r: Run, ...patterns: RegExp[]): void {
  assert.equal(r.code, 1, `exit code; stderr: ${r.err.join(' | ')}`);
  assert.equal(r.err.length, 1, `one stderr line, got ${JSON.stringify(r.err)}`);
  const line = r.err[0]!;
  assert.ok(line.startsWith('floe: '), line);
  assert.ok(!line.includes('\n'), `single line: ${line}`);
  assert.ok(!/\bat .*\.ts:\d+/.test(line), `no stack: ${line}`);
  for (const p of patterns) assert.match(line, p);
  assert.deepEqual(r.out, []);
}

describe('floe CLI', () => {
  test('namespace create (with --property) and list', () => withWarehouse(async (w) => {
    assert.deepEqual(await w.floe('namespace', 'create', 'db', '--property', 'owner=me', '--property', 'team=data'),
      { code: 0, out: ['created namespace db'], err: [] });
    assert.deepEqual(await w.floe('namespace', 'create', 'db.sub'), { code: 0, out: ['created namespace db.sub'], err: [] });
    assert.deepEqual(await w.floe('namespace', 'create', 'alpha'), { code: 0, out: ['created namespace alpha'], err: [] });
    assert.deepEqual(await w.floe('namespace', 'list'), { code: 0, out: ['alpha', 'db'], err: [] });
    assert.deepEqual(await w.floe('namespace', 'list', 'db'), { code: 0, out: ['db.sub'], err: [] });
    const c = await openCatalog({ warehouse: w.dir });
    try {
      assert.deepEqual(await c.loadNamespaceProperties(['db']), { exists: 'true', owner: 'me', team: 'data' });
    } finally {
      await c.close();
    }
    assertOneLineError(await w.floe('namespace', 'create', 'db'), /^floe: namespace 'db' already exists$/);
    assertOneLineError(await w.floe('namespace', 'drop', 'db'), /^floe: namespace 'db' is not empty/);
    assert.deepEqual(await w.floe('namespace', 'drop', 'alpha'), { code: 0, out: ['dropped namespace alpha'], err: [] });
    assert.deepEqual((await w.floe('namespace', 'list')).out, ['db']);
  }, { table: false }));

  test('table create from a schema file with --partition-by and --property', () => withWarehouse(async (w) => {
    const m = await w.metadata();
    assert.equal(m.location, `${pathToUri(w.dir)}/db/events`);
    assert.deepEqual(m.properties, { 'commit.retry.num-retries': '9', owner: 'team=a' });
    assert.deepEqual(m.schemas[0]!.fields.map((f) => [f.id, f.name, f.required]), [[1, 'id', true], [2, 'ts', true], [3, 'region', false], [4, 'amount', false]]);
    assert.deepEqual(m.specs[0]!.fields, [
      { sourceId: 2, fieldId: 1000, name: 'ts_day', transform: { kind: 'day' } },
      { sourceId: 3, fieldId: 1001, name: 'region', transform: { kind: 'identity' } },
    ]);
    assert.equal(m.lastPartitionId, 1001);
    assert.equal(m.snapshots.length, 0);
    assert.equal((await w.metadataFiles()).length, 1);
    assert.deepEqual(await w.floe('table', 'list', 'db'), { code: 0, out: ['db.events'], err: [] });
    assertOneLineError(await w.floe('table', 'create', 'db.events', '--schema', path.join(w.dir, 'schema.json')), /^floe: table 'db\.events' already exists$/);
  }));

  test('describe masks secrets stored as table properties (s3.secret-access-key, tokens, passwords)', () => withWarehouse(async (w) => {
    await w.floe('table', 'create', 'db.secrets', '--schema', path.join(w.dir, 'schema.json'),
      '--property', 's3.secret-access-key=hunter2-secret', '--property', 'my.api.token=tok-123', '--property', 'owner=team=a');
    const d = await w.floe('describe', 'db.secrets');
    assert.equal(d.code, 0, d.err.join('\n'));
    const text = d.out.join('\n');
    assert.ok(!text.includes('hunter2-secret') && !text.includes('tok-123'), text);
    assert.match(text, /s3\.secret-access-key=\*\*\*/);
    assert.match(text, /owner=team=a/);
  }));

  test('table create errors: bad partition expression, unreadable schema, bad --property', () => withWarehouse(async (w) => {
    const schema = path.join(w.dir, 'schema.json');
    assertOneLineError(await w.floe('table', 'create', 'db.t1', '--schema', schema, '--partition-by', 'day(region)'),
      /^floe: partition term 'day\(region\)': transform day cannot apply to column 'region' of type string$/);
    assertOneLineError(await w.floe('table', 'create', 'db.t2', '--schema', path.join(w.dir, 'missing.json')),
      /^floe: cannot read schema file .*missing\.json: /);
    const badSchema = await w.file('bad-schema.json', JSON.stringify({ type: 'struct', fields: [{ name: 'x', required: true, type: 'varchar' }] }));
    assertOneLineError(await w.floe('table', 'create', 'db.t3', '--schema', badSchema), /^floe: invalid schema file .*bad-schema\.json: field "x": unknown type "varchar" \(Iceberg calls it string\)$/);
    assertOneLineError(await w.floe('table', 'create', 'db.t4', '--schema', schema, '--property', 'novalue'), /--property 'novalue' is not KEY=VALUE/);
    assert.deepEqual((await w.floe('table', 'list', 'db')).out, ['db.events']);
  }));

  test('append, describe and snapshots (2 appends → 2 rows)', () => withWarehouse(async (w) => {
    const first = await w.floe('append', 'db.events', await w.file('a.ndjson', GOOD_3));
    assert.equal(first.code, 0, first.err.join('\n'));
    assert.deepEqual(first.err, []);
    assert.equal(first.out.length, 1);
    const m1 = /^appended 3 records in 2 file\(s\) to db\.events \(branch main\): snapshot (\d+), sequence 1$/.exec(first.out[0]!);
    assert.ok(m1, first.out[0]);
    const second = await w.floe('append', 'db.events', await w.file('b.ndjson', GOOD_2));
    const m2 = /^appended 2 records in 1 file\(s\) to db\.events \(branch main\): snapshot (\d+), sequence 2$/.exec(second.out[0] ?? '');
    assert.ok(m2, `${second.out[0]} ${second.err.join(' | ')}`);
    const [id1, id2] = [m1[1]!, m2[1]!];

    const m = await w.metadata();
    assert.deepEqual(m.snapshots.map((s) => String(s.snapshotId)), [id1, id2]);
    assert.equal(String(m.currentSnapshotId), id2);
    assert.equal(m.snapshots[1]!.summary['total-records'], '5');
    const data = await w.dataFiles();
    assert.equal(data.length, 3);
    assert.deepEqual(data.map((f) => path.relative(path.join(w.dir, 'db', 'events', 'data'), path.dirname(f))).sort(),
      ['ts_day=2026-01-01/region=eu', 'ts_day=2026-01-02/region=eu', 'ts_day=2026-01-03/region=us']);

    const d = await w.floe('describe', 'db.events');
    assert.equal(d.code, 0);
    assert.equal(d.out.length, 1);
    const lines = d.out[0]!.split('\n');
    for (const expected of [
      'table       db.events',
      `location    ${pathToUri(w.dir)}/db/events`,
      'format      v2',
      'schema (id 0):',
      '  1: id: required long',
      '  2: ts: required timestamptz',
      '  3: region: optional string',
      '  4: amount: optional decimal(10,2)',
      'partition spec (id 0): ts_day=day(ts), region=identity(region)',
      `  main (branch) -> ${id2}`,
      `current snapshot: ${id2} (5 records in 3 files)`,
      '  commit.retry.num-retries=9',
      '  owner=team=a',
    ]) assert.ok(lines.includes(expected), `describe lacks '${expected}':\n${d.out[0]}`);
    assert.match(lines.find((l) => l.startsWith('metadata    '))!, /\/db\/events\/metadata\/00002-[0-9a-f-]{36}\.metadata\.json$/);

    const s = await w.floe('snapshots', 'db.events');
    assert.equal(s.code, 0);
    const rows = s.out[0]!.split('\n').map((l) => l.split(/\s+/));
    assert.equal(rows.length, 3);
    assert.deepEqual(rows[0], ['snapshot-id', 'parent-id', 'seq', 'committed-at', 'operation', 'added-records', 'total-records', 'branches']);
    assert.deepEqual([rows[1]![0], rows[1]![1], rows[1]![2], rows[1]![4], rows[1]![5], rows[1]![6], rows[1]![7]], [id1, '-', '1', 'append', '3', '3', undefined]);
    assert.deepEqual([rows[2]![0], rows[2]![1], rows[2]![2], rows[2]![4], rows[2]![5], rows[2]![6], rows[2]![7]], [id2, id1, '2', 'append', '2', '5', 'main']);
    assert.match(rows[1]![3]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }));

  test('an empty NDJSON file commits nothing', () => withWarehouse(async (w) => {
    const r = await w.floe('append', 'db.events', await w.file('empty.ndjson', '\n\n'));
    assert.equal(r.code, 0);
    assert.deepEqual(r.out, [`nothing to append: ${path.join(w.dir, 'empty.ndjson')} has no records`]);
    assert.equal((await w.metadata()).snapshots.length, 0);
  }));

  describe('failing appends: one line on stderr, exit 1, table untouched', () => {
    const cases: [string, string, RegExp[]][] = [
      ['malformed NDJSON names the line', ndjson(
        '{"id": 10, "ts": "2026-02-01T00:00:00Z"}',
        '{"id": 11, "ts": ',
      ), [/^floe: .*bad\.ndjson line 2: invalid JSON/]],
      ['a line that is not an object', ndjson('{"id": 10, "ts": "2026-02-01T00:00:00Z"}', '[1, 2]'), [/bad\.ndjson line 2: expected a JSON object per line$/]],
      ['an unknown column names the line and field', ndjson(
        '{"id": 10, "ts": "2026-02-01T00:00:00Z"}',
        '{"id": 11, "ts": "2026-02-01T00:00:00Z"}',
        '{"id": 12, "ts": "2026-02-01T00:00:00Z", "colour": "red"}',
      ), [/bad\.ndjson line 3: field 'colour': unknown column \(the table has id, ts, region, amount\); nothing was committed$/]],
      ['a wrong type names the line and field', ndjson(
        '{"id": 10, "ts": "2026-02-01T00:00:00Z"}',
        '{"id": "abc", "ts": "2026-02-01T00:00:00Z"}',
      ), [/bad\.ndjson line 2: field 'id': expected long/, /"abc"/, /nothing was committed$/]],
      ['a wrong type in a later partition group still names its own line', ndjson(
        '{"id": 10, "ts": "2026-02-01T00:00:00Z", "region": "eu"}',
        '{"id": 11, "ts": "2026-02-02T00:00:00Z", "region": "us"}',
        '',
        '{"id": 12, "ts": "2026-02-02T00:00:00Z", "region": "us", "amount": "abc"}',
      ), [/bad\.ndjson line 4: field 'amount': expected decimal\(10,2\), got string "abc"; nothing was committed$/]],
      ['a bad partition source value', ndjson('{"id": 10, "ts": "yesterday"}'), [/bad\.ndjson line 1: field 'ts': expected timestamp as .*got string "yesterday"; nothing was committed$/]],
      ['a fractional long', ndjson('{"id": 1.5, "ts": "2026-02-01T00:00:00Z"}'), [/bad\.ndjson line 1: field 'id': expected long \(integer\), got number 1\.5/]],
      ['a number for a string', ndjson('{"id": 1, "ts": "2026-02-01T00:00:00Z", "region": 5}'), [/bad\.ndjson line 1: field 'region': expected string, got number 5/]],
      ['a long beyond 64 bits', ndjson(
        '{"id": 9223372036854775807, "ts": "2026-02-01T00:00:00Z"}',
        '{"id": 9223372036854775808, "ts": "2026-02-01T00:00:00Z"}',
      ), [/bad\.ndjson line 2: field 'id': long 9223372036854775808 does not fit in 64 bits; nothing was committed$/]],
      ['a missing required value', ndjson('{"ts": "2026-02-01T00:00:00Z", "region": "eu"}'), [/bad\.ndjson line 1: field 'id': required value is missing/]],
      ['a decimal with too many digits', ndjson('{"id": 1, "ts": "2026-02-01T00:00:00Z", "amount": "123456789.00"}'), [/bad\.ndjson line 1: field 'amount': decimal 123456789\.00 does not fit decimal\(10,2\)/]],
    ];
    for (const [label, text, patterns] of cases) {
      test(label, () => withWarehouse(async (w) => {
        assert.equal((await w.floe('append', 'db.events', await w.file('good.ndjson', GOOD_3))).code, 0);
        const snapshotsBefore = (await w.metadata()).snapshots.length;
        const dataBefore = await w.dataFiles();
        const metadataBefore = await w.metadataFiles();
        assert.equal(dataBefore.length, 2);

        assertOneLineError(await w.floe('append', 'db.events', await w.file('bad.ndjson', text)), ...patterns);

        assert.equal((await w.metadata()).snapshots.length, snapshotsBefore);
        assert.deepEqual(await w.dataFiles(), dataBefore);
        assert.deepEqual(await w.metadataFiles(), metadataBefore);
      }));
    }
  });

  test('other errors: unknown table, missing file, invalid identifiers', () => withWarehouse(async (w) => {
    const good = await w.file('good.ndjson', GOOD_3);
    assertOneLineError(await w.floe('append', 'db.nope', good), /^floe: table 'db\.nope' does not exist in catalog 'floe'$/);
    assertOneLineError(await w.floe('describe', 'db.nope'), /^floe: table 'db\.nope' does not exist/);
    assertOneLineError(await w.floe('snapshots', 'nope.events'), /^floe: table 'nope\.events' does not exist/);
    assertOneLineError(await w.floe('append', 'db.events', path.join(w.dir, 'absent.ndjson')), /^floe: cannot read .*absent\.ndjson: no such file$/);
    assertOneLineError(await w.floe('append', 'db.bad name', good), /^floe: invalid table name 'bad name'/);
    assertOneLineError(await w.floe('append', 'events', good), /^floe: invalid table identifier 'events': expected NAMESPACE\.TABLE$/);
    assertOneLineError(await w.floe('namespace', 'create', '../x'), /^floe: invalid namespace name '': /);
    assertOneLineError(await w.floe('namespace', 'create', 'a/b'), /^floe: invalid namespace name 'a\/b'/);
    assertOneLineError(await w.floe('table', 'create', 'db./etc', '--schema', path.join(w.dir, 'schema.json')), /^floe: invalid table name '\/etc'/);
    assert.equal((await w.metadata()).snapshots.length, 0);
    assert.deepEqual(await w.dataFiles(), []);
    assert.deepEqual((await w.floe('namespace', 'list')).out, ['db']);
  }));

  test('table create refuses a location inside or around another table; --location picks a free one', () => withWarehouse(async (w) => {
    const schema = path.join(w.dir, 'schema.json');
    // Default layout <warehouse>/<ns…>/<table>: namespace db.events.data, table x would sit in db.events/data/x.
    assert.equal((await w.floe('namespace', 'create', 'db.events.data')).code, 0);
    assertOneLineError(await w.floe('table', 'create', 'db.events.data.x', '--schema', schema), /location .*\/db\/events\/data\/x .*overlaps table 'db\.events'/);
    assertOneLineError(await w.floe('table', 'create', 'db.other', '--schema', schema, '--location', path.join(w.dir, 'db')), /overlaps table 'db\.events'/);
    assertOneLineError(await w.floe('table', 'create', 'db.other', '--schema', schema, '--location', `file://${w.dir}/db/events/`), /overlaps table 'db\.events'/);
    assertOneLineError(await w.floe('table', 'create', 'db.other', '--schema', schema, '--location', w.dir), /overlaps table 'db\.events'/);
    // A location that is a file (the catalog database itself): the write error, naming the path.
    assertOneLineError(await w.floe('table', 'create', 'db.other', '--schema', schema, '--location', path.join(w.dir, 'catalog.db')),
      /^floe: cannot write file:\/\/.*\/catalog\.db\/metadata\/00000-.*: ENOTDIR/);
    assert.deepEqual((await w.floe('table', 'list', 'db.events.data')).out, []);
    const r = await w.floe('table', 'create', 'db.events.data.x', '--schema', schema, '--location', path.join(w.dir, 'elsewhere', 'x'));
    assert.deepEqual(r, { code: 0, out: [`created table db.events.data.x at ${pathToUri(w.dir)}/elsewhere/x`], err: [] });
    // Purge deletes what the metadata references and the metadata folder: 1 data file, its
    // manifest and manifest list, 2 metadata files.
    assert.equal((await w.floe('append', 'db.events', await w.file('one.ndjson', ndjson('{"id": 1, "ts": "2026-01-01T10:00:00Z"}')))).code, 0);
    assert.deepEqual(await w.floe('table', 'drop', 'db.events', '--purge'), { code: 0, out: ['dropped table db.events and deleted 5 file(s)'], err: [] });
    assert.deepEqual(await w.dataFiles(), []);
    assert.deepEqual(await w.metadataFiles(), []);
    assert.equal((await w.floe('table', 'list', 'db.events.data')).out.length, 1);
  }));

  test('a corrupt metadata file: one line naming the file and the field; append commits nothing', () => withWarehouse(async (w) => {
    const [current] = (await w.metadataFiles()).filter((f) => f.endsWith('.metadata.json'));
    const good = await readFile(current!, 'utf8');
    const broken: [string, RegExp][] = [
      ['{"format-version": 2, "table-uuid": ', /not valid JSON/],
      [good.replace(/"location": ?"[^"]*",/, ''), /: location: /],
      [good.replace(/"last-sequence-number": ?0/, '"last-sequence-number": "zero"'), /: last-sequence-number: /],
    ];
    const data = await w.file('ok.ndjson', GOOD_3);
    for (const [text, field] of broken) {
      await writeFile(current!, text);
      const escaped = current!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      assertOneLineError(await w.floe('describe', 'db.events'), new RegExp(`invalid metadata file file://${escaped}`), field);
      assertOneLineError(await w.floe('append', 'db.events', data), field);
      assert.deepEqual(await w.dataFiles(), []);
    }
    await writeFile(current!, good);
    assert.equal((await w.floe('append', 'db.events', data)).code, 0);
  }));

  test('--verbose prints the stack', () => withWarehouse(async (w) => {
    const r = await w.floe('--verbose', 'describe', 'db.nope');
    assert.equal(r.code, 1);
    const text = r.err.join('\n');
    assert.match(text, /^NotFoundError: table 'db\.nope' does not exist/);
    assert.match(text, /\n\s+at /);
    assert.deepEqual(r.out, []);
  }));

  test('an unknown command or option exits 2', () => withWarehouse(async (w) => {
    const r = await w.floe('frobnicate');
    assert.equal(r.code, 2);
    assert.match(r.err.join('\n'), /unknown command 'frobnicate'/);
    const o = await w.floe('describe', 'db.x', '--nope');
    assert.equal(o.code, 2);
    assert.match(o.err.join('\n'), /unknown option '--nope'/);
    const missing = await w.floe('table', 'create', 'db.t');
    assert.equal(missing.code, 2);
    assert.match(missing.err.join('\n'), /required option '--schema <file>' not specified/);
  }, { table: false }));

  test('--help in-process exits 0 and lists the commands', () => withWarehouse(async (w) => {
    const r = await w.floe('--help');
    assert.equal(r.code, 0);
    const text = r.out.join('\n');
    for (const cmd of ['namespace', 'table', 'append', 'describe', 'snapshots', 'demo']) assert.match(text, new RegExp(`^\\s+${cmd}\\b`, 'm'));
  }, { table: false }));

  test('the real binary: node bin/floe.js --help', () => {
    const env = { ...process.env };
    for (const k of ['FLOE_WAREHOUSE', 'FLOE_CATALOG', 'FLOE_CATALOG_NAME', 'NODE_OPTIONS']) delete env[k];
    const r = spawnSync(process.execPath, ['bin/floe.js', '--help'], { cwd: REPO, encoding: 'utf8', timeout: 60_000, env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: floe \[options\] \[command\]/m);
    assert.match(r.stdout, /^\s+append \[options\] <table> <file>\s+append NDJSON records/m);
    assert.match(r.stdout, /^\s+demo \[options\]/m);
    assert.equal(r.stderr, '');
  });
});

const logSink = { write: (): boolean => true } as unknown as NodeJS.WritableStream;

describe('floe maintenance commands (compaction/ wired in as bin/ does)', () => {
  const maintenance = async (dir: string, ...args: string[]): Promise<Run> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['--warehouse', dir, ...args], {
      openCatalog: (o) => openCatalog({ warehouse: o.warehouse, name: o.name, ...(o.uri ? { uri: o.uri } : {}) }),
      removeOrphans: removeOrphanFiles,
      expireSnapshots,
      rewriteManifests,
      compact: (catalog, o, out) => startCompaction(catalog, { ...o, progress: false }, out, logSink),
      stdout: (l) => out.push(l),
      stderr: (l) => err.push(l),
    });
    return { code, out, err };
  };

  test('rewrite-manifests: two manifests become one, then nothing to do', () => withWarehouse(async (w) => {
    assert.equal((await w.floe('append', 'db.events', await w.file('a.ndjson', GOOD_3))).code, 0);
    assert.equal((await w.floe('append', 'db.events', await w.file('b.ndjson', GOOD_2))).code, 0);
    const r = await maintenance(w.dir, 'rewrite-manifests', 'db.events');
    assert.deepEqual(r.err, []);
    assert.match(r.out.join('\n'), /^rewrote 2 manifest\(s\) into 1 \(3 entries, 0 delete manifest\(s\) kept\) on branch main: snapshot \d+$/);
    assert.equal((await w.metadata()).snapshots.at(-1)!.summary.operation, 'replace');
    assert.deepEqual((await maintenance(w.dir, 'rewrite-manifests', 'db.events')).out, ["branch 'main' has 1 manifest; nothing to rewrite"]);
  }));

  test('expire-snapshots with a corrupt manifest: one line naming the file, nothing committed, nothing printed as done', () => withWarehouse(async (w) => {
    for (const f of ['a', 'b', 'c']) assert.equal((await w.floe('append', 'db.events', await w.file(`${f}.ndjson`, GOOD_2))).code, 0);
    const before = await w.metadata();
    const manifest = (await w.metadataFiles()).filter((f) => f.endsWith('-m0.avro')).sort()[0]!;
    await writeFile(manifest, (await readFile(manifest)).subarray(0, 19));
    const r = await maintenance(w.dir, 'expire-snapshots', 'db.events', '--older-than', '0ms', '--retain-last', '1');
    assertOneLineError(r, new RegExp(`invalid metadata file file://${manifest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read manifest: unexpected end of Avro data at byte 19`));
    assert.deepEqual((await w.metadata()).snapshots.map((s) => s.snapshotId), before.snapshots.map((s) => s.snapshotId));
  }));

  test('rewrite-manifests with a corrupt manifest: one line naming the file, nothing committed, no file left', () => withWarehouse(async (w) => {
    for (const f of ['a', 'b']) assert.equal((await w.floe('append', 'db.events', await w.file(`${f}.ndjson`, GOOD_2))).code, 0);
    const before = await w.metadata();
    const manifest = (await w.metadataFiles()).filter((f) => f.endsWith('-m0.avro')).sort()[0]!;
    await writeFile(manifest, 'Obj\x01');
    const filesBefore = await w.metadataFiles();
    const escaped = manifest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assertOneLineError(await maintenance(w.dir, 'rewrite-manifests', 'db.events'), new RegExp(`^floe: invalid metadata file file://${escaped}: cannot read manifest: `));
    assert.deepEqual((await w.metadata()).snapshots.length, before.snapshots.length);
    assert.deepEqual(await w.metadataFiles(), filesBefore);
  }));

  test('remove-orphans: --dry-run lists, then a run deletes; a bad duration is one line', () => withWarehouse(async (w) => {
    assert.equal((await w.floe('append', 'db.events', await w.file('a.ndjson', GOOD_3))).code, 0);
    const stray = path.join(w.dir, 'db', 'events', 'data', 'stray.parquet');
    await writeFile(stray, 'stray');
    const dry = await maintenance(w.dir, 'remove-orphans', 'db.events', '--older-than', '0ms', '--dry-run');
    assert.deepEqual(dry.err, []);
    assert.equal(dry.out[0], `would delete ${pathToUri(stray)} (5 bytes)`);
    assert.match(dry.out[1]!, /^would delete 1 orphan file\(s\), 5 bytes; scanned \d+ file\(s\), kept 0 unreferenced file\(s\) younger than the margin$/);
    assert.equal(dry.out.length, 2);
    assert.ok((await w.dataFiles()).includes(stray));
    // The default margin (3 days) spares the new stray.
    assert.match((await maintenance(w.dir, 'remove-orphans', 'db.events')).out[0]!, /^deleted 0 orphan file\(s\), 0 bytes; .* kept 1 unreferenced file/);
    const real = await maintenance(w.dir, 'remove-orphans', 'db.events', '--older-than', '0ms');
    assert.match(real.out.join('\n'), /^deleted 1 orphan file\(s\), 5 bytes; /);
    assert.ok(!(await w.dataFiles()).includes(stray));
    assert.equal((await w.dataFiles()).length, 2);
    assertOneLineError(await maintenance(w.dir, 'remove-orphans', 'db.events', '--older-than', '3x'), /duration '3x' is not like/);
  }));

  test('compact: --dry-run prints the plan and changes nothing; a run compacts; bad options are one line', () => withWarehouse(async (w) => {
    for (let i = 0; i < 6; i++) {
      assert.equal((await w.floe('append', 'db.events', await w.file(`a${i}.ndjson`, ndjson(`{"id": ${i}, "ts": "2026-01-01T10:00:00Z", "region": "eu"}`)))).code, 0);
    }
    const filesBefore = await w.dataFiles();
    const dry = await maintenance(w.dir, 'compact', 'db.events', '--dry-run');
    assert.deepEqual(dry.err, []);
    assert.match(dry.out[0]!, /^db\.events: 1 group\(s\), 6 files, 0\.0 MiB → ~1 file\(s\)$/);
    assert.match(dry.out[1]!, /^ {2}group 1: spec 0 partition .*eu.*: 6 files/);
    assert.deepEqual(await w.dataFiles(), filesBefore);
    const run = await maintenance(w.dir, 'compact', 'db.events', '--json');
    assert.deepEqual(run.err, []);
    const report = JSON.parse(run.out[0]!) as { rewrittenFiles: number; addedFiles: number; commits: number };
    assert.deepEqual([report.rewrittenFiles, report.addedFiles, report.commits], [6, 1, 1]);
    assert.equal((await w.metadata()).snapshots.at(-1)!.summary.operation, 'replace');
    assert.deepEqual((await maintenance(w.dir, 'compact', 'db.events')).out, ['db.events: nothing to compact']);
    assertOneLineError(await maintenance(w.dir, 'compact'), /name a table \(NS\.TABLE\) or use --all/);
    assertOneLineError(await maintenance(w.dir, 'compact', 'db.events', '--target-file-size', 'huge'), /size 'huge' is not like 1GiB/);
    assertOneLineError(await maintenance(w.dir, 'compact', 'db.events', '--min-input-files', '0'), /--min-input-files must be a positive integer/);
  }));

  test('sizes: binary units, as Spark reads them', () => {
    assert.equal(parseSize('1GiB'), 1024 ** 3);
    assert.equal(parseSize('512MB'), 512 * 1024 ** 2);
    assert.equal(parseSize('64m'), 64 * 1024 ** 2);
    assert.equal(parseSize('1048576'), 1048576);
    assert.throws(() => parseSize('0'), /must be positive/);
  });
});
