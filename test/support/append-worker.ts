// Runs test/integration/workers/append-worker.ts as a separate writer process and collects the
// batches it confirmed ("committed <batch>" lines).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { schemaFromJson } from '../../src/spec/schema.ts';
import { ancestorsOf } from '../../src/spec/table-metadata.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';
import { readTableRows } from './read-table.ts';
import { REPO_ROOT } from './readers.ts';
import type { TestWarehouse } from './warehouse.ts';

const WORKER = path.join(REPO_ROOT, 'test/integration/workers/append-worker.ts');

/** The table the worker writes: id = worker × 10^6 + batch × 1000 + row. */
export const APPEND_WORKER_SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'worker', required: true, type: 'int' },
    { name: 'batch', required: true, type: 'int' },
    { name: 'payload', required: true, type: 'string' },
  ],
}, { assignIds: true });

export interface WorkerRun { committed: number[]; code: number | null; signal: NodeJS.Signals | null; stderr: string }

export function runAppendWorker(wh: TestWarehouse, table: string, worker: number, batches: number, size: number, first: number | 'resume' = 0, killAfterMs?: number, env: Record<string, string> = {}): Promise<WorkerRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, wh.dir, table, String(worker), String(batches), String(size), String(first)], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    const committed: number[] = [];
    let stderr = '';
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (l.startsWith('committed ')) committed.push(Number(l.slice(10)));
    });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code, signal) => { if (timer) clearTimeout(timer); resolve({ committed, code, signal, stderr }); });
  });
}


/** Every row the append workers write when each of `workers` commits batches 0‥appends-1 of
 * `size` rows, as `id|worker|batch|payload`, sorted. */
export function expectedAppendWorkerRows(workers: number, appends: number, size: number): string[] {
  const rows: string[] = [];
  for (let w = 0; w < workers; w++) {
    for (let b = 0; b < appends; b++) {
      for (let i = 0; i < size; i++) rows.push(`${w * 1_000_000 + b * 1000 + i}|${w}|${b}|w${w}-b${b}-r${i}`);
    }
  }
  return rows.sort();
}

/** A table row of the append workers as `id|worker|batch|payload`. */
export const appendWorkerRowKey = (r: Record<string, unknown>): string => `${String(r.id)}|${String(r.worker)}|${String(r.batch)}|${String(r.payload)}`;

/** What `workers` append workers × `appends` batches of `size` rows must leave in a table created
 * empty: exactly workers × appends snapshots (no other), one per (worker, batch), in one lineage
 * with sequence numbers 1‥n, and every row exactly once, compared by value. */
export async function assertEveryAppendOnce(catalog: Catalog, id: TableIdentifier, workers: number, appends: number, size: number): Promise<void> {
  const n = workers * appends;
  const table = await catalog.loadTable(id);
  assert.equal(table.metadata.snapshots.length, n, `snapshots in the table: ${table.metadata.snapshots.length}, expected ${n}`);
  const lineage = [...ancestorsOf(table.metadata, table.metadata.currentSnapshotId ?? undefined)];
  assert.equal(lineage.length, n);
  assert.deepEqual(lineage.map((s) => s.sequenceNumber).reverse(), Array.from({ length: n }, (_, i) => BigInt(i + 1)));
  assert.equal(lineage[0]!.summary['total-records'], String(n * size));
  const batches = lineage.map((s) => `${s.summary['test.worker']}/${s.summary['test.batch']}`).sort();
  const expectedBatches: string[] = [];
  for (let w = 0; w < workers; w++) for (let b = 0; b < appends; b++) expectedBatches.push(`${w}/${b}`);
  assert.deepEqual(batches, expectedBatches.sort());
  const rows = (await readTableRows(catalog, id)).map(appendWorkerRowKey).sort();
  assert.deepEqual(rows, expectedAppendWorkerRows(workers, appends, size));
}
