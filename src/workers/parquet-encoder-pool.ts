// Parquet encoding on worker threads, one parquet-wasm encoder per worker: the main thread
// converts records to Arrow and hands each batch over as Arrow IPC bytes (transferred, not
// copied); a worker encodes the file while the main thread converts the next batch, and sends
// the finished file's bytes back (transferred) with its footer facts. Workers start lazily,
// are reused across appends and do not keep the process alive while idle.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import * as arrow from 'apache-arrow';
import { FloeError, ValidationError } from '../errors.ts';
import type { EncodedFile, EncoderFault, EncoderFileOptions, EncoderReply, EncoderRequest } from './parquet-encoder-protocol.ts';
import { workerModule } from './worker-module.ts';

/** Batches of one file in flight to its worker at once (sent and not yet taken by the encoder). */
export const MAX_BATCHES_IN_FLIGHT = 2;

/** An encoder worker failed or died; names the file being encoded. */
export class EncoderWorkerError extends FloeError {
  constructor(file: string, reason: string) {
    super('io', `encoding ${file} on a worker thread failed: ${reason}`);
    this.name = 'EncoderWorkerError';
  }
}

interface Slot { readonly worker: Worker; session: WorkerFileEncoder | undefined; wasmHeapBytes: number }

/** One file being encoded on one worker: write batches in order, then close or abort. */
export class WorkerFileEncoder {
  private inFlight = 0;
  private wakeSender: (() => void) | undefined;
  private resolveDone!: (r: EncodedFile) => void;
  private rejectDone!: (e: Error) => void;
  private readonly done: Promise<EncodedFile>;
  private failure: Error | undefined;
  private finished = false;
  private closing = false;

  constructor(private readonly pool: ParquetEncoderPool, private readonly slot: Slot, readonly id: number, readonly name: string) {
    this.done = new Promise<EncodedFile>((resolve, reject) => { this.resolveDone = resolve; this.rejectDone = reject; });
    this.done.catch(() => undefined);
  }

  /** Sends one Arrow batch; resolves once it may send the next (bounded by MAX_BATCHES_IN_FLIGHT). */
  async write(table: arrow.Table): Promise<void> {
    while (this.inFlight >= MAX_BATCHES_IN_FLIGHT && this.failure === undefined) {
      await new Promise<void>((wake) => { this.wakeSender = wake; });
    }
    if (this.failure) throw this.failure;
    const ipc = arrow.tableToIPC(table, 'stream');
    const owned = ipc.byteOffset === 0 && ipc.byteLength === ipc.buffer.byteLength ? ipc : ipc.slice();
    this.inFlight++;
    this.post({ type: 'batch', file: this.id, ipc: owned }, [owned.buffer as ArrayBuffer]);
  }

  /** Ends the file (once, however often called); resolves with its bytes and footer facts once the worker finished it. */
  close(): Promise<EncodedFile> {
    if (!this.failure && !this.finished && !this.closing) this.post({ type: 'close', file: this.id });
    this.closing = true;
    return this.done;
  }

  /** Drops the file (nothing was written anywhere) and frees the worker. */
  abort(): void {
    if (this.finished) return;
    if (!this.failure) this.post({ type: 'abort', file: this.id });
    this.settle(new EncoderWorkerError(this.name, 'aborted'));
  }

  private post(m: EncoderRequest, transfer: ArrayBuffer[] = []): void { this.slot.worker.postMessage(m, transfer); }

  /** @internal a reply from this file's worker. */
  onReply(m: EncoderReply): void {
    if (m.type === 'taken') {
      this.inFlight--;
      const wake = this.wakeSender; this.wakeSender = undefined; wake?.();
    } else if (m.type === 'done') {
      this.slot.wasmHeapBytes = m.result.wasmHeapBytes;
      this.settle(undefined, m.result);
    } else {
      this.settle(new EncoderWorkerError(this.name, `${m.name}: ${m.message}`));
    }
  }

  /** @internal ends the session (error or result) and gives the worker back. */
  settle(err: Error | undefined, result?: EncodedFile): void {
    if (this.finished) return;
    this.finished = true;
    if (err) { this.failure = err; this.rejectDone(err); } else this.resolveDone(result!);
    const wake = this.wakeSender; this.wakeSender = undefined; wake?.();
    this.pool.release(this.slot);
  }
}

export interface EncoderPoolOptions {
  readonly size: number;
  /** Tests only: make a worker fail (see EncoderFault). */
  readonly fault?: EncoderFault;
}

export class ParquetEncoderPool {
  private readonly slots: Slot[] = [];
  private readonly idle: Slot[] = [];
  private readonly waiting: ((s: Slot) => void)[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: EncoderPoolOptions) {
    if (!(options.size >= 1)) throw new ValidationError(`encoder pool size must be at least 1, got ${options.size}`);
  }

