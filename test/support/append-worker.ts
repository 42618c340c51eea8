// Runs test/integration/workers/append-worker.ts as a separate writer process and collects the
// batches it confirmed ("committed <batch>" lines).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { schemaFromJson } from '../../src/spec/schema.ts';
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

