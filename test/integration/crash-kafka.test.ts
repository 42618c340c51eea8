// Kafka `floe ingest` SIGKILLed at every named phase (src/fault-points.ts) of its second batch,
// against the real broker: after the crash the table is consistent and holds exactly the
// messages below the offsets its snapshots recorded (whole batches, never part of one; floe,
// pyiceberg and DuckDB agree); after a restart in the same consumer group every message is in
// the table exactly once — also when the crash fell between the table commit and Kafka's
// offset commit, and with bad records between the dead-letter commit and the table commit.
// The crash scenarios run twice: on a local warehouse with its SQLite catalog (also read by
// pyiceberg and DuckDB), and on S3 (a fresh SeaweedFS bucket) with the catalog in PostgreSQL,
// where a process killed in the middle of a multipart upload leaves the upload open until
// `floe remove-orphans` aborts it.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { appendExactlyOnce } from '../../src/ingest/exactly-once-append.ts';
import { KafkaSource } from '../../src/ingest/kafka-source.ts';
import { DEFAULT_BATCHER_CONFIG } from '../../src/ingest/micro-batcher.ts';
import { committedOffsets, kafkaSourceId } from '../../src/ingest/source-offsets.ts';
import { TableIngestor } from '../../src/ingest/table-ingestor.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import { identifierToString, type TableIdentifier } from '../../src/table/identifier.ts';
import { assertTableHolds, type Row } from '../support/crash-checks.ts';
import { noiseText } from '../support/datagen.ts';
import { createTopic, ensureKafka, kafkaUnavailable, produce, uniqueTopic } from '../support/kafka.ts';
import { readTableRows } from '../support/read-table.ts';
import { REPO_ROOT, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { checkTableConsistency } from '../support/table-consistency.ts';
import { localIngestWarehouse, openUploads, s3PostgresWarehouse, type IngestWarehouse } from '../support/ingest-warehouse.ts';
import { postgresUnavailable } from '../support/postgres.ts';
import { S3FaultProxy, isUploadPart } from '../support/s3-fault-proxy.ts';
import { ensureS3, s3Unavailable, type S3Server } from '../support/s3.ts';

const skip = await kafkaUnavailable();
const s3Skip = skip ?? await s3Unavailable() ?? await postgresUnavailable();

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'payload', required: true, type: 'string' },
  { name: 'kafka_partition', required: false, type: 'int' },
  { name: 'kafka_offset', required: false, type: 'long' },
] }, { assignIds: true });

const execFileP = promisify(execFile);
const PARTITIONS = 2;
const MESSAGES = 600;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Message { readonly row: Row; readonly partition: number; readonly offset: bigint; readonly bad: boolean; readonly value: string }

/** `n` messages with a `bytes`-long payload of noise: a batch of them makes a large data file. */
function bigMessages(n: number, bytes: number): Message[] {
  return Array.from({ length: n }, (_, i) => {
    const row = { id: i, payload: `b${i}:${noiseText(i, bytes)}` };
    return { row, partition: i % PARTITIONS, offset: BigInt(Math.floor(i / PARTITIONS)), bad: false, value: JSON.stringify(row) };
  });
}

/** Message i goes to partition i % 2, so its offset there is i / 2; `badEvery` makes every Nth one invalid JSON. */
function messages(badEvery?: number): Message[] {
  return Array.from({ length: MESSAGES }, (_, i) => {
    const bad = badEvery !== undefined && i % badEvery === badEvery - 1;
    const row = { id: i, payload: `m${i}` };
    return { row, partition: i % PARTITIONS, offset: BigInt(Math.floor(i / PARTITIONS)), bad, value: bad ? `{"id": ${i}, "payload": ` : JSON.stringify(row) };
  });
}

interface Run { readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; kill(sig: NodeJS.Signals): void; stderr(): string }

function startIngest(wh: IngestWarehouse, config: string, faultAt?: string, env: Readonly<Record<string, string>> = wh.env): Run {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.FLOE_FAULT_AT;
  if (faultAt) childEnv.FLOE_FAULT_AT = faultAt;
  const proc = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/floe.js'), ...wh.cliArgs, 'ingest', '--config', config], { cwd: REPO_ROOT, env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-6000); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  return { exited, kill: (sig) => proc.kill(sig), stderr: () => err };
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms); });
  try { return await Promise.race([p, timeout]); } finally { clearTimeout(timer); }
}