  get size(): number { return this.options.size; }
  /** Worker threads started so far (they start at first use). */
  get started(): number { return this.slots.length; }
  /** The live workers' parquet-wasm memory, as each last reported it (after its last file). */
  get wasmHeapBytes(): number { return this.slots.reduce((sum, s) => sum + s.wasmHeapBytes, 0); }

  /** Starts encoding a file on a free worker (waits for one while all are busy). */
  async open(name: string, options: EncoderFileOptions): Promise<WorkerFileEncoder> {
    if (this.closed) throw new FloeError('unsupported', 'the encoder pool is closed');
    const slot = await this.acquire();
    const session = new WorkerFileEncoder(this, slot, this.nextId++, name);
    slot.session = session;
    slot.worker.ref();
    slot.worker.postMessage({ type: 'open', file: session.id, options } satisfies EncoderRequest);
    return session;
  }

  /** Starts a worker ahead of its first file when none is free (it boots while the caller
   * converts that file's first batch). */
  prestart(): void {
    if (this.closed || this.idle.length > 0 || this.slots.length >= this.options.size) return;
    const slot = this.spawn();
    slot.worker.unref();
    this.idle.push(slot);
  }

  private acquire(): Promise<Slot> {
    const free = this.idle.pop();
    if (free) return Promise.resolve(free);
    if (this.slots.length < this.options.size) return Promise.resolve(this.spawn());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private spawn(): Slot {
    const mod = workerModule(import.meta.url, 'parquet-encoder-worker');
    const worker = new Worker(mod.url, { workerData: { ...mod.data, fault: this.options.fault } });
    const slot: Slot = { worker, session: undefined, wasmHeapBytes: 0 };
    worker.on('message', (m: EncoderReply) => { if (slot.session?.id === m.file) slot.session.onReply(m); });
    const lost = (reason: string): void => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      this.slots.splice(i, 1);
      const j = this.idle.indexOf(slot);
      if (j >= 0) this.idle.splice(j, 1);
      const s = slot.session;
      slot.session = undefined;
      s?.settle(new EncoderWorkerError(s.name, reason));
      // A waiter gets a fresh worker in place of the lost one.
      const next = this.waiting.shift();
      if (next && !this.closed) next(this.spawn());
    };
    worker.on('error', (err) => lost(`worker error: ${err.message}`));
    worker.on('exit', (code) => lost(`worker exited with code ${code}`));
    this.slots.push(slot);
    return slot;
  }

  /** @internal a file ended: the worker takes the next waiting file or idles (unref'd). */
  release(slot: Slot): void {
    slot.session = undefined;
    if (!this.slots.includes(slot)) return;
    const next = this.waiting.shift();
    if (next) { next(slot); return; }
    slot.worker.unref();
    this.idle.push(slot);
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.slots];
    this.slots.length = 0;
    this.idle.length = 0;
    await Promise.all(all.map((s) => s.worker.terminate()));
  }
}

/** Rows a file must have to be encoded on a worker. Measured on 2 cores (8 columns, a CI run
 * sharing the machine): at 1M rows workers gave 1.36–1.58M rows/s vs 1.0–1.14M on the main
 * thread and ~35% fewer CPU-seconds; at 64k–262k rows the two were within the noise. */
export const DEFAULT_ENCODE_MIN_ROWS = 131_072;

/** Record bytes (the JSON-sized estimate the writer sizes files by) from which a file of fewer
 * rows than the row threshold is encoded on a worker too, if it has DEFAULT_ENCODE_MIN_ROWS / 8
 * rows or more. Measured with ~1 KB records (Kafka-style payloads): 16k rows (16 MB) went
 * 1.2–2× faster on a worker, 8k rows (8 MB) ~15% slower. */
export const DEFAULT_ENCODE_MIN_BYTES = 16 * 1024 * 1024;

/** Workers from FLOE_ENCODE_WORKERS (0 = encode on the main thread); default min(2, cores). */
export function encodeWorkersFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FLOE_ENCODE_WORKERS;
  if (raw === undefined || raw === '') return Math.min(2, os.availableParallelism());
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ValidationError(`FLOE_ENCODE_WORKERS must be a whole number ≥ 0, got '${raw}'`);
  return n;
}

/** Smallest file (rows) encoded on a worker, from FLOE_ENCODE_MIN_ROWS; default DEFAULT_ENCODE_MIN_ROWS. */
export function encodeMinRowsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FLOE_ENCODE_MIN_ROWS;
  if (raw === undefined || raw === '') return DEFAULT_ENCODE_MIN_ROWS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new ValidationError(`FLOE_ENCODE_MIN_ROWS must be a whole number ≥ 1, got '${raw}'`);
  return n;
}

let shared: ParquetEncoderPool | null | undefined;

/** The process's encoder pool (created at first call, workers at first use), or null when FLOE_ENCODE_WORKERS=0. */
export function sharedEncoderPool(): ParquetEncoderPool | null {
  if (shared === undefined) {
    const n = encodeWorkersFromEnv();
    shared = n > 0 ? new ParquetEncoderPool({ size: n }) : null;
  }
  return shared;
}
