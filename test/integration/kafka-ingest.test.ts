// Kafka → table through the real broker and real `floe ingest` processes: every flush reason
// lands in the snapshot summary; a stream with 5% bad records splits exactly between table and
// dead-letter table; and under chaos — 3 consumers in one group, SIGKILLed at random and
// restarted (so the group rebalances again and again) — every message lands exactly once.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import { committedOffsets } from '../../src/ingest/source-offsets.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';
import { rng } from '../support/datagen.ts';
import { createTopic, ensureKafka, kafkaUnavailable, produce, uniqueTopic } from '../support/kafka.ts';
import { readTableRows } from '../support/read-table.ts';
import { REPO_ROOT, ReaderServer, readersUnavailable } from '../support/readers.ts';
import { testWarehouse, type TestWarehouse } from '../support/warehouse.ts';

const skip = readersUnavailable() ?? await kafkaUnavailable();
const CHAOS_MESSAGES = Number(process.env.FLOE_CHAOS_MESSAGES ?? 1_000_000);
const CHAOS_KILLS = Number(process.env.FLOE_CHAOS_KILLS ?? 20);

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'payload', required: true, type: 'string' },
  { name: 'kafka_key', required: false, type: 'string' },
  { name: 'kafka_partition', required: false, type: 'int' },
  { name: 'kafka_offset', required: false, type: 'long' },
] }, { assignIds: true });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Worker { proc: ChildProcess; exited: Promise<number | null>; stderr: string[] }

function startWorker(wh: TestWarehouse, configFile: string): Worker {
  const proc = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/floe.js'), '--warehouse', wh.dir, 'ingest', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  proc.stderr!.on('data', (d: Buffer) => { stderr.push(d.toString()); if (stderr.length > 200) stderr.shift(); });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return { proc, exited, stderr };
}