interface Target {
  readonly label: string;
  readonly skip: string | undefined;
  open(): Promise<IngestWarehouse>;
  /** S3 only: the server, for the multipart upload checks. */
  readonly server?: () => Promise<S3Server>;
}

const TARGETS: Target[] = [
  { label: 'local warehouse, SQLite catalog', skip, open: () => localIngestWarehouse('floe-crash-kafka-') },
  { label: 'S3 warehouse, PostgreSQL catalog', skip: s3Skip, open: async () => s3PostgresWarehouse(await ensureS3(), 'crash-kafka'), server: ensureS3 },
];

for (const target of TARGETS) describe(`crash during Kafka ingest (${target.label})`, { skip: target.skip }, () => {
  let wh: IngestWarehouse;
  let brokers: string[];
  let readers: ReaderServer | undefined;
  let n = 0;
  before(async () => {
    brokers = (await ensureKafka()).brokers;
    wh = await target.open();
    await wh.catalog.createNamespace(['crash']);
    if (wh.readable && !readersUnavailable()) readers = new ReaderServer();
  });
  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  async function setup(msgs: readonly Message[], deadLetters: boolean, batch = { maxRecords: 100, windowMs: 1000 }, source: Readonly<Record<string, unknown>> = {}): Promise<{ id: TableIdentifier; sourceId: string; config: string; dlq: TableIdentifier }> {
    const topic = uniqueTopic('crash');
    await createTopic(brokers, topic, PARTITIONS);
    // Small produce calls make small record batches, which small fetches then return one by one.
    await produce(brokers, topic, msgs.map((m) => ({ value: m.value, partition: m.partition })), { idempotent: true, ...(source.maxPartitionFetchBytes !== undefined ? { batchSize: 20 } : {}) });
    const id = { namespace: ['crash'], name: `k${++n}` };
    const dlq = { namespace: ['crash'], name: `k${n}_dead_letters` };
    await wh.catalog.createTable(id, { schema: SCHEMA });
    const group = `g-${topic}`;
    const config = path.join(wh.scratch, `${id.name}.json`);
    writeFileSync(config, JSON.stringify({
      // A killed consumer holds its partitions for the session timeout before the restarted one
      // gets them: 10 s rather than the default 30 s keeps each crash-and-restart short.
      source: { type: 'kafka', brokers, groupId: group, sessionTimeoutMs: 10_000, ...source },
      routes: [{ topic, table: `crash.${id.name}`, capture: { partition: 'kafka_partition', offset: 'kafka_offset' } }],
      batch,
      ...(deadLetters ? { deadLetter: { table: `crash.${dlq.name}` } } : {}),
    }));
    return { id, sourceId: kafkaSourceId(group, topic), config, dlq };
  }

  /** The good messages below the offsets the table recorded: what a crash may leave visible. */
  async function committedPart(id: TableIdentifier, sourceId: string, msgs: readonly Message[]): Promise<Row[]> {
    const done = committedOffsets((await wh.catalog.loadTable(id)).metadata, 'main', sourceId);
    return msgs.filter((m) => !m.bad && m.offset < (done.get(m.partition) ?? 0n)).map((m) => m.row);
  }

  const total = async (id: TableIdentifier): Promise<number> => Number(branchHead((await wh.catalog.loadTable(id)).metadata, 'main')?.summary['total-records'] ?? 0);

  /** Crashes at `faultAt`, checks the table, restarts until every good message is in, checks again. */
  async function crashAndRestart(faultAt: string, badEvery?: number, source: Readonly<Record<string, unknown>> = {}): Promise<{ id: TableIdentifier; dlq: TableIdentifier; msgs: Message[] }> {
    const msgs = messages(badEvery);
    const good = msgs.filter((m) => !m.bad).map((m) => m.row);
    const { id, sourceId, config, dlq } = await setup(msgs, badEvery !== undefined, undefined, source);
    const crashed = startIngest(wh, config, faultAt);
    const end = await within(crashed.exited, 120_000, `ingest to reach ${faultAt}`).catch((err: unknown) => { crashed.kill('SIGKILL'); throw err; });
    assert.equal(end.signal, 'SIGKILL', `ingest should die at ${faultAt}: ${JSON.stringify(end)}\n${crashed.stderr()}`);
    const visible = await committedPart(id, sourceId, msgs);
    assert.ok(visible.length < good.length, `the crash at ${faultAt} came before the end of the stream`);
    await assertTableHolds(wh, id, visible, readers, `after crash at ${faultAt}`);
    await restartUntilComplete(id, config, good, faultAt);
    return { id, dlq, msgs };
  }

  /** Runs the ingest until every good message is in, stops it, checks the table (and that no upload is open on S3). */
  async function restartUntilComplete(id: TableIdentifier, config: string, good: readonly Row[], context: string): Promise<void> {
    const restarted = startIngest(wh, config);
    try {
      const deadline = Date.now() + 180_000;
      while (await total(id) < good.length) {
        if (Date.now() > deadline) throw new Error(`restart did not ingest every message: ${await total(id)} of ${good.length}\n${restarted.stderr()}`);
        await sleep(500);
      }
      await sleep(1500); // a duplicate commit, if any, would land now
    } finally {
      restarted.kill('SIGTERM');
    }
    const stopped = await within(restarted.exited, 60_000, 'orderly stop');
    assert.equal(stopped.code, 0, restarted.stderr());
    await assertTableHolds(wh, id, good, readers, `after restart (${context})`);
    if (target.server) assert.deepEqual(await openUploads(await target.server(), wh.bucket!), [], `no multipart upload open after the clean run (${context})`);
  }

  const PHASES = [
    'append.after-data-files', 'append.after-manifest', 'append.after-manifest-list',
    'commit.after-metadata-file', 'commit.after-catalog-swap', 'ingest.before-offset-commit',
  ];
  for (const phase of PHASES) {
    test(`killed at ${phase} of the second batch: whole batches visible; restart ingests every message once`, { timeout: 6 * 60_000 }, async () => {
      await crashAndRestart(`${phase}#2`);
    });
  }

  // Overlap: the next batch fills while one commits. Record batches of 10 messages fetched at
  // most 1 KB per partition keep arriving during the commit, so the point (reached only when the
  // next batch holds records) is met; the kill drops the committing batch just before its
  // catalog swap and the next one with it. With bad records every 25th, the dead letters of the killed
  // batch were committed before its swap: they must not be doubled either.
  for (const badEvery of [undefined, 25]) {
    test(`killed inside an overlapped commit (ingest.overlapped-commit#2: the batch's files and metadata written, the next batch filling)${badEvery ? ', with bad records' : ''}: whole batches visible; restart ingests every message once`, { timeout: 6 * 60_000 }, async () => {
      const { dlq, msgs } = await crashAndRestart('ingest.overlapped-commit#2', badEvery, { maxPartitionFetchBytes: 1024 });
      if (badEvery === undefined) return;
      const dead = await readTableRows(wh.catalog, dlq);
      const want = msgs.filter((m) => m.bad).map((m) => `${m.partition}/${m.offset}:${m.value}`).sort();
      const got = dead.map((d) => `${String(d.source_partition)}/${String(d.source_offset)}:${String(d.payload)}`).sort();
      assert.deepEqual(got, want, 'each bad message dead-lettered exactly once');
    });
  }

  for (const phase of ['ingest.after-dead-letters', 'commit.after-catalog-swap']) {
    test(`with bad records, killed at ${phase} of the first batch: every good message once in the table, every bad one once in the dead letters`, { timeout: 6 * 60_000 }, async () => {
      const { dlq, msgs } = await crashAndRestart(phase, 25);
      assert.deepEqual((await checkTableConsistency(wh.catalog, dlq)).problems, []);
      const dead = await readTableRows(wh.catalog, dlq);
      const want = msgs.filter((m) => m.bad).map((m) => `${m.partition}/${m.offset}:${m.value}`).sort();
      const got = dead.map((d) => `${String(d.source_partition)}/${String(d.source_offset)}:${String(d.payload)}`).sort();
      assert.deepEqual(got, want, 'each bad message dead-lettered exactly once');
    });
  }

  // S3 only (registered for the S3 target alone, so CI counts no skipped test).
  if (target.server) test('killed in the middle of a multipart upload: nothing visible, the open upload is aborted by floe remove-orphans --older-than 0s, restart ingests every message once', { timeout: 6 * 60_000 }, async () => {
    const server = await target.server!();
    // ~13 MB of base64 payload in one batch: its data file (~10 MB) goes up in 5 MiB parts.
    const msgs = bigMessages(400, 32 * 1024);
    const good = msgs.map((m) => m.row);
    const { id, sourceId, config } = await setup(msgs, false, { maxRecords: 10_000, windowMs: 3000 });
    const proxy = await S3FaultProxy.start(server.endpoint);
    try {
      // Parts never reach the server: the upload is created, then the process dies mid-file.
      proxy.delay(10 * 60_000, isUploadPart, { phase: 'request' });
      const crashed = startIngest(wh, config, undefined, { ...wh.env, FLOE_S3_ENDPOINT: proxy.endpoint });
      const deadline = Date.now() + 120_000;
      while (proxy.seen(isUploadPart) === 0) {
        if (Date.now() > deadline || crashed.stderr().includes('"level":50')) { crashed.kill('SIGKILL'); throw new Error(`no part upload started\n${crashed.stderr()}`); }
        await sleep(100);
      }
      crashed.kill('SIGKILL');
      assert.equal((await within(crashed.exited, 30_000, 'SIGKILL')).signal, 'SIGKILL');
    } finally {
      await proxy.close();
    }
    const open = await openUploads(server, wh.bucket!);
    assert.equal(open.length, 1, `the killed writer left its upload open: ${JSON.stringify(open)}`);
    assert.match(open[0]!.key, /^wh\/crash\/k\d+\/data\/.*\.parquet$/);
    await assertTableHolds(wh, id, await committedPart(id, sourceId, msgs), readers, 'after the kill mid-upload');
    assert.equal(await total(id), 0, 'nothing of the batch is visible');

    const orphans = await floe(...wh.cliArgs, 'remove-orphans', identifierToString(id), '--older-than', '0s');
    assert.match(orphans, /aborted 1 stale multipart upload\(s\)/);
    assert.deepEqual(await openUploads(server, wh.bucket!), [], 'remove-orphans aborted the upload');
    await restartUntilComplete(id, config, good, 'kill mid-upload');
  });

  async function floe(...args: string[]): Promise<string> {
    const r = await execFileP(process.execPath, [path.join(REPO_ROOT, 'bin/floe.js'), ...args], { cwd: REPO_ROOT, env: { ...process.env, ...wh.env } });
    return r.stdout;
  }

  // Storage-independent: registered for the local warehouse only.
  if (!target.server) test('restart with the table ahead of Kafka\'s offsets and a slow catalog: the late seek re-delivers messages, each is committed once', { timeout: 3 * 60_000 }, async () => {
    // What a restart after a crash at ingest.before-offset-commit meets: Kafka's committed offset
    // (here none: the group starts at 0) is behind the table's (50 per partition). The seek to
    // the table's offsets lands after the first fetch when loading the table is slow (a remote
    // catalog), and kafkajs re-delivers from the seek: messages 50.. arrive twice.
    const msgs = messages();
    const { id, sourceId } = await setup(msgs, false);
    const topic = sourceId.split('/').at(-1)!;
    const first = msgs.filter((m) => m.offset < 50n);
    await appendExactlyOnce(wh.catalog, id, first.map((m) => ({ value: { ...m.row }, position: { sourceId, partition: m.partition, offset: m.offset } })), {
      branch: 'main', sourceId, batchRanges: new Map(Array.from({ length: PARTITIONS }, (_, p) => [p, { start: 0n, next: 50n }])),
    });
    let slow = false;
    const slowCatalog = new Proxy(wh.catalog, {
      get(target, prop) {
        if (prop === 'loadTable') return async (...args: Parameters<Catalog['loadTable']>) => { if (slow) await sleep(1500); return target.loadTable(...args); };
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    // One batch for everything (committed on stop), so a re-delivered message meets its first copy.
    const ingestor = await TableIngestor.open(slowCatalog, id, { batcher: { ...DEFAULT_BATCHER_CONFIG, windowMs: 120_000, maxRecords: 100_000 } });
    slow = true;
    const source = new KafkaSource({ brokers, groupId: sourceId.split('/')[1]!, routes: [{ topic, ingestor }] });
    await source.start();
    try {
      const deadline = Date.now() + 60_000;
      // Every message once from offset 0, then again from the seek to 50.
      while (ingestor.counts.received < MESSAGES + (MESSAGES - 100) && Date.now() < deadline) await sleep(200);
    } finally {
      await source.stop();
    }
    assert.equal(ingestor.counts.received, MESSAGES + (MESSAGES - 100), 'messages 50.. of each partition were delivered twice');
    await assertTableHolds(wh, id, msgs.map((m) => m.row), readers, 'after the late seek');
  });
});
