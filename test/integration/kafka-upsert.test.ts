// Upsert ingest from a Debezium-style change topic against the real broker, with crashes: N
// changes (op c/u/d with before/after, ts_ms, a growing source.lsn; some in the Kafka Connect
// { schema, payload } wrapper, a tombstone after every delete, a few truncates that must become
// dead letters) over K keys, keyed by id on 3 partitions so each key's changes keep their order.
// Three `floe ingest` processes in one consumer group merge it while random ones are SIGKILLed
// at random moments and restarted, until the table's recorded offsets reach the end of every
// partition. Then the table — read by floe's own live-row scan, pyiceberg and DuckDB — equals
// the model (the last change per key): nothing doubled, lost or applied out of order; and each
// truncate is in the dead-letter table exactly once.
//
// Size: FLOE_UPSERT_CHANGES (N, default 1,000,000) and FLOE_UPSERT_KEYS (K, default N/10);
// FLOE_UPSERT_KILLS crashes (default 4), FLOE_UPSERT_SEED. Timings: see DEFAULT_CHANGES.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { committedOffsets, kafkaSourceId } from '../../src/ingest/source-offsets.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { schemaWithKey } from '../../src/transaction/set-table-key.ts';
import { createTopic, ensureKafka, kafkaClient, kafkaUnavailable, uniqueTopic } from '../support/kafka.ts';
import { readLiveRows } from '../support/live-table-rows.ts';
import { readTableRows } from '../support/read-table.ts';
import { REPO_ROOT, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const skip = await kafkaUnavailable();

/**
 * The size. On the 2-core dev machine (shared with other test runs) 1,000,000 changes
 * over 100,000 keys with 4 kills took 250 s (produce 73 s, consume 157 s, verify 20 s), inside
 * the ~5 minute budget, so it is the default; 200,000 took 131 s.
 */
const DEFAULT_CHANGES = 1_000_000;
const CHANGES = Number(process.env.FLOE_UPSERT_CHANGES ?? DEFAULT_CHANGES);
const KEYS = Number(process.env.FLOE_UPSERT_KEYS ?? Math.max(1, Math.round(CHANGES / 10)));
const KILLS = Number(process.env.FLOE_UPSERT_KILLS ?? 4);
const SEED = Number(process.env.FLOE_UPSERT_SEED ?? 20261127);
const PARTITIONS = 3;
const PROCESSES = 3;
/** Every this many changes a truncate event (refused: a dead letter). */
const TRUNCATE_EVERY = 49_999;

const SCHEMA = schemaWithKey(schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'name', required: true, type: 'string' },
  { name: 'balance', required: false, type: 'long' },
  { name: 'lsn', required: true, type: 'long' },
] }, { assignIds: true }), ['id']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ChangeMessage { readonly key: string; readonly value: string | null }
interface Row { readonly id: number; readonly name: string; readonly balance: number | null; readonly lsn: number }

/** The change topic's messages in production order, the model (last change per key) and the
 * truncate events' values. */
function changeStream(n: number, keys: number, seed: number): { messages: ChangeMessage[]; model: Map<number, Row>; truncates: string[] } {
  const rand = prng(seed);
  const live = new Map<number, Row>();
  const messages: ChangeMessage[] = [];
  const truncates: string[] = [];
  for (let i = 1; i <= n; i++) {
    const id = Math.floor(rand() * keys);
    const ts = 1_700_000_000_000 + i;
    const source = { connector: 'postgresql', db: 'shop', table: 'accounts', lsn: 1_000 + i * 8 };
    if (i % TRUNCATE_EVERY === 0) {
      const value = JSON.stringify({ op: 't', before: null, after: null, source, ts_ms: ts });
      truncates.push(value);
      messages.push({ key: String(id), value });
      continue;
    }
    const before = live.get(id) ?? null;
    let event: Record<string, unknown>;
    if (before && rand() < 0.15) {
      event = { op: 'd', before, after: null, source, ts_ms: ts };
      live.delete(id);
    } else {
      const row: Row = { id, name: `acct-${id}-${i}`, balance: rand() < 0.1 ? null : Math.floor(rand() * 1e9) - 5e8, lsn: i };
      event = { op: before ? 'u' : rand() < 0.05 ? 'r' : 'c', before, after: row, source, ts_ms: ts };
      live.set(id, row);
    }
    // Kafka Connect's JSON converter with schemas.enable=true wraps the event.
    const value = i % 4 === 0 ? JSON.stringify({ schema: { type: 'struct', name: 'shop.accounts.Envelope', optional: false }, payload: event }) : JSON.stringify(event);
    messages.push({ key: String(id), value });
    // Debezium follows a delete with a tombstone for log compaction.
    if (event.op === 'd') messages.push({ key: String(id), value: null });
  }
  return { messages, model: live, truncates };
}

