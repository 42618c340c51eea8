// Attacks on batches converted while they fill (TableIngestor with `revive`): every scenario
// runs the same input through an ingestor converting early and one keeping records whole (no
// `revive`), each on its own table of a real SQLite catalog, and requires the same rows
// (values, in file order), dead letters (payload, error text, position), offsets summaries,
// snapshot count and commit events.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { CONVERSION_CHUNK_RECORDS } from '../../../src/ingest/batch-conversion.ts';
import { DEFAULT_BATCHER_CONFIG, type BatcherConfig } from '../../../src/ingest/micro-batcher.ts';
import { kafkaMessageRecord, kafkaReviver } from '../../../src/ingest/kafka-source.ts';
import { kafkaSourceId } from '../../../src/ingest/source-offsets.ts';
import { TableIngestor, type DeadLetter, type DeadLetterSink, type SourceRecord } from '../../../src/ingest/table-ingestor.ts';
import { parseJsonExact } from '../../../src/spec/json.ts';
import { parsePartitionExpression, type PartitionSpec } from '../../../src/spec/partition-spec.ts';
import { schemaFromJson, type Schema } from '../../../src/spec/schema.ts';
import { currentSchema } from '../../../src/spec/table-metadata.ts';
import type { TableUpdate } from '../../../src/spec/table-updates.ts';
import type { TableIdentifier } from '../../../src/table/identifier.ts';
import { canonicalRows, normalizeRows } from '../../support/canonical.ts';
import { allTypesSchema } from '../../support/all-types-tables.ts';
import { generateRows } from '../../support/datagen.ts';
import { FUZZ_SCHEMA, fuzzLine } from '../../support/fuzz-lines.ts';
import { seededRandom } from '../../../src/cli/demo.ts';
import { commitUpdateWithRetry } from '../../../src/transaction/commit-with-retry.ts';
import { ReaderServer, readersUnavailable } from '../../support/readers.ts';
import { liveDataFiles } from '../../support/live-data-files.ts';
import { readTableRows } from '../../support/read-table.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

const SOURCE = 'kafka/g/attack';

/** `n` characters that do not compress (a fixed pseudo-random stream per seed). */
function randomText(seed: number, n: number): string {
  let x = (seed * 2654435761) >>> 0 || 1;
  let out = '';
  for (let i = 0; i < n; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; out += String.fromCharCode(33 + (x % 90)); }
  return out;
}
const N = CONVERSION_CHUNK_RECORDS;
const BATCHER: BatcherConfig = { ...DEFAULT_BATCHER_CONFIG, windowMs: 600_000, maxRecords: 1_000_000 };

/** JSON as a producer would send it: bigints as integer literals, -0 as -0.0, bytes as base64. */
function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `@@${v}@@` : Object.is(v, -0) ? '@@-0.0@@' : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v))
    .replace(/"@@(-?[\d.]+)@@"/g, '$1');
}

/** A source record as the NDJSON/Kafka sources make it: decoded value, raw text, position. */
function rec(value: unknown, partition: number, offset: number | bigint, extra: Partial<SourceRecord> = {}): SourceRecord {
  const raw = typeof value === 'string' && extra.decodeError !== undefined ? value : jsonText(value);
  const decoded = extra.decodeError !== undefined ? undefined : parseJsonExact(raw);
  return { value: decoded, raw, bytes: raw.length + 64, position: { sourceId: SOURCE, partition, offset: BigInt(offset) }, ...extra };
}
const revive = (r: SourceRecord): unknown => parseJsonExact(r.raw as string);

class MemoryDeadLetters implements DeadLetterSink {
  readonly letters: string[] = [];
  readonly calls: string[] = [];
  constructor(private readonly onWrite?: () => Promise<void>) {}
  async write(letters: readonly DeadLetter[], sourceId: string | undefined, ranges: ReadonlyMap<number, { start: bigint; next: bigint }>): Promise<void> {
    await this.onWrite?.();
    this.calls.push(`${String(sourceId)} ${[...ranges].map(([p, r]) => `${p}:${r.start}-${r.next}`).join(',')} ${letters.length}`);
    for (const l of letters) this.letters.push(`${l.position?.partition}/${l.position?.offset} ${String(l.timestampMs)} ${l.error} <<${l.raw}>>`);
  }
}

