// Kafka `floe ingest` SIGKILLed at every named phase (src/fault-points.ts) of its second batch,
// against the real broker: after the crash the table is consistent and holds exactly the
// messages below the offsets its snapshots recorded (whole batches, never part of one; floe,
// pyiceberg and DuckDB agree); after a restart in the same consumer group every message is in
// the table exactly once — also when the crash fell between the table commit and Kafka's
// offset commit, and with bad records between the dead-letter commit and the table commit.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { appendExactlyOnce } from '../../src/ingest/exactly-once-append.ts';
import { KafkaSource } from '../../src/ingest/kafka-source.ts';
import { DEFAULT_BATCHER_CONFIG } from '../../src/ingest/micro-batcher.ts';
import { committedOffsets, kafkaSourceId } from '../../src/ingest/source-offsets.ts';
import { TableIngestor } from '../../src/ingest/table-ingestor.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';
import { assertTableHolds, type Row } from '../support/crash-checks.ts';
import { createTopic, ensureKafka, kafkaUnavailable, produce, uniqueTopic } from '../support/kafka.ts';
import { readTableRows } from '../support/read-table.ts';
import { REPO_ROOT, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { checkTableConsistency } from '../support/table-consistency.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const skip = await kafkaUnavailable();

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'payload', required: true, type: 'string' },
  { name: 'kafka_partition', required: false, type: 'int' },
  { name: 'kafka_offset', required: false, type: 'long' },
] }, { assignIds: true });

const PARTITIONS = 2;
const MESSAGES = 600;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Message { readonly row: Row; readonly partition: number; readonly offset: bigint; readonly bad: boolean; readonly value: string }

/** Message i goes to partition i % 2, so its offset there is i / 2; `badEvery` makes every Nth one invalid JSON. */
function messages(badEvery?: number): Message[] {
  return Array.from({ length: MESSAGES }, (_, i) => {
    const bad = badEvery !== undefined && i % badEvery === badEvery - 1;
    const row = { id: i, payload: `m${i}` };
    return { row, partition: i % PARTITIONS, offset: BigInt(Math.floor(i / PARTITIONS)), bad, value: bad ? `{"id": ${i}, "payload": ` : JSON.stringify(row) };
  });
}

interface Run { readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; kill(sig: NodeJS.Signals): void; stderr(): string }

function startIngest(warehouse: string, config: string, faultAt?: string): Run {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.FLOE_FAULT_AT;
  if (faultAt) env.FLOE_FAULT_AT = faultAt;
  const proc = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/floe.js'), '--warehouse', warehouse, 'ingest', '--config', config], { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
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

describe('crash during Kafka ingest', { skip }, () => {
  let wh: TestWarehouse;
  let brokers: string[];
  let readers: ReaderServer | undefined;
  let n = 0;
  before(async () => {
    brokers = (await ensureKafka()).brokers;
    wh = await testWarehouse('floe-crash-kafka-');
    await wh.catalog.createNamespace(['crash']);
    if (!readersUnavailable()) readers = new ReaderServer();
  });
  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  async function setup(msgs: readonly Message[], deadLetters: boolean): Promise<{ id: TableIdentifier; sourceId: string; config: string; dlq: TableIdentifier }> {
    const topic = uniqueTopic('crash');
    await createTopic(brokers, topic, PARTITIONS);
    await produce(brokers, topic, msgs.map((m) => ({ value: m.value, partition: m.partition })), { idempotent: true });
    const id = { namespace: ['crash'], name: `k${++n}` };
    const dlq = { namespace: ['crash'], name: `k${n}_dead_letters` };
    await wh.catalog.createTable(id, { schema: SCHEMA });
    const group = `g-${topic}`;
    const config = path.join(wh.dir, `${id.name}.json`);
    writeFileSync(config, JSON.stringify({
      source: { type: 'kafka', brokers, groupId: group },
      routes: [{ topic, table: `crash.${id.name}`, capture: { partition: 'kafka_partition', offset: 'kafka_offset' } }],
      batch: { maxRecords: 100, windowMs: 1000 },
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
  async function crashAndRestart(faultAt: string, badEvery?: number): Promise<{ id: TableIdentifier; dlq: TableIdentifier; msgs: Message[] }> {
    const msgs = messages(badEvery);
    const good = msgs.filter((m) => !m.bad).map((m) => m.row);
    const { id, sourceId, config, dlq } = await setup(msgs, badEvery !== undefined);
    const crashed = startIngest(wh.dir, config, faultAt);
    const end = await within(crashed.exited, 120_000, `ingest to reach ${faultAt}`).catch((err: unknown) => { crashed.kill('SIGKILL'); throw err; });
    assert.equal(end.signal, 'SIGKILL', `ingest should die at ${faultAt}: ${JSON.stringify(end)}\n${crashed.stderr()}`);
    const visible = await committedPart(id, sourceId, msgs);
    assert.ok(visible.length < good.length, `the crash at ${faultAt} came before the end of the stream`);
    await assertTableHolds(wh, id, visible, readers, `after crash at ${faultAt}`);

    const restarted = startIngest(wh.dir, config);
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
    await assertTableHolds(wh, id, good, readers, `after restart (${faultAt})`);
    return { id, dlq, msgs };
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

  test('restart with the table ahead of Kafka\'s offsets and a slow catalog: the late seek re-delivers messages, each is committed once', { timeout: 3 * 60_000 }, async () => {
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
