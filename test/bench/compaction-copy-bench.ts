// Benchmark (not a test): compaction of files whose row groups are already large (the
// row-group copy path) against the same compaction with copying off (decode + encode), on the
// same data in the same run. One source file of random text (incompressible, so bytes on disk
// are real work) is written with the table's `write.parquet.row-group-size-bytes` (default
// 128 MiB, so two full row groups and a partial one), hard-linked into two tables until they
// hold `--gib` GiB each, and each table is compacted into `--target-mb` files by a child
// process whose tree is polled for RSS. Input files are hard links: the page cache serves both
// runs alike (the figures are CPU and copying, not a cold disk).
//
//   node --import tsx test/bench/compaction-copy-bench.ts                 # 1 GiB, 1 GiB target
//   node --import tsx test/bench/compaction-copy-bench.ts --gib 3 --modes copy
//   node --import tsx test/bench/compaction-copy-bench.ts --modes copy --cpu-prof-dir /tmp/prof
import { spawn } from 'node:child_process';
import { linkSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { watchTreeRss } from './process-tree-rss.ts';
import { openCatalog } from '../../catalog/index.ts';
import { compactTable } from '../../compaction/compact-table.ts';
import { readParquetFooter } from '../../src/format/parquet-footer.ts';
import { uriToPath } from '../../src/io/local-file-io.ts';
import { EntryStatus, type DataFile } from '../../src/spec/data-file.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { branchHead } from '../../src/spec/table-metadata.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import { parseTableIdentifier, type TableIdentifier } from '../../src/table/identifier.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { commitWithRetry } from '../../src/transaction/commit-with-retry.ts';
import { FastAppend } from '../../src/transaction/fast-append.ts';
import { manifestEntries, snapshotManifests } from '../../src/transaction/table-manifests.ts';

const { values: args } = parseArgs({
  options: {
    gib: { type: 'string', default: '1' },
    /** Rows of the source file (1 KB each: ~2.3 row groups of 128 MiB at 300,000). */
    rows: { type: 'string', default: '300000' },
    'target-mb': { type: 'string', default: '1024' },
    modes: { type: 'string', default: 'copy,decode' },
    /** Smallest row group copied, MiB (default: half of write.parquet.row-group-size-bytes, 64). */
    'copy-min-mb': { type: 'string' },
    concurrency: { type: 'string' },
    keep: { type: 'boolean', default: false },
    /** Write a V8 CPU profile of each compaction child into this directory. */
    'cpu-prof-dir': { type: 'string' },
    /** Also write each mode's figures to this file as JSON (for test/bench/peers-bench.ts). */
    json: { type: 'string' },
    child: { type: 'string' },
    warehouse: { type: 'string' },
    table: { type: 'string' },
  },
});

const MiB = 1024 * 1024;
const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'payload', required: true, type: 'string' },
    { name: 'score', required: false, type: 'double' },
  ],
}, { assignIds: true });
const PROPERTIES = { 'write.parquet.compression-codec': 'zstd' };

async function live(catalog: Catalog, id: TableIdentifier): Promise<DataFile[]> {
  const t = await catalog.loadTable(id);
  const out: DataFile[] = [];
  for (const m of await snapshotManifests(catalog.io, branchHead(t.metadata, 'main'))) {
    for (const e of await manifestEntries(catalog.io, m)) if (e.status !== EntryStatus.Deleted) out.push(e.dataFile);
  }
  return out;
}

async function child(mode: string): Promise<void> {
  const catalog = await openCatalog({ warehouse: args.warehouse! });
  try {
    const id = parseTableIdentifier(args.table!);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let copiedRowGroups = 0;
    let copiedBytes = 0;
    const report = await compactTable(catalog, id, {
      targetFileSizeBytes: Number(args['target-mb']) * MiB, minInputFiles: 2,
      ...(mode === 'decode' ? { copyMinRowGroupBytes: 0 } : args['copy-min-mb'] !== undefined ? { copyMinRowGroupBytes: Number(args['copy-min-mb']) * MiB } : {}),
      ...(args.concurrency !== undefined ? { concurrency: Number(args.concurrency) } : {}),
      onEvent: (e) => { if (e.type === 'group-rewritten') { copiedRowGroups += e.copiedRowGroups; copiedBytes += e.copiedBytes; } },
    });
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(`${JSON.stringify({
      seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRss: process.resourceUsage().maxRSS * 1024,
      rewrittenFiles: report.rewrittenFiles, addedFiles: report.addedFiles, rewrittenBytes: report.rewrittenBytes, addedBytes: report.addedBytes,
      copiedRowGroups, copiedBytes,
    })}\n`);
  } finally {
    await catalog.close();
  }
}

