// Rewrites on worker threads, one WebAssembly encoder per core: parquet-wasm is single-threaded,
// so group concurrency in one thread only interleaves. Each worker takes one job at a time
// (the caller bounds concurrency with p-queue); each holds its own ~row-group-sized heap.
import { Worker } from 'node:worker_threads';
import { FloeError, InternalError } from '../src/errors.ts';
import { workerModule } from '../src/workers/worker-module.ts';
import type { RewriteJob } from './rewrite-data-files.ts';
import type { CopyingRewriteResult as RewriteResult } from '../src/writer/row-group-copy-rewriter.ts';
import type { WorkerReply, WorkerRequest } from './rewrite-worker.ts';

// Compiled (the installed package) a worker runs the compiled rewrite-worker.js; from the
// TypeScript sources it boots through src/workers/worker-boot.mjs (see worker-module.ts).
const WORKER = workerModule(import.meta.url, 'rewrite-worker');

/** An error from a worker thread, with the original error's name and message. */
export class WorkerRewriteError extends FloeError {
  constructor(name: string, message: string) {
    super('io', `${message} (in rewrite worker: ${name})`);
    this.name = 'WorkerRewriteError';
  }
}

interface Pending { resolve: (r: RewriteResult) => void; reject: (e: Error) => void; onInputFileDone: ((bytes: number) => void) | undefined }

export class RewritePool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(WORKER.url, { workerData: WORKER.data });
      w.on('message', (m: WorkerReply) => this.onReply(w, m));
      w.on('error', (err) => { for (const p of this.pending.values()) p.reject(err); this.pending.clear(); });
      this.all.push(w);
      this.idle.push(w);
    }
  }

  private onReply(w: Worker, m: WorkerReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'input-bytes') { p.onInputFileDone?.(m.bytes); return; }
    this.pending.delete(m.id);
    this.idle.push(w);
    if (m.type === 'done') p.resolve(m.result);
    else p.reject(new WorkerRewriteError(m.name, m.message));
  }

  /** Runs a job on an idle worker; call at most `size` jobs at once. */
  run(job: RewriteJob, onInputFileDone?: (bytes: number) => void): Promise<RewriteResult> {
    const w = this.idle.pop();
    if (!w) return Promise.reject(new InternalError('rewrite pool: no idle worker (bound the callers to the pool size)'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onInputFileDone });
      w.postMessage({ id, job } satisfies WorkerRequest);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}
