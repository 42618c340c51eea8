// Kafka → table with batches converted while they fill (a route capturing partition, offset and
// timestamp but not the key: the source gives the ingestor a reviver), through the real broker
// and real `floe ingest` processes: 3 consumers in one group, SIGKILLed at random and restarted
// (rebalances, re-deliveries, trims), 5% bad records, tombstones and invalid UTF-8. Every good
// message lands exactly once with its captured metadata; every bad one is dead-lettered once.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Partitioners, type Message } from 'kafkajs';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';
import { rng } from '../support/datagen.ts';
import { createTopic, ensureKafka, kafkaClient, kafkaUnavailable, uniqueTopic } from '../support/kafka.ts';
import { readTableRows } from '../support/read-table.ts';
import { REPO_ROOT } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const skip = await kafkaUnavailable();
const MESSAGES = Number(process.env.FLOE_CONVERTED_MESSAGES ?? 120_000);
const KILLS = Number(process.env.FLOE_CONVERTED_KILLS ?? 8);
const PARTITIONS = 4;
const T0 = 1_750_000_000_000;

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'payload', required: true, type: 'string' },
  { name: 'big', required: false, type: 'long' },
  { name: 'kafka_partition', required: true, type: 'int' },
  { name: 'kafka_offset', required: true, type: 'long' },
  { name: 'kafka_ts', required: true, type: 'timestamptz' },
] }, { assignIds: true });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Message i: a good record, or (every 20th) one of four bad kinds. */
function message(i: number): { value: Buffer | null; good: boolean } {
  if (i % 20 !== 7) return { value: Buffer.from(JSON.stringify({ id: i, payload: `p${i}-${'é'.repeat(i % 4)}` }).replace(/}$/, `,"big":${9_007_199_254_740_993n + BigInt(i)}}`)), good: true };
  switch ((i / 20 | 0) % 4) {
    case 0: return { value: null, good: false }; // tombstone
    case 1: return { value: Buffer.from([0x7b, 0x22, 0x69, 0xff, 0x22, 0x7d]), good: false }; // invalid UTF-8
    case 2: return { value: Buffer.from(JSON.stringify({ id: `x${i}`, payload: 'p' })), good: false };
    default: return { value: Buffer.from('[1,2,3]'), good: false };
  }
}

