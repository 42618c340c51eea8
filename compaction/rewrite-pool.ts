// Rewrites on worker threads, one WebAssembly encoder per core: parquet-wasm is single-threaded,
// so concurrency in one thread only interleaves. Each runner takes one task at a time (a group's
// whole rewrite, or one slice of a group for the spliced rewrite) and holds its own
// ~row-group-sized heap; tasks beyond the free runners wait in order. With `inThread` the calling
// thread is one of the runners: its WebAssembly instance is already warm, and each worker not
// started saves its boot (~0.25 CPU-s: modules, WebAssembly compile and tier-up) and its heap.
import { Worker } from 'node:worker_threads';
import { FloeError } from '../src/errors.ts';
import { workerModule } from '../src/workers/worker-module.ts';
import type { RewriteInput } from '../src/writer/data-file-rewriter.ts';
import type { EncodedSlice } from '../src/writer/row-group-slice-encoder.ts';
import type { RewriteJob } from './rewrite-data-files.ts';
import type { CopyingRewriteResult as RewriteResult } from '../src/writer/row-group-copy-rewriter.ts';
import type { SliceJob, WorkerReply, WorkerRequest } from './rewrite-worker.ts';
import type { FileIO } from '../src/io/file-io.ts';
import { schemaFromJson } from '../src/spec/schema.ts';
import { encodeRowGroupSlice } from '../src/writer/row-group-slice-encoder.ts';
import { runRewriteJob } from './rewrite-data-files.ts';

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

interface Pending { resolve: (r: unknown) => void; reject: (e: Error) => void; onInputFileDone: ((bytes: number) => void) | undefined }
type Task = { request: { job: RewriteJob } | { slice: SliceJob }; pending: Pending };

/** Tasks a worker may hold (one running, one queued in the worker): its next task is already
 * there when it finishes, even while this thread is inside a long synchronous WebAssembly call
 * and cannot answer its message. */
const WORKER_DEPTH = 2;

export class RewritePool {
  private readonly idle: (Worker | 'in-thread')[] = [];
  /** Tasks given to each worker and not finished. */
  private readonly held = new Map<Worker, number>();
  private readonly all: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly waiting: Task[] = [];
  private nextId = 1;

  /** `size` runners: with `inThread`, this thread (doing its file I/O with it) and size − 1 workers. */
  constructor(readonly size: number, private readonly inThread?: FileIO) {
    if (inThread) this.idle.push('in-thread');
    for (let i = inThread ? 1 : 0; i < size; i++) {
      const w = new Worker(WORKER.url, { workerData: WORKER.data });
      w.on('message', (m: WorkerReply) => this.onReply(w, m));
      w.on('error', (err) => {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        for (const t of this.waiting.splice(0)) t.pending.reject(err);
      });
      this.all.push(w);
      this.idle.push(w);
      this.held.set(w, 0);
    }
  }

  private onReply(w: Worker, m: WorkerReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'input-bytes') { p.onInputFileDone?.(m.bytes); return; }
    this.pending.delete(m.id);
    const held = this.held.get(w)! - 1;
    this.held.set(w, held);
    if (held === 0) this.idle.push(w);
    if (m.type === 'done') p.resolve(m.result);
    else p.reject(new WorkerRewriteError(m.name, m.message));
    this.drain();
  }

  private drain(): void {
    for (;;) {
      if (this.waiting.length === 0) return;
      let w: Worker | 'in-thread' | undefined = this.idle.pop();
      // No runner free and more than one task waiting: queue one ahead in a busy worker (the
      // last task is left for whichever runner frees first).
      if (!w && this.waiting.length > 1) w = this.all.find((x) => this.held.get(x)! < WORKER_DEPTH);
      if (!w) return;
      const t = this.waiting.shift()!;
      if (w === 'in-thread') { this.runInThread(t); continue; }
      const id = this.nextId++;
      this.held.set(w, this.held.get(w)! + 1);
      this.pending.set(id, t.pending);
      w.postMessage({ id, ...t.request } as WorkerRequest);
    }
  }

  private runInThread(t: Task): void {
    const io = this.inThread!;
    const r = t.request;
    const task: Promise<unknown> = 'job' in r
      ? runRewriteJob(io, r.job, t.pending.onInputFileDone)
      : encodeRowGroupSlice(r.slice.inputs, {
        io, schema: schemaFromJson(r.slice.schemaJson), properties: r.slice.properties,
        ...(r.slice.rowGroupSizeBytes ? { rowGroupSizeBytes: r.slice.rowGroupSizeBytes } : {}),
      });
    task.then(t.pending.resolve, t.pending.reject).finally(() => {
      this.idle.push('in-thread');
      this.drain();
    });
  }

  private submit<T>(request: Task['request'], onInputFileDone?: (bytes: number) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ request, pending: { resolve: resolve as (r: unknown) => void, reject, onInputFileDone } });
      this.drain();
    });
  }

  /** Runs a group's whole rewrite on the next free worker. */
  run(job: RewriteJob, onInputFileDone?: (bytes: number) => void): Promise<RewriteResult> {
    return this.submit({ job }, onInputFileDone);
  }

  /** Decodes and encodes one slice of a group on the next free worker (spliced-rewrite.ts). */
  encodeSlice(group: RewriteJob, inputs: readonly RewriteInput[]): Promise<EncodedSlice> {
    const slice: SliceJob = {
      inputs, schemaJson: group.schemaJson, properties: group.properties,
      ...(group.rowGroupSizeBytes ? { rowGroupSizeBytes: group.rowGroupSizeBytes } : {}),
    };
    return this.submit({ slice });
  }

  async close(): Promise<void> {
    for (const t of this.waiting.splice(0)) t.pending.reject(new FloeError('io', 'rewrite pool closed before the task ran'));
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}
