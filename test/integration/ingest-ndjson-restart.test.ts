// `floe ingest` on an NDJSON file is restartable: the real process is SIGKILLed mid-file at
// several moments (right after a commit, inside a batch, between the dead-letter commit and
// the table commit when the timing lands there) and rerun; afterwards every line is in the
// table or the dead-letter table exactly once, with its values, and every dead letter names its
// source (the file's URI) and the byte offset of its line. A rerun of the finished file adds
// nothing; a file that grew adds only its new lines; a replaced file is refused.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToUri } from '../../src/io/local-file-io.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { readTableRows } from '../support/read-table.ts';
import { REPO_ROOT } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'ts', required: true, type: 'timestamptz' },
  { name: 'note', required: false, type: 'string' },
] }, { assignIds: true });
const EVENTS = { namespace: ['ing'], name: 'events' };
const DEAD = { namespace: ['ing'], name: 'dead_letters' };

interface InputLine { text: string; offset: number; id: number; good: boolean }

/** Lines of `count` records from `first`: 1 in 25 bad (alternately invalid JSON and a wrong
 * type), multi-byte text (byte offsets differ from character offsets), some CRLF endings and
 * blank lines. Returns the text and each record line with its byte offset. */
function makeInput(first: number, count: number, startOffset: number): { text: string; lines: InputLine[] } {
  const out: string[] = [];
  const lines: InputLine[] = [];
  let offset = startOffset;
  for (let id = first; id < first + count; id++) {
    const bad = id % 25 === 7;
    const note = id % 3 === 0 ? null : `n${id} ${id % 2 ? 'Grüße 😀' : 'plain'}`;
    const text = !bad
      ? JSON.stringify({ id, ts: new Date(Date.UTC(2026, 0, 1) + id * 1000).toISOString(), note })
      : (id / 25) % 2 < 1 ? `{"id": ${id}, "ts": ` : JSON.stringify({ id: `x${id}`, ts: '2026-01-01T00:00:00Z' });
    const eol = id % 11 === 0 ? '\r\n' : '\n';
    lines.push({ text, offset, id, good: !bad });
    out.push(text + eol);
    offset += Buffer.byteLength(text + eol);
    if (id % 97 === 0) { out.push('\n'); offset += 1; }
  }
  return { text: out.join(''), lines };
}

interface IngestRun { code: number | null; signal: NodeJS.Signals | null; log: Record<string, unknown>[] }

/** Runs the real `floe ingest`; `killWhen` sees each log line and may ask for `signal`
 * (SIGKILL by default) after the delay it returns. */
function runIngest(wh: TestWarehouse, config: string, killWhen?: (log: Record<string, unknown>, commits: number) => number | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<IngestRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'floe.js'), '--warehouse', wh.dir, 'ingest', '--config', config], { cwd: REPO_ROOT });
    const log: Record<string, unknown>[] = [];
    let buf = '';
    let commits = 0;
    let killing = false;
    child.stderr.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let entry: Record<string, unknown>;
        try { entry = JSON.parse(line) as Record<string, unknown>; } catch { entry = { msg: line }; }
        log.push(entry);
        if (entry.msg === 'batch committed') commits++;
        const delay = !killing && killWhen ? killWhen(entry, commits) : undefined;
        if (delay !== undefined) {
          killing = true;
          setTimeout(() => child.kill(signal), delay);
        }
      }
    });
    child.stdout.resume();
    child.on('exit', (code, signal) => resolve({ code, signal, log }));
  });
}

