// `floe demo`: a synthetic event stream appended in micro-batches to demo.events, then read
// back through DuckDB's iceberg extension so a newcomer sees another engine agree with floe.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FloeError } from '../errors.ts';
import { parsePartitionExpression } from '../spec/partition-spec.ts';
import { schemaFromJson } from '../spec/schema.ts';
import type { Catalog } from '../table/catalog.ts';
import type { TableIdentifier } from '../table/identifier.ts';
import { TableIngestor } from '../ingest/table-ingestor.ts';

const DEMO_TABLE: TableIdentifier = { namespace: ['demo'], name: 'events' };
const EVENT_TYPES = ['click', 'view', 'purchase', 'signup'] as const;
const COUNTRIES = ['DE', 'FR', 'JP', 'US', 'BR'] as const;

export const demoSchemaJson = {
  type: 'struct',
  fields: [
    { name: 'event_id', required: true, type: 'long' },
    { name: 'ts', required: true, type: 'timestamptz' },
    { name: 'user_id', required: true, type: 'long' },
    { name: 'event_type', required: true, type: 'string' },
    { name: 'country', required: false, type: 'string' },
    { name: 'amount', required: false, type: 'decimal(12,2)' },
  ],
};

/** Deterministic pseudo-random numbers (mulberry32), so two runs produce the same events. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface DemoEvent { event_id: number; ts: string; user_id: number; event_type: string; country: string | null; amount: string | null }

export function syntheticEvents(start: number, count: number, seed = 42): DemoEvent[] {
  const next = seededRandom(seed + start);
  const base = Date.UTC(2026, 10, 1);
  return Array.from({ length: count }, (_, i) => {
    const type = EVENT_TYPES[Math.floor(next() * EVENT_TYPES.length)]!;
    return {
      event_id: start + i,
      ts: new Date(base + Math.floor(next() * 3 * 86_400_000)).toISOString(),
      user_id: 1 + Math.floor(next() * 10_000),
      event_type: type,
      country: next() < 0.05 ? null : COUNTRIES[Math.floor(next() * COUNTRIES.length)]!,
      amount: type === 'purchase' ? (next() * 500).toFixed(2) : null,
    };
  });
}

/** The folder holding floe's package.json (with a trailing slash): the repository when run from
 * the sources (src/cli/), the installed package when compiled (dist/src/cli/). */
function repoRoot(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir.endsWith(path.sep) ? dir : `${dir}${path.sep}`;
}

export async function runDemo(catalog: Catalog, opts: { batches: number; recordsPerBatch: number; warehouse: string; out: (l: string) => void }): Promise<void> {
  const { out } = opts;
  if (!(await catalog.namespaceExists(DEMO_TABLE.namespace))) await catalog.createNamespace(DEMO_TABLE.namespace);
  if (!(await catalog.tableExists(DEMO_TABLE))) {
    const schema = schemaFromJson(demoSchemaJson, { assignIds: true });
    await catalog.createTable(DEMO_TABLE, { schema, spec: parsePartitionExpression('day(ts)', schema) });
    out(`created table demo.events (partitioned by day(ts)) in ${opts.warehouse}`);
  }
  const before = await catalog.loadTable(DEMO_TABLE);
  const startId = Number(before.metadata.snapshots.find((s) => s.snapshotId === before.metadata.currentSnapshotId)?.summary['total-records'] ?? 0);
  const expected = new Map<string, { count: number; cents: bigint }>();
  // The same engine as `floe ingest`, fed by a synthetic source: full batches flush on count,
  // a trickle flushes on time, the rest on shutdown.
  let batchNo = 0;
  const ingestor = await TableIngestor.open(catalog, DEMO_TABLE, {
    batcher: { windowMs: 1000, maxRecords: opts.recordsPerBatch, maxBytes: 64 * 1024 * 1024, bufferLimitBytes: 256 * 1024 * 1024 },
    events: {
      onCommit: (i) => out(`micro-batch ${++batchNo} (${i.reason}): ${i.records} events committed in ${Math.round(i.commitMs)} ms`),
    },
  });
  let written = 0;
  const emit = async (count: number): Promise<void> => {
    for (const e of syntheticEvents(startId + written, count)) {
      const agg = expected.get(e.event_type) ?? { count: 0, cents: 0n };
      agg.count++;
      if (e.amount !== null) agg.cents += BigInt(e.amount.replace('.', ''));
      expected.set(e.event_type, agg);
      ingestor.offer({ value: e, raw: '', bytes: 160 });
      if (ingestor.full) await ingestor.drained();
    }
    written += count;
  };
  await emit(opts.batches * opts.recordsPerBatch);
  await ingestor.flush('count');
  await emit(100);
  await new Promise((r) => setTimeout(r, 1500));
  await emit(50);
  await ingestor.close();
  const table = await catalog.loadTable(DEMO_TABLE);
  out(`table now holds ${table.metadata.snapshots.find((s) => s.snapshotId === table.metadata.currentSnapshotId)?.summary['total-records']} records; metadata: ${table.metadataLocation}`);
  out('');
  out('what this run appended, counted by floe:');
  for (const [type, agg] of [...expected].sort()) {
    const amount = type === 'purchase' ? (Number(agg.cents) / 100).toFixed(2) : 'NULL';
    out(`  ${type.padEnd(10)} ${String(agg.count).padStart(6)} events  amount ${amount}`);
  }
  out('');
  const python = `${process.env.FLOE_VENV ?? `${repoRoot()}.venv`}/bin/python`;
  if (!existsSync(python)) {
    // From a checkout the set-up script installs DuckDB; the installed package has no such script.
    out(existsSync(`${repoRoot()}scripts/setup-readers.sh`)
      ? `DuckDB is not installed (${python} missing): run 'bash scripts/setup-readers.sh --duckdb' to read the table back through DuckDB.`
      : `DuckDB is not installed (${python} missing): set FLOE_VENV to a Python virtualenv with duckdb, duckdb-extension-avro and duckdb-extension-iceberg to read the table back through DuckDB.`);
    return;
  }
  const ids = `event_id >= ${startId} AND event_id < ${startId + written}`;
  const sql = `SELECT event_type, count(*) AS events, sum(amount) AS amount FROM iceberg_scan('${table.metadataLocation}') WHERE ${ids} GROUP BY event_type ORDER BY event_type`;
  out(`the same rows read back by DuckDB (iceberg_scan):\n  ${sql}`);
  const res = spawnSync(python, [`${repoRoot()}scripts/duckdb_query.py`, sql], { encoding: 'utf8' });
  if (res.status !== 0) {
    throw new FloeError('io', `DuckDB could not read the table back: ${(res.stderr || res.stdout).trim().split('\n').pop()}`);
  }
  out(res.stdout.trimEnd().split('\n').map((l) => `  ${l}`).join('\n'));
}