/** Produces in order (idempotent, acks=all), keyed: the Java client's murmur2 partitioner keeps a
 * key on one partition. Null values (tombstones) included, which test/support/kafka.ts cannot send. */
async function produceChanges(brokers: string[], topic: string, messages: readonly ChangeMessage[]): Promise<void> {
  const { Partitioners } = await import('kafkajs');
  const producer = kafkaClient(brokers, 'floe-test-upsert-producer').producer({
    createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    for (let start = 0; start < messages.length; start += 4_000) {
      await producer.sendBatch({ topicMessages: [{ topic, messages: messages.slice(start, start + 4_000).map((m) => ({ key: m.key, value: m.value })) }], acks: -1, timeout: 30_000 });
    }
  } finally {
    await producer.disconnect();
  }
}

async function endOffsets(brokers: string[], topic: string): Promise<Map<number, bigint>> {
  const admin = kafkaClient(brokers, 'floe-test-admin').admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

interface Worker { readonly slot: number; readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; kill(sig: NodeJS.Signals): void; stderr(): string; signalled: boolean; consuming: boolean }

function startWorker(slot: number, warehouse: string, config: string): Worker {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.FLOE_FAULT_AT;
  const proc = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/floe.js'), '--warehouse', warehouse, 'ingest', '--config', config], { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => {
    const text = err + d.toString();
    if (text.includes('"msg":"consuming"')) w.consuming = true;
    err = text.slice(-8000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  const w: Worker = { slot, exited, kill: (sig) => { w.signalled = true; proc.kill(sig); }, stderr: () => err, signalled: false, consuming: false };
  return w;
}

const rowText = (r: Record<string, unknown>): string => `${String(r.id)}|${String(r.name)}|${r.balance === null || r.balance === undefined ? 'null' : String(r.balance)}|${String(r.lsn)}`;

describe('upsert ingest from a Debezium topic with crashes', { skip }, () => {
  let wh: TestWarehouse;
  let brokers: string[];
  let readers: ReaderServer | undefined;
  before(async () => {
    brokers = (await ensureKafka()).brokers;
    wh = await testWarehouse('floe-kafka-upsert-');
    await wh.catalog.createNamespace(['cdc']);
    if (!readersUnavailable()) readers = new ReaderServer();
  });
  after(async () => {
    await readers?.close();
    await wh?.cleanup();
  });

  test(`${CHANGES} changes over ${KEYS} keys, 3 processes, ${KILLS} SIGKILLs: the table is the last change per key`, { timeout: 60 * 60_000 }, async (t) => {
    const t0 = Date.now();
    const { messages, model, truncates } = changeStream(CHANGES, KEYS, SEED);
    const topic = uniqueTopic('upsert');
    await createTopic(brokers, topic, PARTITIONS);
    await produceChanges(brokers, topic, messages);
    const produced = Date.now();
    const ends = await endOffsets(brokers, topic);
    assert.equal([...ends.values()].reduce((a, b) => a + b, 0n), BigInt(messages.length));

    const id = { namespace: ['cdc'], name: 'accounts' };
    await wh.catalog.createTable(id, { schema: SCHEMA, properties: {
      'write.merge.mode': 'merge-on-read', 'write.delete.mode': 'merge-on-read',
      // Three writers on one table: their merges conflict and re-plan on the new base.
      'commit.retry.num-retries': '50', 'commit.retry.min-wait-ms': '20', 'commit.retry.max-wait-ms': '2000',
    } });
    const group = `g-${topic}`;
    const sourceId = kafkaSourceId(group, topic);
    const config = path.join(wh.dir, 'ingest.json');
    writeFileSync(config, JSON.stringify({
      source: { type: 'kafka', brokers, groupId: group, sessionTimeoutMs: 10_000 },
      routes: [{ topic, table: 'cdc.accounts', upsert: { format: 'debezium' } }],
      batch: { maxRecords: Math.max(1_000, Math.min(50_000, Math.ceil(messages.length / 24))), windowMs: 3_000 },
      deadLetter: { table: 'cdc.dead_letters' },
    }));

    const rand = prng(SEED ^ 0x5eed);
    const workers: Worker[] = Array.from({ length: PROCESSES }, (_, slot) => startWorker(slot, wh.dir, config));
    const unexpected: string[] = [];
    const watch = (w: Worker): void => {
      void w.exited.then((e) => { if (!w.signalled) unexpected.push(`worker ${w.slot} exited ${JSON.stringify(e)}:\n${w.stderr()}`); });
    };
    workers.forEach(watch);
    const progress = async (): Promise<bigint> => {
      const done = committedOffsets((await wh.catalog.loadTable(id)).metadata, 'main', sourceId);
      return [...ends].reduce((s, [p]) => s + (done.get(p) ?? 0n), 0n);
    };
    const total = BigInt(messages.length);
    let kills = 0;
    try {
      // Kills land at random moments while the topic is being consumed: each at a random
      // fraction of the way, then a restart after up to 2 s.
      const killAt = Array.from({ length: KILLS }, () => 0.05 + rand() * 0.85).sort((a, b) => a - b);
      const deadline = Date.now() + 55 * 60_000;
      for (;;) {
        assert.deepEqual(unexpected, [], 'a worker died on its own');
        const done = await progress();
        if (done >= total) break;
        if (Date.now() > deadline) throw new Error(`not consumed in time: ${done} of ${total}\n${workers.map((w) => w.stderr()).join('\n---\n')}`);
        if (kills < killAt.length && Number(done) >= killAt[kills]! * Number(total)) {
          const slot = Math.floor(rand() * PROCESSES);
          await sleep(rand() * 1500);
          const victim = workers[slot]!;
          victim.kill('SIGKILL');
          await victim.exited;
          kills++;
          t.diagnostic(`SIGKILL worker ${slot} at ${done}/${total} (${((Date.now() - produced) / 1000).toFixed(1)} s)`);
          await sleep(rand() * 2000);
          workers[slot] = startWorker(slot, wh.dir, config);
          watch(workers[slot]);
        }
        await sleep(500);
      }
      await sleep(1500); // a late duplicate commit, if any, would land now
      // A worker restarted just now may still be loading: SIGTERM before its handler is in kills it.
      const started = Date.now();
      while (!workers.every((w) => w.consuming) && Date.now() - started < 60_000) await sleep(200);
    } finally {
      for (const w of workers) w.kill('SIGTERM');
      await Promise.all(workers.map(async (w) => {
        const timer = setTimeout(() => w.kill('SIGKILL'), 60_000);
        try { await w.exited; } finally { clearTimeout(timer); }
      }));
    }
    const consumed = Date.now();
    assert.equal(kills, KILLS);
    assert.deepEqual(unexpected, []);
    const stopped = await Promise.all(workers.map((w) => w.exited));
    assert.deepEqual(stopped.map((e) => e.code), workers.map(() => 0), `orderly stops: ${workers.map((w) => w.stderr().slice(-1500)).join('\n---\n')}`);
    t.diagnostic(`produce ${((produced - t0) / 1000).toFixed(1)} s, consume ${((consumed - produced) / 1000).toFixed(1)} s with ${kills} kills`);

    const want = [...model.values()].map((r) => rowText(r as unknown as Record<string, unknown>)).sort();
    const diff = (got: string[]): string => {
      const g = new Set(got);
      const w = new Set(want);
      return `${got.length} rows (${g.size} distinct), expected ${want.length}; missing ${want.filter((x) => !g.has(x)).slice(0, 5).join(', ')}; extra ${got.filter((x) => !w.has(x)).slice(0, 5).join(', ')}`;
    };
    const own = (await readLiveRows(wh.catalog, id)).map((r) => rowText(r)).sort();
    assert.ok(own.join('\n') === want.join('\n'), `floe live rows: ${diff(own)}`);
    for (const reader of readers ? ['pyiceberg', 'duckdb'] as const : []) {
      const res = await readers!.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'cdc.accounts' });
      const got = res.rows.map(rowText).sort();
      assert.ok(got.join('\n') === want.join('\n'), `${reader}: ${diff(got)}`);
    }
    const dead = await readTableRows(wh.catalog, { namespace: ['cdc'], name: 'dead_letters' }).catch(() => []);
    assert.deepEqual(dead.map((d) => String(d.payload)).sort(), [...truncates].sort(), 'each truncate dead-lettered exactly once');
    for (const d of dead) assert.match(String(d.error), /truncate/);
    t.diagnostic(`verify ${((Date.now() - consumed) / 1000).toFixed(1)} s; total ${((Date.now() - t0) / 1000).toFixed(1)} s; ${want.length} live rows`);
  });
});
