// Benchmark (not a test): where a Kafka ingest process's memory goes. Runs the ingest pipeline
// in this process (startIngest, what `floe ingest` runs; tsx loads the sources as bin/floe.js
// does) on a backlog of ~1 KB JSON messages with the Kafka bench's batch settings, samples
// process.memoryUsage() every 20 ms, and prints, by stage and at the RSS peak: RSS, the JS heap
// (used / reserved), external and ArrayBuffer memory (kafkajs fetch buffers, payload bytes,
// Arrow and Parquet buffers), parquet-wasm's linear memory on the main thread and in the
// encoder workers, and what is left (code, worker isolates, the tsx loader thread, allocator).
//
//   npm run kafka:up && node --expose-gc --import tsx test/bench/ingest-memory-bench.ts [--messages 300000] [--max-bytes 67108864] [--max-records 50000]
//   FLOE_ENCODE_WORKERS=1 … compares pool sizes.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { parseArgs } from 'node:util';
import { createTopic, ensureKafka, produce, uniqueTopic } from '../support/kafka.ts';

const { values: args } = parseArgs({ options: {
  messages: { type: 'string', default: '300000' },
  /** Internal: produce the backlog to this topic and exit (a child process, so that the
   * producer's buffers do not count in the ingest's figures). */
  'produce-only': { type: 'string' },
  'max-bytes': { type: 'string', default: String(64 * 1024 * 1024) },
  'max-records': { type: 'string', default: '50000' },
} });
const MB = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
const gc = (globalThis as { gc?: () => void }).gc;

interface Sample { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number; wasmMain: number; wasmEncoders: number }

const stages: [string, Sample][] = [];
let wasmMain = (): number => 0;
let wasmEncoders = (): number => 0;
function sample(): Sample {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, wasmMain: wasmMain(), wasmEncoders: wasmEncoders() };
}
function row(label: string, s: Sample): string {
  const rest = s.rss - s.heapTotal - s.external - s.wasmEncoders;
  return `${label.padEnd(34)} rss ${MB(s.rss).padStart(7)} | js heap used ${MB(s.heapUsed).padStart(6)} of ${MB(s.heapTotal).padStart(6)} | external ${MB(s.external).padStart(6)} (ArrayBuffers ${MB(s.arrayBuffers).padStart(6)}, wasm main ${MB(s.wasmMain).padStart(5)}) | wasm encoders ${MB(s.wasmEncoders).padStart(5)} | rest ${MB(rest).padStart(6)}`;
}
const stage = (label: string) => { gc?.(); stages.push([label, sample()]); };

const message = (i: number) => ({ key: `k${i}`, value: JSON.stringify({ id: i, user_id: i % 50_000, event_type: ['click', 'view', 'buy'][i % 3], ts: new Date(1_790_000_000_000 + i).toISOString(), payload: 'x'.repeat(880) }) });
if (args['produce-only']) {
  const { brokers } = await ensureKafka();
  const n = Number(args.messages);
  for (let s = 0; s < n; s += 20_000) await produce(brokers, args['produce-only'], Array.from({ length: Math.min(20_000, n - s) }, (_, k) => message(s + k)));
  process.exit(0);
}

stage('node + tsx, nothing imported');
const { openCatalog } = await import('../../catalog/index.ts');
const { startIngest } = await import('../../src/ingest/ingest-runner.ts');
const { ingestConfigFrom } = await import('../../src/ingest/ingest-config.ts');
const parquet = await import('parquet-wasm');
const { sharedEncoderPool } = await import('../../src/workers/parquet-encoder-pool.ts');
const { schemaFromJson } = await import('../../src/spec/schema.ts');
const { branchHead } = await import('../../src/spec/table-metadata.ts');
wasmMain = () => parquet.wasmMemory().buffer.byteLength;
// (undefined before the pool reported it: then 0, and the encoders' WASM counts in "rest")
wasmEncoders = () => (sharedEncoderPool() as { wasmHeapBytes?: number } | null)?.wasmHeapBytes ?? 0;
stage('floe ingest modules imported');

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'user_id', required: true, type: 'long' },
  { name: 'event_type', required: true, type: 'string' },
  { name: 'ts', required: true, type: 'timestamptz' },
  { name: 'payload', required: true, type: 'string' },
  { name: 'kafka_ts', required: false, type: 'timestamptz' },
] }, { assignIds: true });

const { brokers } = await ensureKafka();
const n = Number(args.messages);
const topic = uniqueTopic('mem');
await createTopic(brokers, topic, 6);
const producer = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, '--messages', String(n), '--produce-only', topic], { stdio: 'inherit' });
if (producer.status !== 0) throw new Error(`producing the backlog failed (${producer.status})`);
const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-membench-'));
const catalog = await openCatalog({ warehouse: dir });
const id = { namespace: ['bench'], name: 'mem' };
await catalog.createNamespace(['bench']);
await catalog.createTable(id, { schema: SCHEMA });
stage('catalog open (backlog produced by a child)');

let peak = sample();
const sampler = setInterval(() => { const s = sample(); if (s.rss > peak.rss) peak = s; }, 20);
const maxes: Sample = { ...peak };
const maxer = setInterval(() => { const s = sample(); for (const k of Object.keys(maxes) as (keyof Sample)[]) maxes[k] = Math.max(maxes[k], s[k]); }, 20);
const t0 = Date.now();
const cpu0 = process.cpuUsage();
const ingest = await startIngest(catalog, ingestConfigFrom({
  source: { type: 'kafka', brokers, groupId: `g-${topic}` },
  routes: [{ topic, table: 'bench.mem', capture: { timestamp: 'kafka_ts' } }],
  batch: { windowMs: 5000, maxRecords: Number(args['max-records']), maxBytes: Number(args['max-bytes']) },
}), { logStream: { write: () => true } as unknown as NodeJS.WritableStream });
for (;;) {
  const t = await catalog.loadTable(id);
  if (Number(branchHead(t.metadata, 'main')?.summary['total-records'] ?? 0) >= n) break;
  await new Promise((r) => setTimeout(r, 100));
}
const secs = (Date.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
clearInterval(sampler);
clearInterval(maxer);
stages.push(['at the RSS peak while ingesting', peak]);
stages.push(['max of each figure while ingesting', maxes]);
stage('ingest idle after the backlog (gc)');
await ingest.stop();
await catalog.close();
rmSync(dir, { recursive: true, force: true });
const heap = v8.getHeapStatistics();

console.log(`ingest memory: ${n} msgs of ~1 KB, batches of ${args['max-records']} records / ${MB(Number(args['max-bytes']))}, encoder workers ${process.env.FLOE_ENCODE_WORKERS ?? 'default'}; ${(n / secs).toFixed(0)} msgs/s incl. join, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} CPU-s (this process, all threads); load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const [label, s] of stages) console.log(row(label, s));
console.log(`V8 heap limit ${MB(heap.heap_size_limit)}, malloced ${MB(heap.malloced_memory)} (peak ${MB(heap.peak_malloced_memory)}); "rest" = rss − js heap reserved − external − encoder wasm: code, worker isolates, the tsx loader thread, allocator slack`);
process.exit(0);
