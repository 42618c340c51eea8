// Benchmark (not a test): what write-audit-publish adds to a micro-batch. The same batches of
// --rows rows (default 100,000) are written twice, each way in its own child process (its
// process tree polled for RSS):
//   plain  appendRecords to main, one commit per batch;
//   wap    appendRecords to the audit branch, then the gate (src/wap/audit-and-publish.ts): the
//          six checks of CHECKS (not_null, unique, accepted_values, range, freshness, custom SQL)
//          over the batch, then publish to main.
// With --main-writes, a small batch is appended directly to main before every gate, so every
// publish is a re-apply on a moved main instead of a fast-forward.
//
//   npm run bench:wap                               # 10 batches of 100,000 rows
//   npm run bench:wap -- --batches 5 --rows 20000   # quick run
//   npm run bench:wap -- --main-writes              # every publish re-applies on a moved main
//
// Reported per way: batches/s, rows/s, per-batch latency p50/p95/max of the whole batch and of
// its phases (append, audit, publish), peak RSS; and the ratios wap/plain. Wall times on a
// shared machine vary with its load: the CPU seconds are printed beside them.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { openCatalog } from '../../catalog/index.ts';
import { loadAuditChecks, validateAuditChecks } from '../../src/audit/index.ts';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { appendRecords } from '../../src/transaction/append-records.ts';
import { auditAndPublish } from '../../src/wap/audit-and-publish.ts';
import { rng } from '../support/datagen.ts';
import { watchTreeRss } from './process-tree-rss.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    batches: { type: 'string', default: '10' },
    seed: { type: 'string', default: '7' },
    'main-writes': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    child: { type: 'string' },
    warehouse: { type: 'string' },
  },
});

const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'customer_id', required: false, type: 'long' },
    { name: 'status', required: false, type: 'string' },
    { name: 'amount', required: false, type: 'double' },
    { name: 'ts', required: false, type: 'timestamptz' },
    { name: 'comment', required: false, type: 'string' },
  ],
}, { assignIds: true });
const NOW_MS = Date.UTC(2026, 11, 1, 12, 0, 0);
const STATUSES = ['new', 'paid', 'shipped', 'returned'];

const CHECKS = `
checks:
  - type: not_null
    columns: [id, customer_id]
  - type: unique
    columns: [id]
  - type: accepted_values
    column: status
    values: [new, paid, shipped, returned]
  - type: range
    column: amount
    min: 0
    max: 100000
  - type: freshness
    column: ts
    max_age: 1h
  - type: sql
    name: no-test-orders
    sql: SELECT * FROM rows WHERE comment LIKE 'TEST%'
`;

function batch(b: number, rows: number, seed: number): Record<string, unknown>[] {
  const r = rng(seed + b);
  return Array.from({ length: rows }, (_, i) => {
    const id = b * rows + i;
    return {
      id, customer_id: Math.floor(r() * 1_000_000), status: STATUSES[Math.floor(r() * 4)], amount: Math.round(r() * 1_000_000) / 100,
      ts: new Date(NOW_MS - Math.floor(r() * 1_800_000)).toISOString(), comment: `order ${id} for customer ${Math.floor(r() * 1e6)}`,
    };
  });
}

interface BatchTiming { totalMs: number; appendMs: number; auditMs: number; publishMs: number }

