// Benchmark (not a test): Kafka → table through real `floe ingest` processes.
//  1. Sustained throughput: a backlog of ~1 KB JSON messages drained by 1 and by 2 processes
//     (records/s and MB/s from the first to the last commit).
//     The peer, on the same topic in the same run: a bare kafkajs consumer (its own group,
//     from the beginning) that only JSON.parses each value — the ceiling of floe's own client.
//  2. Freshness at 10 s windows: messages produced at a steady rate; for every row,
//     commit time of the snapshot that added it minus the message's Kafka timestamp.
//
//   npm run kafka:up && node --import tsx test/bench/kafka-ingest-bench.ts [--messages 200000] [--procs 1,2] [--repeat 1] [--fresh-seconds 60] [--rate 2000]
//   (--fresh-seconds 0 skips the freshness part; --source '{"fetchMaxWaitMs":5000}' adds source keys;
//   --batch '{"maxRecords":10000}' replaces the throughput part's batch keys;
//   --json FILE also writes the figures as JSON, for test/bench/peers-bench.ts;
//   floe runs as the compiled package, built first: --from-source runs bin/floe.js under tsx;
//   --node-options '--max-semi-space-size=64' gives the floe processes node flags, as NODE_OPTIONS would)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as arrow from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { openCatalog } from '../../catalog/index.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { createTopic, deleteTopic, ensureKafka, kafkaClient, produce, uniqueTopic } from '../support/kafka.ts';
import { floeCli } from './compiled-floe.ts';

const { values: args } = parseArgs({ options: {
  messages: { type: 'string', default: '200000' },
  'fresh-seconds': { type: 'string', default: '60' },
  rate: { type: 'string', default: '2000' },
  procs: { type: 'string', default: '1,2' },
  repeat: { type: 'string', default: '1' },
  /** Extra keys for the ingest config's source, as JSON, e.g. '{"fetchMaxBytes":52428800}'. */
  source: { type: 'string', default: '{}' },
  /** Keys replacing the throughput part's batch settings, as JSON, e.g. '{"maxRecords":10000}'. */
  batch: { type: 'string', default: '{}' },
  /** Also write the summary figures to this file as JSON (the printed output is unchanged). */
  json: { type: 'string' },
  /** node flags for the `floe ingest` processes, as an operator would put them in NODE_OPTIONS
   * (e.g. '--max-semi-space-size=64'). */
  'node-options': { type: 'string', default: '' },
  /** Run `floe ingest` from the TypeScript sources (tsx) instead of the compiled package in dist/. */
  'from-source': { type: 'boolean', default: false },
} });
const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'user_id', required: true, type: 'long' },
  { name: 'event_type', required: true, type: 'string' },
  { name: 'ts', required: true, type: 'timestamptz' },
  { name: 'payload', required: true, type: 'string' },
  { name: 'kafka_ts', required: false, type: 'timestamptz' },
] }, { assignIds: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function message(i: number): { key: string; value: string } {
  const v = JSON.stringify({ id: i, user_id: i % 50_000, event_type: ['click', 'view', 'buy'][i % 3], ts: new Date(1_790_000_000_000 + i).toISOString(), payload: 'x'.repeat(880) });
  return { key: `k${i}`, value: v };
}

function startWorker(warehouse: string, cfg: string): ChildProcess {
  // FLOE_BENCH_WORKER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the workers.
  const nodeArgs = [...args['node-options'].split(' '), ...(process.env.FLOE_BENCH_WORKER_NODE_ARGS?.split(' ') ?? [])].filter(Boolean);
  return spawn(process.execPath, [...nodeArgs, floeCli(args['from-source']), '--warehouse', warehouse, 'ingest', '--config', cfg], { stdio: 'ignore' });
}

async function total(catalog: Catalog, name: string): Promise<number> {
  const t = await catalog.loadTable({ namespace: ['bench'], name });
  return Number(branchHead(t.metadata, 'main')?.summary['total-records'] ?? 0);
}

async function stopAll(ws: ChildProcess[]): Promise<void> {
  await Promise.all(ws.map((w) => new Promise((r) => { w.on('exit', r); w.kill('SIGTERM'); })));
}

/** The peer: a bare kafkajs consumer (kafkajs defaults but for a 500 ms fetch wait, so that
 * its end is not a 5 s idle fetch) that JSON.parses every value; msgs/s from start to the last. */
async function bareKafkajs(brokers: string[], topic: string, n: number): Promise<{ rate: number; perCpuSecond: number; steadyRate: number | undefined }> {
  const consumer = kafkaClient(brokers, 'bare-kafkajs').consumer({ groupId: `bare-${topic}-${Date.now()}`, maxWaitTimeInMs: 500 });
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  let seen = 0;
  let bytes = 0;
  // Steady, as for floe: from the end of the first batch to the last (connect and join left out).
  let first: { at: number; seen: number } | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => { resolveDone = r; });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachBatch: async ({ batch }) => {
    for (const m of batch.messages) { const v = JSON.parse(m.value!.toString('utf8')) as { id: number }; bytes += v.id >= 0 ? 1 : 0; }
    seen += batch.messages.length;
    first ??= { at: Date.now(), seen };
    if (seen >= n) resolveDone();
  } });
  await done;
  const end = Date.now();
  const secs = (end - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await consumer.disconnect();
  if (bytes !== seen) throw new Error('bare consumer parsed a value without an id');
  const steadyRate = first && first.seen < n && end > first.at ? (n - first.seen) / ((end - first.at) / 1000) : undefined;
  return { rate: n / secs, perCpuSecond: n / ((cpu.user + cpu.system) / 1e6), steadyRate };
}