async function totalRecords(wh: TestWarehouse, id: TableIdentifier): Promise<number> {
  const t = await wh.catalog.loadTable(id);
  return Number(branchHead(t.metadata, 'main')?.summary['total-records'] ?? 0);
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function config(wh: TestWarehouse, name: string, o: { topic: string; group: string; table: string; batch: Record<string, unknown>; deadLetter?: string }): string {
  const file = path.join(wh.dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({
    source: { type: 'kafka', brokers: ['127.0.0.1:19092'], groupId: o.group },
    routes: [{ topic: o.topic, table: o.table, capture: { key: 'kafka_key', partition: 'kafka_partition', offset: 'kafka_offset' } }],
    batch: o.batch,
    ...(o.deadLetter ? { deadLetter: { table: o.deadLetter } } : {}),
  }));
  return file;
}

describe('Kafka ingest', { skip }, () => {
  let wh: TestWarehouse;
  let brokers: string[];
  before(async () => {
    brokers = (await ensureKafka()).brokers;
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['kafka']);
  });
  after(async () => { await wh?.cleanup(); });

  test('count, bytes, time and shutdown flushes each commit with their reason', async () => {
    const topic = uniqueTopic('flush');
    await createTopic(brokers, topic, 1);
    const id = { namespace: ['kafka'], name: 'flush' };
    await wh.catalog.createTable(id, { schema: SCHEMA });
    const cfgFile = config(wh, 'flush', { topic, group: `g-${topic}`, table: 'kafka.flush', batch: { maxRecords: 100, maxBytes: 40_000, windowMs: 5000, caughtUpFlushMs: 5000 } });
    const w = startWorker(wh, cfgFile);
    const msg = (i: number, pad = 0) => ({ key: `k${i}`, value: JSON.stringify({ id: i, payload: 'x'.repeat(pad) }) });
    await produce(brokers, topic, Array.from({ length: 100 }, (_, i) => msg(i)));             // count
    await waitFor(async () => (await totalRecords(wh, id)) === 100, 60_000, 'count flush');
    await produce(brokers, topic, Array.from({ length: 20 }, (_, i) => msg(100 + i, 3000)));  // bytes (20 × ~3 KB > 40 KB)
    await waitFor(async () => (await totalRecords(wh, id)) >= 110, 30_000, 'bytes flush');
    await waitFor(async () => (await totalRecords(wh, id)) === 120, 30_000, 'remaining records');
    await produce(brokers, topic, [msg(200)]);                                                  // time
    await waitFor(async () => (await totalRecords(wh, id)) === 121, 30_000, 'time flush');
    await produce(brokers, topic, [msg(300)]);                                                  // shutdown
    await sleep(2000); // consumed (fetch takes < 1 s) but well inside the 5 s window
    w.proc.kill('SIGTERM');
    assert.equal(await w.exited, 0, w.stderr.join(''));
    const t = await wh.catalog.loadTable(id);
    const reasons = new Set(t.metadata.snapshots.map((s) => s.summary['floe.flush-reason']));
    for (const r of ["count", "bytes", "time", "shutdown"]) assert.ok(reasons.has(r), `${r} in ${[...reasons].join(",")}; worker log: ${w.stderr.join("").slice(-3000)}`);
    assert.equal(await totalRecords(wh, id), 122);
    const last = branchHead(t.metadata, 'main')!;
    assert.equal(last.summary[`floe.offsets.kafka/g-${topic}/${topic}`], '{"0":122}');
  });

  test('caught up: a partial batch commits once it is caughtUpFlushMs old (reason caught-up), not after its 2-minute window, each message once', async () => {
    const topic = uniqueTopic('caughtup');
    await createTopic(brokers, topic, 3);
    const id = { namespace: ['kafka'], name: 'caughtup' };
    await wh.catalog.createTable(id, { schema: SCHEMA });
    await produce(brokers, topic, Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ id: i, payload: `p${i}` }) })));
    const w = startWorker(wh, config(wh, 'caughtup', { topic, group: `g-${topic}`, table: 'kafka.caughtup', batch: { maxRecords: 100_000, windowMs: 120_000, caughtUpFlushMs: 500 } }));
    await waitFor(async () => (await totalRecords(wh, id)) === 300, 60_000, 'the backlog committed before the window ends');
    await produce(brokers, topic, Array.from({ length: 30 }, (_, i) => ({ key: `k${300 + i}`, value: JSON.stringify({ id: 300 + i, payload: `p${300 + i}` }) })));
    await waitFor(async () => (await totalRecords(wh, id)) === 330, 60_000, 'the second batch committed before the window ends');
    w.proc.kill('SIGTERM');
    assert.equal(await w.exited, 0, w.stderr.join(''));
    const t = await wh.catalog.loadTable(id);
    const reasons = t.metadata.snapshots.map((s) => s.summary['floe.flush-reason']);
    assert.ok(reasons.length >= 2 && reasons.every((r) => r === 'caught-up'), `reasons: ${reasons.join(',')}`);
    const rows = await readTableRows(wh.catalog, id);
    assert.deepStrictEqual(rows.map((r) => Number(r.id)).sort((a, b) => a - b), Array.from({ length: 330 }, (_, i) => i));
    for (const r of rows) assert.equal(r.payload, `p${Number(r.id)}`);
    // The recorded offsets are each partition's message count: nothing skipped, nothing twice.
    const perPartition = new Map<number, number>();
    for (const r of rows) perPartition.set(Number(r.kafka_partition), (perPartition.get(Number(r.kafka_partition)) ?? 0) + 1);
    const offsets = committedOffsets(t.metadata, 'main', `kafka/g-${topic}/${topic}`);
    assert.deepStrictEqual(new Map([...offsets].map(([p, o]) => [p, Number(o)])), perPartition);
  });

  test('5% bad records: every good one in the table, every bad one dead-lettered, counts exact', async () => {
    const topic = uniqueTopic('dlq');
    await createTopic(brokers, topic, 3);
    const id = { namespace: ['kafka'], name: 'dlq' };
    await wh.catalog.createTable(id, { schema: SCHEMA });
    const n = 20_000;
    const bad = new Set<number>();
    const messages = Array.from({ length: n }, (_, i) => {
      if (i % 20 !== 3) return { key: `k${i}`, value: JSON.stringify({ id: i, payload: `p${i}` }) };
      bad.add(i);
      const kind = (i / 20) % 4 | 0;
      return { key: `k${i}`, value: [
        `{"id": ${i}, "payload": `,                                   // invalid JSON
        JSON.stringify({ id: `x${i}`, payload: 'p' }),                 // wrong type
        JSON.stringify({ id: i }),                                     // missing required field
        JSON.stringify({ id: String(2n ** 70n + BigInt(i)), payload: 'p' }), // oversized long
      ][kind]! };
    });
    await produce(brokers, topic, messages);
    const w = startWorker(wh, config(wh, 'dlq', { topic, group: `g-${topic}`, table: 'kafka.dlq', batch: { maxRecords: 5000, windowMs: 2000 }, deadLetter: 'kafka.dlq_dead_letters' }));
    await waitFor(async () => (await totalRecords(wh, id)) >= n - bad.size, 120_000, 'good records');
    w.proc.kill('SIGTERM');
    assert.equal(await w.exited, 0, w.stderr.join(''));
    const good = await readTableRows(wh.catalog, id);
    assert.equal(good.length, n - bad.size);
    assert.deepStrictEqual(new Set(good.map((r) => Number(r.id))), new Set([...Array(n).keys()].filter((i) => !bad.has(i))));
    const dead = await readTableRows(wh.catalog, { namespace: ['kafka'], name: 'dlq_dead_letters' });
    assert.equal(dead.length, bad.size);
    assert.ok(dead.every((d) => typeof d.error === 'string' && d.error.length > 0 && d.source === `kafka/g-${topic}/${topic}`));
  });

  test('a burst far above the drain rate: memory stays bounded, no crash, the backlog drains', async () => {
    const topic = uniqueTopic('burst');
    await createTopic(brokers, topic, 6);
    const id = { namespace: ['kafka'], name: 'burst' };
    await wh.catalog.createTable(id, { schema: SCHEMA });
    const n = 150_000;
    const pad = 'b'.repeat(1000);
    for (let s = 0; s < n; s += 20_000) {
      await produce(brokers, topic, Array.from({ length: Math.min(20_000, n - s) }, (_, k) => ({ key: `k${s + k}`, value: JSON.stringify({ id: s + k, payload: pad }) })));
    }
    const bufferLimit = 16 * 1024 * 1024;
    const w = startWorker(wh, config(wh, 'burst', { topic, group: `g-${topic}`, table: 'kafka.burst', batch: { maxRecords: 100_000, maxBytes: 8 * 1024 * 1024, bufferLimitBytes: bufferLimit, windowMs: 2000 } }));
    await waitFor(async () => (await totalRecords(wh, id)) >= n, 5 * 60_000, 'backlog drained');
    const status = readFileSync(`/proc/${w.proc.pid}/status`, 'utf8');
    const peakRssMb = Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
    w.proc.kill('SIGTERM');
    assert.equal(await w.exited, 0, w.stderr.join(''));
    assert.equal(await totalRecords(wh, id), n);
    // Fixed overhead: Node + tsx + kafkajs fetch buffers (≤ 6 partitions × 4 MiB) + one batch
    // converted to Arrow/Parquet while the next one buffers.
    const overheadMb = 600; // measured here: ~400 MiB peak with a 16 MiB buffer limit (V8 heap + WASM memory)
    console.log(`burst: ${n} × 1 KB backlog, buffer limit ${bufferLimit / 1024 / 1024} MiB, peak RSS ${peakRssMb.toFixed(0)} MiB (bound ${bufferLimit / 1024 / 1024 + overheadMb} MiB)`);
    assert.ok(peakRssMb < bufferLimit / 1024 / 1024 + overheadMb, `peak RSS ${peakRssMb} MiB`);
  });

  test(`exactly once under chaos: ${CHAOS_MESSAGES} messages, 3 consumers, ${CHAOS_KILLS} SIGKILLs`, { timeout: 30 * 60_000 }, async () => {
    const topic = uniqueTopic('chaos');
    await createTopic(brokers, topic, 6);
    const id = { namespace: ['kafka'], name: 'chaos' };
    await wh.catalog.createTable(id, { schema: SCHEMA, properties: { 'commit.retry.num-retries': '50', 'commit.retry.min-wait-ms': '20', 'commit.retry.max-wait-ms': '1000' } });
    const cfgFile = config(wh, 'chaos', { topic, group: `g-${topic}`, table: 'kafka.chaos', batch: { maxRecords: 20_000, windowMs: 1000 } });
    const pick = rng(4242);
    const producing = (async () => {
      for (let start = 0; start < CHAOS_MESSAGES; start += 20_000) {
        const count = Math.min(20_000, CHAOS_MESSAGES - start);
        await produce(brokers, topic, Array.from({ length: count }, (_, k) => ({ key: `key-${start + k}`, value: JSON.stringify({ id: start + k, payload: `payload-${start + k}` }) })));
        await sleep(100);
      }
    })();
    const workers: Worker[] = [startWorker(wh, cfgFile), startWorker(wh, cfgFile), startWorker(wh, cfgFile)];
    let kills = 0;
    while (kills < CHAOS_KILLS) {
      await sleep(400 + Math.floor(pick() * 1600));
      const victim = Math.floor(pick() * workers.length);
      workers[victim]!.proc.kill('SIGKILL');
      await workers[victim]!.exited;
      kills++;
      // Sometimes the member comes back at once, sometimes later (the group rebalances twice).
      if (pick() < 0.5) await sleep(Math.floor(pick() * 1500));
      workers[victim] = startWorker(wh, cfgFile);
    }
    await producing;
    await waitFor(async () => (await totalRecords(wh, id)) >= CHAOS_MESSAGES, 10 * 60_000, 'all messages committed');
    for (const w of workers) w.proc.kill('SIGTERM');
    for (const w of workers) assert.equal(await w.exited, 0, w.stderr.join(''));

    const rows = await readTableRows(wh.catalog, id);
    assert.equal(rows.length, CHAOS_MESSAGES, 'no doubles');
    const ids = new Set(rows.map((r) => Number(r.id)));
    assert.equal(ids.size, CHAOS_MESSAGES, 'no duplicates');
    for (const r of rows) assert.equal(r.payload, `payload-${String(r.id)}`);
    for (const r of rows) assert.equal(r.kafka_key, `key-${String(r.id)}`);

    // pyiceberg and DuckDB read the same table: every id once.
    const readers = new ReaderServer();
    try {
      for (const reader of ['pyiceberg', 'duckdb'] as const) {
        const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: 'kafka.chaos' });
        assert.equal(res.rows.length, CHAOS_MESSAGES, `${reader} rows`);
        assert.equal(new Set(res.rows.map((r) => String(r.id))).size, CHAOS_MESSAGES, `${reader} distinct ids`);
      }
    } finally {
      await readers.close();
    }
  });
});
