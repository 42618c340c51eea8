// Benchmark (not a test): throughput of appending JS records to a committed table, split into
// to-Arrow, Parquet encoding, file IO and commit; and commit latency over many small commits,
// to show it stays flat as history grows (manifest merging keeps the manifest list short).
//
//   npm run bench                       # 1,000,000 records × 8 columns, 2,000 small commits
//   npm run bench -- --records 200000 --commits 500
//   node --import tsx test/bench/append-bench.ts --records 1000000 --commits 0 --repeats 3
//   FLOE_ENCODE_WORKERS=0 …                       # Parquet encoding on the main thread
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openCatalog } from '../../catalog/index.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { EVENTS_SCHEMA_JSON } from '../support/datagen.ts';
import { makeEventRecords as makeRecords } from './event-records.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { snapshotManifests } from '../../src/transaction/table-manifests.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import { encodeMinRowsFromEnv, sharedEncoderPool } from '../../src/workers/parquet-encoder-pool.ts';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    commits: { type: 'string', default: '2000' },
    repeats: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
  },
});

const SCHEMA = schemaFromJson(EVENTS_SCHEMA_JSON, { assignIds: true });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-bench-'));
  const catalog = await openCatalog({ warehouse: dir });
  await catalog.createNamespace(['bench']);
  try {
    // 1. Throughput: one append of N records (--repeats: several, each of fresh records into its
    // own table; the first includes starting the encoder workers and warming the JIT). CPU time is the whole process's, workers included.
    const n = Number(args.records);
    let records = makeRecords(n, 0);
    const inputBytes = records.slice(0, 1000).reduce((s, x) => s + JSON.stringify(x).length, 0) * (n / 1000);
    const pool = sharedEncoderPool();
    console.log(`encoder workers: ${pool ? `${pool.size} (FLOE_ENCODE_WORKERS), files from ${encodeMinRowsFromEnv().toLocaleString()} rows` : 'none, main thread (FLOE_ENCODE_WORKERS=0)'}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    for (let rep = 0; rep < Number(args.repeats); rep++) {
      // Fresh records every time: a second pass over the same objects finds their strings
      // already flattened and cached, which flatters the figure.
      if (rep > 0) records = makeRecords(n, rep * n);
      const big = { namespace: ['bench'], name: `throughput_${rep}` };
      await catalog.createTable(big, { schema: SCHEMA });
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const r = await appendRecords(catalog, big, records);
      const total = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const cpuS = (cpu.user + cpu.system) / 1e6;
      const fileBytes = Number(r.snapshot.summary['added-files-size']);
      console.log(`append ${n.toLocaleString()} records x 8 columns (zstd): ${(n / (total / 1000)).toFixed(0)} records/s, ${mb(inputBytes / (total / 1000))} MB/s of JSON-equivalent input`);
      console.log(`  total ${total.toFixed(0)} ms = to-Arrow ${r.timings.toArrowMs.toFixed(0)} ms + Parquet ${r.timings.parquetMs.toFixed(0)} ms + file IO ${r.timings.ioMs.toFixed(0)} ms + commit ${r.timings.commitMs.toFixed(0)} ms`);
      console.log(`  CPU ${cpuS.toFixed(2)} s (${(n / cpuS).toFixed(0)} records per CPU-second); load average ${os.loadavg()[0]!.toFixed(2)}`);
      console.log(`  ${r.dataFiles} data file(s), ${mb(fileBytes)} MB Parquet; peak RSS so far ${mb(process.resourceUsage().maxRSS * 1024)} MB`);
    }

    // 2. Commit latency over many small commits.
    const commits = Number(args.commits);
    if (commits === 0) return;
    const small = { namespace: ['bench'], name: 'latency' };
    await catalog.createTable(small, { schema: SCHEMA });
    const latencies: number[] = [];
    for (let c = 0; c < commits; c++) {
      const batch = makeRecords(10, c * 10);
      const s = performance.now();
      await appendRecords(catalog, small, batch);
      latencies.push(performance.now() - s);
      if ((c + 1) % 500 === 0) process.stderr.write(`  ${c + 1}/${commits} commits\n`);
    }
    const window = Math.max(1, Math.floor(commits / 10));
    const first = [...latencies.slice(0, window)].sort((a, b) => a - b);
    const last = [...latencies.slice(-window)].sort((a, b) => a - b);
    const all = [...latencies].sort((a, b) => a - b);
    const table = await catalog.loadTable(small);
    const manifests = await snapshotManifests(catalog.io, branchHead(table.metadata, 'main'));
    console.log(`${commits} commits of 10 records (append + commit, end to end):`);
    console.log(`  all:            p50 ${percentile(all, 50).toFixed(1)} ms  p99 ${percentile(all, 99).toFixed(1)} ms`);
    console.log(`  first ${window}: p50 ${percentile(first, 50).toFixed(1)} ms  p99 ${percentile(first, 99).toFixed(1)} ms`);
    console.log(`  last ${window}:  p50 ${percentile(last, 50).toFixed(1)} ms  p99 ${percentile(last, 99).toFixed(1)} ms`);
    console.log(`  manifests in the final manifest list: ${manifests.length} (commit.manifest.min-count-to-merge=100)`);
    console.log(`peak RSS ${mb(process.resourceUsage().maxRSS * 1024)} MB`);
  } finally {
    await catalog.close();
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
}

await main();