/** A value as text, whatever Arrow gave (bigint, Uint8Array, nested vectors, rows). */
function canon(v: unknown): string {
  return JSON.stringify(v, (_k, x) => {
    if (typeof x === 'bigint') return `${x}n`;
    if (x instanceof Uint8Array) return `0x${Buffer.from(x).toString('hex')}`;
    if (x !== null && typeof x === 'object' && typeof (x as { toJSON?: unknown }).toJSON === 'function' && !(x instanceof Date)) return (x as { toJSON(): unknown }).toJSON();
    if (typeof x === 'number' && Number.isNaN(x)) return 'NaN';
    return x;
  });
}

interface Outcome {
  table: TableIdentifier;
  rows: string[];
  letters: string[];
  letterCalls: string[];
  summaries: string[];
  commits: string[];
  counts: string;
  /** Each live data file: partition, rows, bytes (manifest order). */
  files: { partition: string; rows: number; bytes: number; metrics: string; sha256: string }[];
  error?: string;
}

interface Scenario {
  schema: Schema;
  spec?: string;
  properties?: Record<string, string>;
  batcher?: Partial<BatcherConfig>;
  /** Runs when the dead letters of a batch are written (before its commit), on the run's table. */
  onDeadLetters?: (table: TableIdentifier) => Promise<void>;
  /** The converting run's revive (default: the NDJSON source's, JSON of the raw text). */
  revive?: (r: SourceRecord) => unknown;
  /** Feeds the ingestor; `alter` changes the table (both runs get the same change at the same point). */
  drive(ing: TableIngestor, alter: (updates: (m: import('../../../src/spec/table-metadata.ts').TableMetadata) => TableUpdate[]) => Promise<void>, table: TableIdentifier): Promise<void>;
  /** A second ingestor's work on the same table (trim tests), run by drive through `alter`-like callbacks. */
}