/** CPU seconds (user + system, all threads) a child process has used so far (Linux /proc). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** Peak resident set (VmHWM) of a live process, from /proc; read just before it is stopped. */
function peakRssBytes(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** What --json writes: the figures printed above, machine-readable. */
interface KafkaBenchSummary {
  messages: number;
  messageBytes: number;
  throughput: {
    procs: number; run: number; seconds: number; recordsPerSecond: number;
    steady: { rate: number; perCpuSecond: number } | undefined;
    bare: { rate: number; perCpuSecond: number; steadyRate: number | undefined };
    ratioWall: number; ratioSteady: number | undefined; ratioCpu: number | undefined;
    workerPeakRssBytes: (number | undefined)[]; loadBefore: number[]; loadAfter: number[];
  }[];
  freshness?: {
    windowMs: number; nominalRate: number; achievedRate: number; seconds: number; records: number;
    p50Ms: number; p99Ms: number; maxMs: number; workerPeakRssBytes: number | undefined; loadBefore: number[]; loadAfter: number[];
  };
}

async function main(): Promise<void> {
  const { brokers } = await ensureKafka();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-kbench-'));
  const catalog = await openCatalog({ warehouse: dir });
  await catalog.createNamespace(['bench']);
  const config = (name: string, topic: string, batch: Record<string, unknown>) => {
    const f = path.join(dir, `${name}.json`);
    writeFileSync(f, JSON.stringify({ source: { type: 'kafka', brokers, groupId: `g-${name}`, ...JSON.parse(args.source) as Record<string, unknown> }, routes: [{ topic, table: `bench.${name}`, capture: { timestamp: 'kafka_ts' } }], batch }));
    return f;
  };
  const topics: string[] = [];
  const summary: KafkaBenchSummary = { messages: Number(args.messages), messageBytes: Buffer.byteLength(message(0).value), throughput: [] };
  const writeSummary = (): void => { if (args.json) writeFileSync(args.json, `${JSON.stringify(summary, null, 1)}\n`); };
  try {
    const n = Number(args.messages);
    for (const procs of args.procs.split(',').map(Number)) {
      const topic = uniqueTopic(`tput${procs}`);
      topics.push(topic);
      await createTopic(brokers, topic, 6);
      process.stderr.write(`producing ${n} messages of ~1 KB to ${topic}\n`);
      for (let s = 0; s < n; s += 20_000) await produce(brokers, topic, Array.from({ length: Math.min(20_000, n - s) }, (_, k) => message(s + k)));
      for (let rep = 1; rep <= Number(args.repeat); rep++) {
        const name = `tput${procs}_${rep}`;
        await catalog.createTable({ namespace: ['bench'], name }, { schema: SCHEMA });
        const cfg = config(name, topic, { windowMs: 5000, maxRecords: 50_000, maxBytes: 64 * 1024 * 1024, ...JSON.parse(args.batch) as Record<string, unknown> });
        const loadBefore = load();
        const loadBeforeNums = os.loadavg();
        const t0 = Date.now();
        const ws = Array.from({ length: procs }, () => startWorker(dir, cfg));
        const cpuOf = () => ws.reduce((sum, w) => sum + cpuSeconds(w.pid!), 0);
        // Steady state: from the first commit to the last (start-up, module loading and the
        // group join left out), in wall-clock and in the workers' CPU seconds — the latter
        // barely moves with the machine's load, which wall-clock does.
        let first: { at: number; cpu: number; records: number } | undefined;
        for (;;) {
          const got = await total(catalog, name);
          if (got > 0 && !first) first = { at: Date.now(), cpu: cpuOf(), records: got };
          if (got >= n) break;
          await sleep(100);
        }
        const secs = (Date.now() - t0) / 1000;
        const steady = first && first.records < n ? { rate: (n - first.records) / ((Date.now() - first.at) / 1000), perCpuSecond: (n - first.records) / (cpuOf() - first.cpu) } : undefined;
        const workerPeakRssBytes = ws.map((w) => peakRssBytes(w.pid!));
        await stopAll(ws);
        const floe = n / secs;
        const bare = await bareKafkajs(brokers, topic, n);
        console.log(`Kafka → table, ${procs} process(es), run ${rep}: ${n} msgs of ~1 KB in ${secs.toFixed(1)} s (incl. start-up and group join) = ${floe.toFixed(0)} records/s, ${(n * 1000 / secs / 1024 / 1024).toFixed(1)} MB/s`
          + `${steady ? `; steady ${steady.rate.toFixed(0)} msgs/s, ${steady.perCpuSecond.toFixed(0)} msgs per CPU-second` : ''}`
          + `; bare kafkajs (JSON.parse only) ${bare.rate.toFixed(0)} msgs/s, ${bare.perCpuSecond.toFixed(0)} msgs per CPU-second`
          + `; floe/bare ${(floe / bare.rate).toFixed(3)} (wall), ${steady ? (steady.perCpuSecond / bare.perCpuSecond).toFixed(3) : '-'} (CPU); load ${loadBefore} → ${load()}`);
        summary.throughput.push({
          procs, run: rep, seconds: secs, recordsPerSecond: floe, steady, bare,
          ratioWall: floe / bare.rate, ratioSteady: steady ? steady.rate / bare.rate : undefined,
          ratioCpu: steady ? steady.perCpuSecond / bare.perCpuSecond : undefined,
          workerPeakRssBytes, loadBefore: loadBeforeNums, loadAfter: os.loadavg(),
        });
      }
    }

    // Freshness at 10 s windows.
    if (Number(args['fresh-seconds']) <= 0) { writeSummary(); return; }
    const freshLoadBefore = os.loadavg();
    const topic = uniqueTopic('fresh');
    topics.push(topic);
    await createTopic(brokers, topic, 6);
    await catalog.createTable({ namespace: ['bench'], name: 'fresh' }, { schema: SCHEMA });
    const w = startWorker(dir, config('fresh', topic, { windowMs: 10_000, maxRecords: 1_000_000, maxBytes: 256 * 1024 * 1024 }));
    await sleep(5000);
    const rate = Number(args.rate);
    const seconds = Number(args['fresh-seconds']);
    let id = 0;
    const produceStart = Date.now();
    for (let s = 0; s < seconds * 4; s++) {
      const tick = Date.now();
      await produce(brokers, topic, Array.from({ length: rate / 4 }, () => message(id++)));
      await sleep(Math.max(0, 250 - (Date.now() - tick)));
    }
    const achievedRate = id / ((Date.now() - produceStart) / 1000);
    while ((await total(catalog, 'fresh')) < id) await sleep(500);
    const freshPeakRss = peakRssBytes(w.pid!);
    await stopAll([w]);
    const t = await catalog.loadTable({ namespace: ['bench'], name: 'fresh' });
    const commitAt = new Map(t.metadata.snapshots.map((s) => [s.snapshotId, s.timestampMs]));
    const lags: number[] = [];
    for (const m of await snapshotManifests(catalog.io, branchHead(t.metadata, 'main'))) {
      for (const e of await manifestEntries(catalog.io, m)) {
        const committed = commitAt.get(e.snapshotId!)!;
        const table = arrow.tableFromIPC(parquet.readParquet(await catalog.io.read(e.dataFile.filePath), { columns: ['kafka_ts'] }).intoIPCStream());
        const col = table.getChild('kafka_ts')!;
        for (let i = 0; i < col.length; i++) lags.push(committed - Number(col.get(i)));
      }
    }
    lags.sort((a, b) => a - b);
    console.log(`freshness (produce → visible in the table) at 10 s windows, ${rate} msgs/s for ${seconds} s: p50 ${(pct(lags, 50) / 1000).toFixed(2)} s, p99 ${(pct(lags, 99) / 1000).toFixed(2)} s, max ${(lags.at(-1)! / 1000).toFixed(2)} s over ${lags.length} records`);
    summary.freshness = {
      windowMs: 10_000, nominalRate: rate, achievedRate, seconds, records: lags.length,
      p50Ms: pct(lags, 50), p99Ms: pct(lags, 99), maxMs: lags.at(-1)!, workerPeakRssBytes: freshPeakRss,
      loadBefore: freshLoadBefore, loadAfter: os.loadavg(),
    };
    writeSummary();
  } finally {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
    // A run produces GBs (500k + 1.2M messages of 1 KB): kept, they fill the broker's disk run
    // after run (and with it the free space SeaweedFS sizes its volume slots by).
    for (const t of topics) await deleteTopic(brokers, t).catch(() => undefined);
  }
}

await main();