function run(argv: string[]): Promise<{ out: Record<string, number>; peak: number }> {
  return new Promise((resolve, reject) => {
    const prof = args['cpu-prof-dir'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof-dir']] : [];
    const c = spawn(process.execPath, [...prof, '--import', 'tsx', path.join(REPO, 'test/bench/compaction-copy-bench.ts'), ...argv], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    const watch = watchTreeRss(c.pid!);
    let stdout = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    c.on('error', reject);
    c.on('close', (code) => {
      const peak = watch.stop();
      const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      if (code !== 0 || !line) reject(new Error(`child exited ${code}`)); else resolve({ out: JSON.parse(line) as Record<string, number>, peak });
    });
  });
}

async function main(): Promise<void> {
  const modes = args.modes.split(',');
  const figures: { mode: string; inputBytes: number; outputFiles: number; seconds: number; mibPerSecond: number; cpuSeconds: number; peakRssBytes: number; copiedRowGroups: number }[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-copy-bench-'));
  try {
    const catalog = await openCatalog({ warehouse: dir });
    await catalog.createNamespace(['bench']);
    const ids = modes.map((m) => parseTableIdentifier(`bench.${m}_t`));
    for (const id of ids) await catalog.createTable(id, { schema: SCHEMA, properties: PROPERTIES });
    const rows = Number(args.rows);
    const records = Array.from({ length: rows }, (_, i) => ({ id: i, payload: randomBytes(750).toString('base64'), score: i % 11 === 0 ? null : i / 7 }));
    await appendRecords(catalog, ids[0]!, records);
    const [source] = await live(catalog, ids[0]!);
    const footer = await readParquetFooter(await catalog.io.openBlob(source!.filePath), source!.filePath);
    const groups = footer.rowGroups.map((g) => (Number(g.columns.reduce((s, c) => s + c.compressedSize, 0n)) / MiB).toFixed(1));
    const copies = Math.max(2, Math.round((Number(args.gib) * 1024 * MiB) / Number(source!.fileSizeInBytes)));
    console.log(`source: ${(Number(source!.fileSizeInBytes) / MiB).toFixed(1)} MiB, ${rows} rows, row groups [${groups.join(', ')}] MiB; ${copies} files per table`);
    for (const [k, id] of ids.entries()) {
      const batch: DataFile[] = [];
      for (let c = k === 0 ? 1 : 0; c < copies; c++) {
        const p = path.join(path.dirname(uriToPath(source!.filePath)), `link-${k}-${c}.parquet`);
        linkSync(uriToPath(source!.filePath), p);
        batch.push({ ...source!, filePath: `file://${p}` });
      }
      await commitWithRetry(catalog, id, new FastAppend(catalog.io, batch));
    }
    await catalog.close();
    console.log(`load average: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    for (const [k, mode] of modes.entries()) {
      const { out, peak } = await run(['--child', mode, '--warehouse', dir, '--table', `bench.${mode}_t`, '--target-mb', args['target-mb'],
        ...(args.concurrency !== undefined ? ['--concurrency', args.concurrency] : []),
        ...(args['copy-min-mb'] !== undefined ? ['--copy-min-mb', args['copy-min-mb']] : [])]);
      const inMiB = out.rewrittenBytes! / MiB;
      console.log(`${mode.padEnd(6)}: ${out.rewrittenFiles} files (${inMiB.toFixed(0)} MiB) → ${out.addedFiles} (${(out.addedBytes! / MiB).toFixed(0)} MiB) in ${out.seconds!.toFixed(2)} s = ${(inMiB / out.seconds!).toFixed(1)} MiB/s; CPU ${out.cpuSeconds!.toFixed(1)} s; peak RSS ${(peak / MiB).toFixed(0)} MiB (VmHWM ${(out.maxRss! / MiB).toFixed(0)}); copied ${out.copiedRowGroups} row groups (${(out.copiedBytes! / MiB).toFixed(0)} MiB); load ${os.loadavg()[0]!.toFixed(2)}`);
      void k;
      figures.push({ mode, inputBytes: out.rewrittenBytes!, outputFiles: out.addedFiles!, seconds: out.seconds!, mibPerSecond: inMiB / out.seconds!, cpuSeconds: out.cpuSeconds!, peakRssBytes: peak, copiedRowGroups: out.copiedRowGroups! });
      const after = await openCatalog({ warehouse: dir });
      try {
        const sizes = (await live(after, parseTableIdentifier(`bench.${mode}_t`))).map((f) => (Number(f.fileSizeInBytes) / MiB).toFixed(0));
        console.log(`        output files: [${sizes.join(', ')}] MiB`);
      } finally {
        await after.close();
      }
    }
    if (args.json) writeFileSync(args.json, JSON.stringify({ gib: Number(args.gib), modes: figures }, null, 2));
  } finally {
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
}

if (args.child) await child(args.child);
else await main();