/** Produces messages start..end-1 to fixed partitions (i % PARTITIONS) with timestamps T0 + i. */
async function produceRange(brokers: string[], topic: string, start: number, end: number): Promise<void> {
  const producer = kafkaClient(brokers, 'floe-test-producer').producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let s = start; s < end; s += 4_000) {
      const chunk: Message[] = [];
      for (let i = s; i < Math.min(end, s + 4_000); i++) chunk.push({ key: null, value: message(i).value, partition: i % PARTITIONS, timestamp: String(T0 + i) });
      await producer.sendBatch({ topicMessages: [{ topic, messages: chunk }], acks: -1, timeout: 30_000 });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Trims seen in the workers' logs (a batch part another consumer committed first). */
let staleEvents = 0;

interface Worker { proc: ChildProcess; exited: Promise<number | null>; stderr: string[]; consuming: boolean }

function startWorker(wh: TestWarehouse, configFile: string): Worker {
  const proc = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/floe.js'), '--warehouse', wh.dir, 'ingest', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const w: Worker = { proc, exited: new Promise<number | null>((r) => proc.on('exit', (code) => r(code))), stderr: [], consuming: false };
  proc.stderr!.on('data', (d: Buffer) => {
    const text = d.toString();
    if (text.includes('"msg":"consuming"')) w.consuming = true;
    for (const m of text.matchAll(/another writer had already committed/g)) { void m; staleEvents++; }
    w.stderr.push(text);
    if (w.stderr.length > 200) w.stderr.shift();
  });
  return w;
}

async function totalRecords(wh: TestWarehouse, id: TableIdentifier): Promise<number> {
  const t = await wh.catalog.loadTable(id);
  return Number(branchHead(t.metadata, 'main')?.summary['total-records'] ?? 0);
}

describe('Kafka ingest with batches converted while they fill', { skip }, () => {
  let wh: TestWarehouse;
  let brokers: string[];
  before(async () => {
    brokers = (await ensureKafka()).brokers;
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['kafka']);
  });
  after(async () => { await wh?.cleanup(); });

  test(`exactly once under chaos: ${MESSAGES} messages, 3 consumers, ${KILLS} SIGKILLs, captured metadata and dead letters`, { timeout: 20 * 60_000 }, async () => {
    const topic = uniqueTopic('converted');
    await createTopic(brokers, topic, PARTITIONS);
    const id = { namespace: ['kafka'], name: 'converted' };
    const deadId = { namespace: ['kafka'], name: 'converted_dead' };
    await wh.catalog.createTable(id, { schema: SCHEMA, properties: { 'commit.retry.num-retries': '50', 'commit.retry.min-wait-ms': '20', 'commit.retry.max-wait-ms': '1000' } });
    const cfgFile = path.join(wh.dir, 'converted.json');
    writeFileSync(cfgFile, JSON.stringify({
      source: { type: 'kafka', brokers, groupId: `g-${topic}` },
      routes: [{ topic, table: 'kafka.converted', capture: { partition: 'kafka_partition', offset: 'kafka_offset', timestamp: 'kafka_ts' } }],
      batch: { maxRecords: 30_000, windowMs: 4000 },
      deadLetter: { table: 'kafka.converted_dead' },
    }));
    const good = Array.from({ length: MESSAGES }, (_, i) => message(i).good).filter(Boolean).length;
    const pick = rng(777);
    const producing = (async () => {
      // Paced, so that the kills land while batches fill and commit.
      for (let s = 0; s < MESSAGES; s += 10_000) { await produceRange(brokers, topic, s, Math.min(MESSAGES, s + 10_000)); await sleep(700); }
    })();
    const workers: Worker[] = [startWorker(wh, cfgFile), startWorker(wh, cfgFile), startWorker(wh, cfgFile)];
    for (let kills = 0; kills < KILLS; kills++) {
      await sleep(800 + Math.floor(pick() * 1600));
      const victim = Math.floor(pick() * workers.length);
      workers[victim]!.proc.kill('SIGKILL');
      await workers[victim]!.exited;
      if (pick() < 0.5) await sleep(Math.floor(pick() * 1500));
      workers[victim] = startWorker(wh, cfgFile);
    }
    await producing;
    const end = Date.now() + 8 * 60_000;
    while ((await totalRecords(wh, id)) < good) {
      assert.ok(Date.now() < end, `timed out: ${await totalRecords(wh, id)} of ${good} rows`);
      await sleep(500);
    }
    // A worker restarted last may still be starting: SIGTERM once it consumes (its handler is in).
    for (const w of workers) {
      while (!w.consuming) { assert.ok(Date.now() < end, 'a worker never started consuming'); await sleep(200); }
    }
    for (const w of workers) w.proc.kill('SIGTERM');
    for (const w of workers) assert.equal(await w.exited, 0, w.stderr.join(''));

    console.log(`${MESSAGES} messages, ${KILLS} kills: ${staleEvents} trimmed batch parts`);
    const rows = await readTableRows(wh.catalog, id);
    assert.equal(rows.length, good, 'each good message once');
    const seen = new Set<number>();
    for (const r of rows) {
      const i = Number(r.id);
      assert.ok(!seen.has(i), `id ${i} twice`);
      seen.add(i);
      assert.ok(message(i).good, `bad message ${i} in the table`);
      assert.equal(r.payload, `p${i}-${'é'.repeat(i % 4)}`);
      assert.equal(r.big, 9_007_199_254_740_993n + BigInt(i));
      assert.equal(r.kafka_partition, i % PARTITIONS);
      assert.equal(r.kafka_offset, BigInt(Math.floor(i / PARTITIONS)), `offset of ${i}`);
      assert.equal(r.kafka_ts, T0 + i, `timestamp of ${i}`);
    }
    const dead = await readTableRows(wh.catalog, deadId);
    const deadKeys = dead.map((d) => `${String(d.source_partition)}/${String(d.source_offset)}`);
    assert.equal(new Set(deadKeys).size, dead.length, 'each dead letter once');
    assert.equal(dead.length, MESSAGES - good);
    for (const d of dead) {
      const i = Number(d.source_offset) * PARTITIONS + Number(d.source_partition);
      assert.ok(!message(i).good, `good message ${i} dead-lettered: ${String(d.error)}`);
      assert.equal(d.source_timestamp, T0 + i);
    }
  });
});