describe('batches converted while they fill, attacked', () => {
  let wh: TestWarehouse;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['atk']);
  });
  afterEach(async () => { await wh.cleanup(); });

  let tables = 0;
  async function runOne(sc: Scenario, early: boolean): Promise<Outcome> {
    const id: TableIdentifier = { namespace: ['atk'], name: `t${tables++}_${early ? 'early' : 'kept'}` };
    const spec: PartitionSpec | undefined = sc.spec ? parsePartitionExpression(sc.spec, sc.schema) : undefined;
    await wh.catalog.createTable(id, { schema: sc.schema, ...(spec ? { spec } : {}), properties: { 'commit.retry.min-wait-ms': '1', ...(sc.properties ?? {}) } });
    const dead = new MemoryDeadLetters(sc.onDeadLetters ? () => sc.onDeadLetters!(id) : undefined);
    const commits: string[] = [];
    const ing = await TableIngestor.open(wh.catalog, id, {
      batcher: { ...BATCHER, ...(sc.batcher ?? {}) }, deadLetters: dead,
      events: { onCommit: (c) => { commits.push(`${c.reason} r${c.records} d${c.deadLetters} t${c.trimmed} ${[...c.offsets].map(([p, r]) => `${p}:${r.start}-${r.next}`).join(',')}`); } },
      ...(early ? { revive: sc.revive ?? revive } : {}),
    });
    let error: string | undefined;
    try {
      // The change is another writer's: it may meet a batch commit in flight (a batch flushed by
      // its record count commits in the background), and retries on the new head as a writer would.
      await sc.drive(ing, async (updates) => {
        await commitUpdateWithRetry(wh.catalog, id, { prepare: async (base) => ({ updates: updates(base.metadata), requirements: [], attemptFiles: [] }) });
      }, id);
      await ing.close();
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    const meta = (await wh.catalog.loadTable(id)).metadata;
    // Arrow's row objects throw on timestamps beyond 2^53 ms (fuzzed tables hold some): then
    // the files' bytes are compared instead (see same()).
    const rows = await readTableRows(wh.catalog, id).then((rs) => rs.map(canon), (err: unknown) => [`unreadable: ${String(err)}`]);
    return {
      files: await Promise.all((await liveDataFiles(wh.catalog, id)).map(async (f) => ({
        partition: canon(f.partition), rows: Number(f.recordCount), bytes: Number(f.fileSizeInBytes),
        sha256: createHash('sha256').update(await wh.catalog.io.read(f.filePath)).digest('hex'),
        metrics: canon({ values: [...f.valueCounts ?? []], nulls: [...f.nullValueCounts ?? []], nans: [...f.nanValueCounts ?? []], lower: [...f.lowerBounds ?? []], upper: [...f.upperBounds ?? []], sizes: [...f.columnSizes ?? []] }),
      }))),
      table: id, rows, letters: dead.letters, letterCalls: dead.calls, commits, counts: canon(ing.counts),
      summaries: meta.snapshots.map((s) => canon(Object.fromEntries(Object.entries(s.summary).filter(([k]) => k.startsWith('floe.') || k.startsWith('kafka'))))),
      ...(error !== undefined ? { error: error.replaceAll(id.name, '<table>') } : {}),
    };
  }

  async function same(sc: Scenario): Promise<Outcome> {
    const early = await runOne(sc, true);
    const kept = await runOne(sc, false);
    if (process.env.ATK_DEBUG) console.log(early.summaries, kept.summaries, early.commits, kept.commits, early.files.map((f) => f.rows), kept.files.map((f) => f.rows));
    assert.equal(early.error, kept.error, 'the same failure (or none)');
    assert.deepEqual(early.letters, kept.letters, 'the same dead letters');
    assert.deepEqual(early.letterCalls, kept.letterCalls, 'dead letters written with the same offsets');
    assert.deepEqual(early.rows, kept.rows, 'the same rows, in the same order');
    assert.deepEqual(early.summaries, kept.summaries, 'the same snapshots and offsets');
    assert.deepEqual(early.commits, kept.commits, 'the same commit events');
    assert.equal(early.counts, kept.counts);
    // With files cut alike (one per partition below the target size) their metrics and bytes
    // must agree; rows Arrow cannot read are compared that way only.
    const alike = early.files.length === kept.files.length && early.files.every((f, i) => f.rows === kept.files[i]!.rows);
    if (early.rows.some((r) => r.startsWith('unreadable: '))) assert.ok(alike, 'rows unreadable and files cut differently: nothing compares the rows');
    if (alike) {
      assert.deepEqual(early.files.map((f) => f.metrics), kept.files.map((f) => f.metrics), 'the same file metrics');
      assert.deepEqual(early.files.map((f) => f.sha256), kept.files.map((f) => f.sha256), 'the same Parquet bytes');
    }
    return early;
  }

  const SIMPLE = schemaFromJson({ type: 'struct', fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'n', required: false, type: 'int' },
    { name: 's', required: false, type: 'string' },
  ] }, { assignIds: true });
  const good = (o: number) => ({ id: o, n: o % 1000, s: `s${o}` });
  const bad = (o: number) => ({ id: `x${o}`, n: o, s: 's' });

  for (const [size, badAt] of [
    [1, []], [1, [0]], [N - 1, [N - 2]], [N, [N - 1]], [N + 1, [N]], [N + 1, [N - 1, N]], [2 * N + 1, [N - 1, N, N + 1, 2 * N]],
  ] as const) {
    test(`chunk boundaries: ${size} records, bad at ${badAt.join(',') || 'none'}`, async () => {
      const out = await same({
        schema: SIMPLE,
        async drive(ing) { for (let o = 0; o < size; o++) ing.offer(rec((badAt as readonly number[]).includes(o) ? bad(o) : good(o), o % 2, o)); },
      });
      assert.equal(out.rows.length, size - badAt.length);
      assert.equal(out.letters.length, badAt.length);
    });
  }

  /** The current schema with `change` applied to its fields JSON, as a new current schema. */
  const evolve = (change: (fields: Record<string, unknown>[]) => Record<string, unknown>[]) => (m: import('../../../src/spec/table-metadata.ts').TableMetadata): TableUpdate[] => {
    const cur = currentSchema(m);
    const fields = change(cur.fields.map((f) => ({ id: f.id, name: f.name, required: f.required, type: f.type.kind === 'decimal' || f.type.kind === 'struct' || f.type.kind === 'list' || f.type.kind === 'map' ? f.type : f.type.kind })));
    const schemaId = Math.max(...m.schemas.map((s) => s.schemaId)) + 1;
    const next = schemaFromJson({ type: 'struct', 'schema-id': schemaId, fields } as never, { schemaId });
    return [{ action: 'add-schema', schema: next, lastColumnId: Math.max(m.lastColumnId, ...fields.map((f) => f.id as number)) }, { action: 'set-current-schema', schemaId }];
  };

  test('int promoted to long after the ingestor opened: values beyond int are rows, not dead letters', async () => {
    const out = await same({
      schema: SIMPLE,
      async drive(ing, alter) {
        await alter(evolve((fs) => fs.map((f) => (f.name === 'n' ? { ...f, type: 'long' } : f))));
        for (let o = 0; o < 10; o++) ing.offer(rec({ id: o, n: 3_000_000_000 + o }, 0, o));
      },
    });
    assert.equal(out.letters.length, 0);
    assert.equal(out.rows.length, 10);
  });

  test('int promoted to long after the ingestor opened, a bad record in the batch too', async () => {
    const out = await same({
      schema: SIMPLE,
      async drive(ing, alter) {
        await alter(evolve((fs) => fs.map((f) => (f.name === 'n' ? { ...f, type: 'long' } : f))));
        for (let o = 0; o < 10; o++) ing.offer(rec(o === 4 ? bad(o) : { id: o, n: 3_000_000_000 + o }, 0, o));
      },
    });
    assert.equal(out.letters.length, 1);
    assert.equal(out.rows.length, 9);
  });

  test('int promoted to long in the middle of a batch (chunks converted before and after)', async () => {
    await same({
      schema: SIMPLE,
      async drive(ing, alter) {
        for (let o = 0; o < N + 10; o++) ing.offer(rec({ id: o, n: o }, 0, o));
        await alter(evolve((fs) => fs.map((f) => (f.name === 'n' ? { ...f, type: 'long' } : f))));
        for (let o = N + 10; o < 2 * N + 20; o++) ing.offer(rec({ id: o, n: o % 7 === 0 ? 3_000_000_000 + o : o }, 0, o));
      },
    });
  });

  test('a required column made optional after the ingestor opened: records without it are rows', async () => {
    const out = await same({
      schema: SIMPLE,
      async drive(ing, alter) {
        await alter(evolve((fs) => fs.map((f) => (f.name === 'id' ? { ...f, required: false } : f))));
        for (let o = 0; o < 10; o++) ing.offer(rec(o % 3 === 0 ? { n: o } : { id: o, n: o }, 0, o));
      },
    });
    assert.equal(out.letters.length, 0);
    assert.equal(out.rows.length, 10);
  });

  test('a column added, renamed and dropped in the middle of batches', async () => {
    await same({
      schema: SIMPLE,
      batcher: { maxRecords: N + 100 },
      async drive(ing, alter) {
        let o = 0;
        for (; o < N + 50; o++) ing.offer(rec({ id: o, n: o, s: `a${o}` }, 0, o));
        await alter(evolve((fs) => [...fs, { id: 4, name: 'extra', required: false, type: 'string' }]));
        for (; o < N + 200; o++) ing.offer(rec({ id: o, n: o, s: `b${o}`, ...(o % 2 ? { extra: `e${o}` } : {}) }, 0, o));
        await alter(evolve((fs) => fs.map((f) => (f.name === 's' ? { ...f, name: 's2' } : f))));
        for (; o < 2 * N + 300; o++) ing.offer(rec({ id: o, n: o, ...(o % 2 ? { s2: `c${o}` } : { s: `c${o}` }) }, 0, o));
        await alter(evolve((fs) => fs.filter((f) => f.name !== 'n')));
        for (; o < 3 * N; o++) ing.offer(rec({ id: o, ...(o % 5 ? { s2: `d${o}` } : { n: o }) }, 0, o));
      },
    });
  });

  test('the partition spec evolved after the ingestor opened: a record whose new partition value cannot be written is a dead letter', async () => {
    const TS = schemaFromJson({ type: 'struct', fields: [
      { name: 'id', required: true, type: 'long' },
      { name: 'ts', required: false, type: 'timestamp' },
    ] }, { assignIds: true });
    const out = await same({
      schema: TS,
      async drive(ing, alter) {
        await alter((m) => [{ action: 'add-spec', spec: parsePartitionExpression('hour(ts)', currentSchema(m), 1, m.lastPartitionId) }, { action: 'set-default-spec', specId: 1 }]);
        for (let o = 0; o < 10; o++) ing.offer(rec({ id: o, ts: o === 3 ? '+250000-01-01T00:00:00' : `2026-01-0${1 + (o % 5)}T0${o}:00:00` }, 0, o));
      },
    });
    assert.equal(out.error, undefined, 'the ingestor keeps going');
    assert.equal(out.letters.length, 1);
    assert.match(out.letters[0]!, /offset 3: field 'ts': partition field 'ts_hour'/);
    assert.equal(out.rows.length, 9);
  });

  const WIDE = schemaFromJson({ type: 'struct', fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'cat', required: false, type: 'string' },
    { name: 'ts', required: false, type: 'timestamp' },
    { name: 'amount', required: false, type: 'decimal(9,2)' },
  ] }, { assignIds: true });
  const wideRow = (o: number): Record<string, unknown> => ({
    id: o, cat: o % 11 === 0 ? null : `c${o % 37}`, ts: `2026-${String(1 + (o % 12)).padStart(2, '0')}-${String(1 + (o % 28)).padStart(2, '0')}T${String(o % 24).padStart(2, '0')}:00:00`,
    amount: `${o % 100000}.${String(o % 100).padStart(2, '0')}`,
  });

  for (const spec of ['cat', 'day(ts)', 'month(ts)', 'bucket(16,id)', 'truncate(2,cat)', 'hour(ts),bucket(4,cat)', 'truncate(100,amount)']) {
    test(`partitioned by ${spec}: many partitions over several chunks, bad records and bad partition values in different chunks`, async () => {
      const out = await same({
        schema: WIDE, spec,
        async drive(ing) {
          for (let o = 0; o < 2 * N + 500; o++) {
            let v = wideRow(o);
            if (o === 5 || o === N + 3) v = { ...v, ts: '2026-02-30T00:00:00' };
            if (o === N - 1 || o === 2 * N + 1) v = { ...v, id: 'nope' };
            // hour of year 250000 does not fit int; truncate[100] of -9999999.99 needs ten digits
            if (o === 17 || o === 2 * N) v = { ...v, ts: '+250000-01-01T00:00:00', amount: '-9999999.99' };
            ing.offer(rec(v, o % 4, o));
          }
        },
      });
      assert.ok(out.letters.length >= 4, out.letters.join('\n'));
    });
  }

  test('every record of a chunk bad, then every record of a batch bad', async () => {
    const out = await same({
      schema: SIMPLE,
      batcher: { maxRecords: 2 * N },
      async drive(ing) {
        for (let o = 0; o < 2 * N; o++) ing.offer(rec(o >= N ? bad(o) : good(o), 0, o));
        for (let o = 2 * N; o < 2 * N + 50; o++) ing.offer(rec(bad(o), 0, o));
      },
    });
    assert.equal(out.rows.length, N);
    assert.equal(out.letters.length, N + 50);
  });

  test('batches of one record each (maxRecords 1), with decode failures and bad records', async () => {
    const out = await same({
      schema: SIMPLE,
      batcher: { maxRecords: 1 },
      async drive(ing) {
        for (let o = 0; o < 12; o++) {
          if (o % 4 === 1) ing.offer(rec('{"id":', 0, o, { decodeError: 'invalid JSON: unexpected end' }));
          else ing.offer(rec(o % 4 === 2 ? bad(o) : good(o), 0, o));
        }
      },
    });
    assert.equal(out.rows.length, 6);
  });

  test('batches cut by bytes and by count while chunks are half full', async () => {
    await same({
      schema: SIMPLE,
      batcher: { maxRecords: N + 7, maxBytes: 150_000 },
      async drive(ing) { for (let o = 0; o < 3 * N; o++) ing.offer(rec(o % 1001 === 0 ? bad(o) : { ...good(o), s: 'x'.repeat(o % 50) }, o % 3, o)); },
    });
  });

  test('records without a source position, mixed with positioned ones', async () => {
    await same({
      schema: SIMPLE,
      async drive(ing) {
        for (let o = 0; o < N + 20; o++) {
          const r = rec(o % 9 === 0 ? bad(o) : good(o), 0, o);
          if (o % 2 === 0) { const { position: _p, ...rest } = r; ing.offer(rest); } else ing.offer(r);
        }
      },
    });
  });

  test('a re-delivery in the middle of a large batch, with dead letters before and after it', async () => {
    const out = await same({
      schema: SIMPLE,
      async drive(ing) {
        const v = (o: number) => rec(o % 500 === 7 ? bad(o) : good(o), o % 2, o);
        for (let o = 0; o < N + 300; o++) ing.offer(v(o));
        for (let o = 100; o < N + 300; o++) ing.offer(v(o)); // the consumer seeks back: offered again
        for (let o = N + 300; o < 2 * N + 100; o++) ing.offer(v(o));
      },
    });
    assert.equal(out.rows.length + out.letters.length, 2 * N + 100);
  });

  test('records of two sources in one batch', async () => {
    await same({
      schema: SIMPLE,
      async drive(ing) {
        for (let o = 0; o < N + 10; o++) {
          const r = rec(o % 1000 === 3 ? bad(o) : good(o), 0, o);
          ing.offer(o % 2 ? r : { ...r, position: { ...r.position!, sourceId: 'kafka/g/other' } });
        }
      },
    });
  });

  test('a batch another writer committed in part, with dead letters on both sides of the trim', async () => {
    const out = await same({
      schema: SIMPLE,
      async drive(ing, _alter, table) {
        const v = (o: number) => rec(o % 1000 === 5 ? bad(o) : good(o), o % 2, o);
        for (let o = 0; o < N + 2000; o++) ing.offer(v(o));
        // Meanwhile the partitions' new owner commits offsets up to N (dead letters included).
        const owner = await TableIngestor.open(wh.catalog, table, { batcher: BATCHER, deadLetters: new MemoryDeadLetters() });
        for (let o = 0; o < N; o++) owner.offer(v(o));
        await owner.close();
      },
    });
    assert.deepEqual(out.commits, [`shutdown r1998 d7 t${N - 5} 0:0-6095,1:1-6096`], "the owner's offsets trimmed, the rest appended once");
  });

  for (const spec of [undefined, 'bucket(3,id)'] as const) {
    test(`write.target-file-size-bytes 100000${spec ? `, partitioned by ${spec}` : ''}: files near the target (a chunk is never larger than a quarter file), rows in order`, async () => {
      const out = await same({
        schema: WIDE, properties: { 'write.target-file-size-bytes': '100000' }, ...(spec ? { spec } : {}),
        // ~400 incompressible bytes a record: a 4,096-record chunk would be a 1.6 MB file
        async drive(ing) { for (let o = 0; o < 3 * N + 100; o++) ing.offer(rec({ ...wideRow(o), cat: randomText(o, 300) }, o % 2, o)); },
      });
      assert.ok(out.files.length >= (spec ? 18 : 12), `${out.files.length} files`);
      for (const f of out.files) assert.ok(f.bytes <= 150_000, `a file of ${f.bytes} bytes (${f.rows} rows) for a 100,000-byte target`);
    });
  }

  test('every type, nested values and nulls over three chunks, bad records between: the same rows, and pyiceberg and DuckDB read the values given', async (t) => {
    const schema = allTypesSchema('all_types');
    const rows = generateRows(schema, 2 * N + 300, 77);
    const badAt = new Set([0, N - 1, N, 2 * N + 299]);
    const out = await same({
      schema, spec: 'bucket(3,id)',
      async drive(ing) {
        rows.forEach((r, o) => { ing.offer(rec(badAt.has(o) ? { ...r.input, st: { y: 'no x' } } : r.input, o % 2, o)); });
      },
    });
    assert.equal(out.letters.length, badAt.size);
    const unavailable = readersUnavailable();
    if (unavailable) { t.skip(unavailable); return; }
    const readers = new ReaderServer();
    try {
      const expected = canonicalRows(schema, rows.filter((_, o) => !badAt.has(o)).map((r) => r.values));
      for (const reader of ['pyiceberg', 'duckdb'] as const) {
        const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: `atk.${out.table.name}` });
        assert.deepStrictEqual(normalizeRows(schema, res.rows), expected, reader);
      }
    } finally {
      await readers.close();
    }
  });

  test('Kafka messages with topic, partition, offset and timestamp captured: tombstones, invalid UTF-8, non-objects, integers beyond 2^53', async () => {
    const schema = schemaFromJson({ type: 'struct', fields: [
      { name: 'id', required: true, type: 'long' },
      { name: 'big', required: false, type: 'long' },
      { name: 's', required: false, type: 'string' },
      { name: 'k_topic', required: true, type: 'string' },
      { name: 'k_partition', required: true, type: 'int' },
      { name: 'k_offset', required: true, type: 'long' },
      { name: 'k_ts', required: true, type: 'timestamptz' },
    ] }, { assignIds: true });
    const capture = { topic: 'k_topic', partition: 'k_partition', offset: 'k_offset', timestamp: 'k_ts' };
    const sourceId = kafkaSourceId('g', 'orders');
    const message = (o: number): SourceRecord => {
      const p = o % 3;
      const m = { key: null, headers: {}, timestamp: String(1_700_000_000_000 + Math.floor(o / 7)) };
      if (o % 1009 === 5) return kafkaMessageRecord(sourceId, 'orders', p, BigInt(o), { ...m, value: null }, capture);
      if (o % 1013 === 6) return kafkaMessageRecord(sourceId, 'orders', p, BigInt(o), { ...m, value: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) }, capture);
      if (o % 1019 === 7) return kafkaMessageRecord(sourceId, 'orders', p, BigInt(o), { ...m, value: Buffer.from(o % 2 ? '[1,2]' : '"text"') }, capture);
      if (o % 1021 === 8) return kafkaMessageRecord(sourceId, 'orders', p, BigInt(o), { ...m, value: Buffer.from(`{"id": ${o}, "k_offset": "overwritten", "nope": 1}`) }, capture);
      // A view into a larger buffer, as kafkajs hands message values over.
      const text = `{"id": ${o}, "big": ${9_007_199_254_740_993n + BigInt(o)}, "s": "naïve ${o} 😀", "k_partition": 99}`;
      const fetch = Buffer.from(`xxxx${text}yyyy`);
      return kafkaMessageRecord(sourceId, 'orders', p, BigInt(o), { ...m, value: fetch.subarray(4, 4 + Buffer.byteLength(text)) }, capture);
    };
    const out = await same({
      schema, revive: kafkaReviver('g', 'orders', capture)!,
      batcher: { maxRecords: 2 * N },
      async drive(ing) {
        for (let o = 0; o < 3 * N; o++) ing.offer(message(o));
        // A re-delivery in the second batch: it is committed from records decoded again.
        for (let o = 2 * N + 10; o < 3 * N; o++) ing.offer(message(o));
      },
    });
    assert.ok(out.letters.some((l) => l.includes('tombstone')) && out.letters.some((l) => l.includes('UTF-8')) && out.letters.some((l) => l.includes('not a JSON object')) && out.letters.some((l) => l.includes("'nope'")));
    // Offset 8192 is in the batch decoded again: its captured values are the first decode's.
    assert.ok(out.rows.includes('{"id":"8192n","big":"9007199254749185n","s":"naïve 8192 😀","k_topic":"orders","k_partition":2,"k_offset":"8192n","k_ts":1700000001170}'));
    assert.ok(out.rows.includes('{"id":"10n","big":"9007199254741003n","s":"naïve 10 😀","k_topic":"orders","k_partition":1,"k_offset":"10n","k_ts":1700000000001}'));
  });

  /** A full garbage collection (V8's gc exposed for this test file). */
  const collect = async (): Promise<void> => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setImmediate(r)); }
  };

  test('memory: converted chunks do not keep their decoded values, and a committed batch keeps neither its payloads nor its rows once idle', async () => {
    const id: TableIdentifier = { namespace: ['atk'], name: 'memory' };
    await wh.catalog.createTable(id, { schema: SIMPLE });
    const ing = await TableIngestor.open(wh.catalog, id, { batcher: BATCHER, deadLetters: new MemoryDeadLetters(), revive: (r) => parseJsonExact(Buffer.from(r.raw as Uint8Array).toString('utf8')) });
    const values: WeakRef<object>[] = [];
    const payloads: WeakRef<object>[] = [];
    for (let o = 0; o < 2 * N + 10; o++) {
      const raw = new TextEncoder().encode(jsonText(o === 3 ? bad(o) : good(o)));
      const value = parseJsonExact(Buffer.from(raw).toString('utf8')) as object;
      if (o < 2 * N) values.push(new WeakRef(value));
      payloads.push(new WeakRef(raw));
      ing.offer({ value, raw, bytes: raw.length, position: { sourceId: SOURCE, partition: 0, offset: BigInt(o) } });
    }
    await collect();
    assert.equal(values.filter((v) => v.deref() !== undefined).length, 0, 'the values of converted chunks are collected before the flush');
    await ing.flush('time');
    await collect();
    // At most one: in about 1 run in 6 on a loaded machine one payload (always record 8,201, the
    // 10th of the second chunk) stays alive through further GCs, with or without the commit's
    // overlapped writes (seen on fcee1c7 too); the batch (16,394 payloads) is not kept. Which V8
    // structure holds that one record is not found yet.
    assert.ok(payloads.filter((v) => v.deref() !== undefined).length <= 1, 'no payload of the committed batch is kept while the ingestor waits for records');
    assert.equal((await readTableRows(wh.catalog, id)).length, 2 * N + 9);
    await ing.close();
  });

  test('fuzzed NDJSON lines (the ingest fuzz mutations): the same rows, Parquet bytes, dead letters and offsets as records kept whole', { timeout: 600_000 }, async () => {
    const seed = Number(process.env.FLOE_FUZZ_SEED ?? 20261206);
    const r = seededRandom(seed);
    const lines = Array.from({ length: 3 * N + 777 }, (_, n) => fuzzLine(r, 1_000_000 + n));
    const out = await same({
      schema: FUZZ_SCHEMA, spec: 'hour(tstz), bucket(2,id)',
      batcher: { maxRecords: 2 * N + 100 },
      async drive(ing) {
        let offset = 0n;
        lines.forEach((text, i) => {
          const next = offset + BigInt(Buffer.byteLength(text)) + 1n;
          let value: unknown;
          let decodeError: string | undefined;
          try { value = parseJsonExact(text); } catch (err) { decodeError = `line ${i + 1}: invalid JSON (${err instanceof Error ? err.message : String(err)})`; }
          ing.offer({ value, raw: text, bytes: text.length + 64, line: i + 1, position: { sourceId: 'file/fuzz', partition: 0, offset, next }, ...(decodeError ? { decodeError } : {}) });
          offset = next;
        });
      },
    });
    assert.ok(out.letters.length > lines.length / 4 && out.files.reduce((n, f) => n + f.rows, 0) > lines.length / 4, `seed ${seed}: ${out.letters.length} dead letters`);
  });

  test('another writer commits part of the batch while its dead letters are written (after the table was loaded for the commit)', async () => {
    const v = (o: number) => rec(o % 700 === 5 ? bad(o) : good(o), o % 2, o);
    const owned = new Set<string>();
    const out = await same({
      schema: SIMPLE,
      async onDeadLetters(table) {
        if (owned.has(table.name)) return;
        owned.add(table.name);
        const owner = await TableIngestor.open(wh.catalog, table, { batcher: BATCHER, deadLetters: new MemoryDeadLetters() });
        for (let o = 0; o < 3000; o++) owner.offer(v(o));
        await owner.close();
      },
      async drive(ing) { for (let o = 0; o < N + 500; o++) ing.offer(v(o)); },
    });
    assert.deepEqual(out.commits, [`shutdown r${N + 500 - 7 - (3000 - 5)} d7 t${3000 - 5} 0:0-4595,1:1-4596`], 'the 2,995 rows the owner committed trimmed');
    assert.equal(out.rows.length, N + 500 - 7);
  });

  test('the schema changes while the dead letters are written (after the check before the commit): the records are appended against it', async () => {
    const changed = new Set<string>();
    await same({
      schema: SIMPLE,
      async onDeadLetters(table) {
        if (changed.has(table.name)) return;
        changed.add(table.name);
        const m = (await wh.catalog.loadTable(table)).metadata;
        await wh.catalog.commitTable(table, [], evolve((fs) => [...fs.map((f) => (f.name === 'n' ? { ...f, type: 'long' } : f)), { id: 4, name: 'extra', required: false, type: 'string' }])(m));
      },
      async drive(ing) { for (let o = 0; o < N + 500; o++) ing.offer(rec(o % 700 === 5 ? bad(o) : good(o), o % 2, o)); },
    });
  });

  test('a partition whose first chunk holds few of its rows, its file encoded on a worker: the same Parquet bytes (dictionary choice from 4,096 rows, not the first chunk)', async () => {
    const before = process.env.FLOE_ENCODE_MIN_ROWS;
    process.env.FLOE_ENCODE_MIN_ROWS = '2000'; // files of 2,000+ rows go to the encoder workers
    try {
      const out = await same({
        schema: WIDE, spec: 'cat',
        async drive(ing) {
          for (let o = 0; o < 3 * N; o++) ing.offer(rec({ ...wideRow(o), cat: o < N ? (o % 400 === 0 ? 'a' : 'b') : 'a' }, 0, o));
        },
      });
      assert.equal(out.files.length, 2);
      // And a file of many full chunks, unpartitioned.
      await same({ schema: WIDE, async drive(ing) { for (let o = 0; o < 3 * N + 5; o++) ing.offer(rec(wideRow(o), 0, o)); } });
    } finally {
      if (before === undefined) delete process.env.FLOE_ENCODE_MIN_ROWS; else process.env.FLOE_ENCODE_MIN_ROWS = before;
    }
  });

  test('the partition spec evolves in the middle of batches (day(ts) → bucket(8,id), then unpartitioned)', async () => {
    const out = await same({
      schema: WIDE, spec: 'day(ts)',
      batcher: { maxRecords: 2 * N + 11 },
      async drive(ing, alter) {
        let o = 0;
        for (; o < N + 100; o++) ing.offer(rec(o % 999 === 1 ? { ...wideRow(o), ts: 'soon' } : wideRow(o), o % 3, o));
        await alter((m) => [{ action: 'add-spec', spec: parsePartitionExpression('bucket(8,id)', currentSchema(m), 1, m.lastPartitionId) }, { action: 'set-default-spec', specId: 1 }]);
        for (; o < 3 * N; o++) ing.offer(rec(o % 999 === 1 ? { ...wideRow(o), id: null } : wideRow(o), o % 3, o));
        await alter(() => [{ action: 'add-spec', spec: { specId: 2, fields: [] } }, { action: 'set-default-spec', specId: 2 }]);
        for (; o < 4 * N; o++) ing.offer(rec(wideRow(o), o % 3, o));
      },
    });
    assert.ok(new Set(out.files.map((f) => f.partition)).size > 8);
  });
});