async function child(way: string): Promise<void> {
  const dir = args.warehouse!;
  const catalog = await openCatalog({ warehouse: dir, name: 'bench' });
  const id = { namespace: ['bench'], name: way };
  await catalog.createNamespace(['bench']).catch(() => undefined);
  await catalog.createTable(id, { schema: SCHEMA });
  const checksFile = path.join(dir, 'checks.yaml');
  writeFileSync(checksFile, CHECKS);
  const checks = way === 'wap' ? await loadAuditChecks(checksFile) : undefined;
  if (checks) await validateAuditChecks(catalog, id, checks);
  const rows = Number(args.rows);
  const timings: BatchTiming[] = [];
  const cpu0 = process.cpuUsage();
  for (let b = 0; b < Number(args.batches); b++) {
    const records = batch(b, rows, Number(args.seed));
    if (args['main-writes'] && b > 0) await appendRecords(catalog, id, batch(1000 + b, 100, Number(args.seed)).map((x) => ({ ...x, id: -1 - b })));
    const t0 = performance.now();
    await appendRecords(catalog, id, records, way === 'wap' ? { branch: 'audit' } : {});
    const appendMs = performance.now() - t0;
    let auditMs = 0;
    let publishMs = 0;
    if (way === 'wap') {
      const g = await auditAndPublish(catalog, id, { branch: 'audit', checks: checks!, nowMs: NOW_MS });
      if (g.outcome !== 'published') throw new Error(`batch ${b} was not published: ${g.outcome} ${g.failed.map((f) => `${f.name}: ${f.message}`).join('; ')}`);
      auditMs = g.auditMs;
      publishMs = g.publishMs;
    }
    timings.push({ totalMs: performance.now() - t0, appendMs, auditMs, publishMs });
  }
  const cpu = process.cpuUsage(cpu0);
  const t = await catalog.loadTable(id);
  const total = t.metadata.snapshots.find((s) => s.snapshotId === t.metadata.currentSnapshotId)?.summary['total-records'];
  process.stdout.write(`${JSON.stringify({ way, timings, cpuSeconds: (cpu.user + cpu.system) / 1e6, totalRecords: total })}\n`);
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function run(way: string, warehouse: string): Promise<{ timings: BatchTiming[]; cpuSeconds: number; totalRecords: string; peakRssBytes: number; wallSeconds: number }> {
  const argv = ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', way, '--warehouse', warehouse, '--rows', args.rows!, '--batches', args.batches!, '--seed', args.seed!, ...(args['main-writes'] ? ['--main-writes'] : [])];
  const t0 = performance.now();
  const p = spawn(process.execPath, argv, { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  const watch = watchTreeRss(p.pid!);
  let out = '';
  p.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
  const peakRssBytes = watch.stop();
  if (code !== 0) throw new Error(`${way} child exited with ${code}`);
  const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop()!;
  return { ...(JSON.parse(line) as { timings: BatchTiming[]; cpuSeconds: number; totalRecords: string }), peakRssBytes, wallSeconds: (performance.now() - t0) / 1000 };
}

async function main(): Promise<void> {
  if (args.child) return child(args.child);
  const rows = Number(args.rows);
  const n = Number(args.batches);
  console.log(`write-audit-publish benchmark: ${n} batches × ${rows.toLocaleString('en-US')} rows, 6 checks${args['main-writes'] ? ', main moved before every publish (re-apply)' : ''}; node ${process.version}, ${os.cpus().length} cores`);
  const results: Record<string, Awaited<ReturnType<typeof run>>> = {};
  for (const way of ['plain', 'wap']) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `floe-bench-wap-${way}-`));
    try {
      results[way] = await run(way, dir);
    } finally {
      if (!args.keep) rmSync(dir, { recursive: true, force: true });
    }
  }
  const fmt = (ms: number): string => `${ms.toFixed(0)} ms`;
  for (const way of ['plain', 'wap']) {
    const r = results[way]!;
    const tot = r.timings.map((t) => t.totalMs);
    const sum = tot.reduce((a, b) => a + b, 0);
    console.log(`\n${way}: ${(n / (sum / 1000)).toFixed(2)} batches/s, ${Math.round((n * rows) / (sum / 1000)).toLocaleString('en-US')} rows/s, CPU ${r.cpuSeconds.toFixed(1)} s, peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB, table rows ${r.totalRecords}`);
    for (const phase of ['totalMs', 'appendMs', 'auditMs', 'publishMs'] as const) {
      const xs = r.timings.map((t) => t[phase]);
      if (xs.every((x) => x === 0)) continue;
      console.log(`  ${phase.replace('Ms', '').padEnd(8)} p50 ${fmt(pct(xs, 50)).padStart(8)}  p95 ${fmt(pct(xs, 95)).padStart(8)}  max ${fmt(Math.max(...xs)).padStart(8)}`);
    }
  }
  const p = results.plain!;
  const w = results.wap!;
  const med = (r: typeof p, k: keyof BatchTiming): number => pct(r.timings.map((t) => t[k]), 50);
  console.log(`\nWAP adds per batch (median): ${fmt(med(w, 'totalMs') - med(p, 'totalMs'))} (audit ${fmt(med(w, 'auditMs'))}, publish ${fmt(med(w, 'publishMs'))}); wap/plain: batch latency ×${(med(w, 'totalMs') / med(p, 'totalMs')).toFixed(2)}, CPU ×${(w.cpuSeconds / p.cpuSeconds).toFixed(2)}, peak RSS ×${(w.peakRssBytes / p.peakRssBytes).toFixed(2)}`);
}

await main();