describe('NDJSON ingest survives SIGKILL and reruns exactly once', () => {
  let wh: TestWarehouse;
  let file: string;
  let config: string;
  let all: InputLine[];

  before(async () => {
    wh = await testWarehouse('floe-ingest-restart-');
    await wh.catalog.createNamespace(['ing']);
    await wh.catalog.createTable(EVENTS, { schema: SCHEMA });
    file = path.join(wh.dir, 'events.ndjson');
    const input = makeInput(0, 12_000, 0);
    all = input.lines;
    writeFileSync(file, input.text);
    config = path.join(wh.dir, 'ingest.json');
    writeFileSync(config, JSON.stringify({
      source: { type: 'ndjson', path: file },
      routes: [{ table: 'ing.events' }],
      batch: { maxRecords: 400, windowMs: 60_000 },
      deadLetter: { table: 'ing.dead_letters' },
    }));
  });
  after(async () => { await wh?.cleanup(); });

  /** Table + dead letters hold every line of `expected` exactly once, with its values. */
  async function assertExactlyOnce(expected: readonly InputLine[]): Promise<void> {
    const rows = await readTableRows(wh.catalog, EVENTS);
    const byId = new Map<number, Record<string, unknown>[]>();
    for (const r of rows) byId.set(Number(r.id), [...(byId.get(Number(r.id)) ?? []), r]);
    const dead = await readTableRows(wh.catalog, DEAD);
    const deadByOffset = new Map<number, Record<string, unknown>[]>();
    for (const d of dead) deadByOffset.set(Number(d.source_offset), [...(deadByOffset.get(Number(d.source_offset)) ?? []), d]);
    const uri = pathToUri(realpathSync(file));
    const good = expected.filter((l) => l.good);
    assert.equal(rows.length, good.length, 'table rows');
    assert.equal(dead.length, expected.length - good.length, 'dead letters');
    for (const l of expected) {
      if (l.good) {
        const want = JSON.parse(l.text) as { id: number; ts: string; note: string | null };
        const got = byId.get(l.id) ?? [];
        assert.equal(got.length, 1, `id ${l.id} once in the table`);
        assert.equal(Number(got[0]!.ts), Date.parse(want.ts), `ts of ${l.id}`);
        assert.equal(got[0]!.note, want.note, `note of ${l.id}`);
      } else {
        const got = deadByOffset.get(l.offset) ?? [];
        assert.equal(got.length, 1, `bad line at byte ${l.offset} dead-lettered once`);
        assert.equal(got[0]!.payload, l.text);
        assert.equal(got[0]!.source, uri);
        assert.equal(Number(got[0]!.source_partition), 0);
      }
    }
  }

  test('killed at several moments and rerun: every line exactly once, dead letters with source and offset', async () => {
    const kills: ((e: Record<string, unknown>, commits: number) => number | undefined)[] = [
      (e, n) => (e.msg === 'batch committed' && n === 1 ? 0 : undefined),
      (e, n) => (e.msg === 'batch committed' && n === 2 ? 60 : undefined),
      (e) => (String(e.msg).startsWith('resuming') ? 150 : undefined),
      (e, n) => (e.msg === 'batch committed' && n === 3 ? 25 : undefined),
      (e, n) => (e.msg === 'batch committed' && n === 1 ? 110 : undefined),
    ];
    let killed = 0;
    for (const k of kills) {
      const r = await runIngest(wh, config, k);
      if (r.signal === 'SIGKILL') killed++;
      else assert.equal(r.code, 0, JSON.stringify(r.log.slice(-3)));
    }
    assert.ok(killed >= 3, `${killed} of ${kills.length} runs were killed mid-file`);
    // An orderly stop (SIGTERM) mid-file commits the open batch with its position.
    const term = await runIngest(wh, config, (e, n) => (e.msg === 'batch committed' && n === 2 ? 30 : undefined), 'SIGTERM');
    assert.equal(term.code, 0);
    assert.ok(term.log.some((e) => e.msg === 'stopped'));
    const last = await runIngest(wh, config);
    assert.equal(last.code, 0, JSON.stringify(last.log.slice(-3)));
    await assertExactlyOnce(all);
    assert.ok(last.log.some((e) => e.msg === 'resuming the file at the recorded position' || e.msg === 'file already ingested up to its end: nothing to add'));
    const t = await wh.catalog.loadTable(EVENTS);
    const head = t.metadata.snapshots.at(-1)!;
    // The last commit recorded the end of the file as the next byte to read.
    assert.equal(head.summary[`floe.offsets.${pathToUri(realpathSync(file))}`], `{"0":${statSync(file).size}}`);
  });

  test('a rerun of the finished file adds nothing', async () => {
    const events = (await wh.catalog.loadTable(EVENTS)).metadata.snapshots.length;
    const dead = (await wh.catalog.loadTable(DEAD)).metadata.snapshots.length;
    const r = await runIngest(wh, config);
    assert.equal(r.code, 0);
    assert.equal((await wh.catalog.loadTable(EVENTS)).metadata.snapshots.length, events);
    assert.equal((await wh.catalog.loadTable(DEAD)).metadata.snapshots.length, dead);
    await assertExactlyOnce(all);
  });

  test('a file that grew: only its new lines are added', async () => {
    const more = makeInput(12_000, 1_500, statSync(file).size);
    appendFileSync(file, more.text);
    all = [...all, ...more.lines];
    const r = await runIngest(wh, config, (e, n) => (e.msg === 'batch committed' && n === 1 ? 0 : undefined));
    assert.ok(r.signal === 'SIGKILL' || r.code === 0);
    assert.equal((await runIngest(wh, config)).code, 0);
    await assertExactlyOnce(all);
  });

  test('a different file at the same path is refused, and the tables are untouched', async () => {
    const events = (await wh.catalog.loadTable(EVENTS)).metadata.snapshots.length;
    // Larger than the recorded position, so the fingerprint (not the size) tells them apart.
    const other = makeInput(50_000, 20_000, 0);
    assert.ok(Buffer.byteLength(other.text) > statSync(file).size);
    const tmp = `${file}.new`;
    writeFileSync(tmp, other.text);
    renameSync(tmp, file);
    const r = await runIngest(wh, config);
    assert.equal(r.code, 1);
    const text = r.log.map((e) => String(e.msg)).join('\n');
    assert.match(text, /is not the file recorded at this path in snapshot \d+ \(its first 65536 bytes differ\): it was replaced or rewritten/);
    assert.equal((await wh.catalog.loadTable(EVENTS)).metadata.snapshots.length, events);
    await assertExactlyOnce(all);
  });
});
