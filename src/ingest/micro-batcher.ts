// Micro-batching: buffers records and flushes a batch at the first of time window, record
// count and buffered bytes (and on shutdown). Flushes run one at a time, in order; records
// keep arriving into the next batch meanwhile: fetching and decoding batch N+1 overlaps batch
// N's commit (its Parquet encoding on the worker pool, file writes, catalog commit). Memory is
// bounded in bytes: once buffered plus in-flight bytes (the open batch, the one committing and
// any flushed behind it) reach `bufferLimitBytes` (default 2 × maxBytes: one full batch
// committing and one filling), `full` turns true and the source must pause until `drained`.
// Small batches (cut by count or time) may queue within that budget: a bound on the number of
// batches instead paused kafkajs after every small batch, and a paused consumer sleeps its
// fetch wait — 10,000-record batches went from 78k to 31k msgs/s.
// In adaptive mode the window widens while commits are slow or conflicting (backpressure from
// the table) and narrows again when they are healthy, within its bounds. A source that knows it
// has caught up (Kafka: nothing left to fetch) says so, and a batch at least `caughtUpFlushMs`
// old is flushed then instead of waiting out its window: waiting would add no records, only delay.
// A flush is a flush whatever its reason (the batch carries its offsets), so this changes batch
// sizes and freshness, never which records are committed.

/** Why a batch was flushed: its time window ended, it reached maxRecords or maxBytes, the source
 * caught up, or the pipeline is shutting down. */
export type FlushReason = 'time' | 'count' | 'bytes' | 'caught-up' | 'shutdown';

/** When a micro-batch is flushed (committed), and how much may be buffered. */
export interface BatcherConfig {
  /** Flush after this long since the first record of a batch (default 10 s). */
  readonly windowMs: number;
  /** Flush at this many records (default 100,000). */
  readonly maxRecords: number;
  /** Flush at this many buffered bytes (default 128 MiB). */
  readonly maxBytes: number;
  /** Pause the source above this many buffered + in-flight bytes (default 2 × maxBytes). */
  readonly bufferLimitBytes: number;
  /** Flush early once the source has caught up and the batch is this old (default: half the
   * current window; ≥ the window = never early). */
  readonly caughtUpFlushMs?: number;
  /** Adaptive window bounds; absent = fixed window. */
  readonly adaptive?: { readonly minWindowMs: number; readonly maxWindowMs: number };
}

/** The defaults: 10 s window, 100,000 records, 128 MiB, 256 MiB buffer limit. */
export const DEFAULT_BATCHER_CONFIG: BatcherConfig = {
  windowMs: 10_000,
  maxRecords: 100_000,
  maxBytes: 128 * 1024 * 1024,
  bufferLimitBytes: 256 * 1024 * 1024,
};

export interface Batch<T> {
  readonly items: T[];
  readonly bytes: number;
  readonly reason: FlushReason;
  /** When the batch's first record arrived (ms since epoch). */
  readonly openedAtMs: number;
}

export interface FlushOutcome { readonly commitMs: number; readonly conflicts: number }

export class MicroBatcher<T> {
  private items: T[] = [];
  private bytes = 0;
  private inFlightBytes = 0;
  /** Batches flushed and not yet done: the one committing plus any waiting behind it. */
  private inFlightBatches = 0;
  private openedAtMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private caughtUpTimer: NodeJS.Timeout | undefined;
  private sourceCaughtUp = false;
  private chain: Promise<void> = Promise.resolve();
  private error: unknown;
  private drainWaiters: (() => void)[] = [];
  private window: number;

  constructor(
    private readonly cfg: BatcherConfig,
    // biome-ignore lint/suspicious/noConfusingVoidType: a flush callback may return nothing (an async function with no return)
    private readonly onFlush: (batch: Batch<T>) => Promise<FlushOutcome | void>,
    /** Called once, when a flush fails for good: nothing is flushed after it, so the owner must
     * stop its source (a source that only offers records would meet the error at its next add,
     * and a Kafka consumer that swallows it would keep the process up but idle). */
    private readonly onFailure?: (err: unknown) => void,
  ) {
    this.window = cfg.windowMs;
  }

  /** The current time window (moves in adaptive mode). */
  get windowMs(): number { return this.window; }
  get bufferedBytes(): number { return this.bytes + this.inFlightBytes; }
  get bufferedRecords(): number { return this.items.length; }
  /** Batches flushed whose commit has not finished (the one committing and any queued behind it). */
  get batchesInFlight(): number { return this.inFlightBatches; }
  /** True while the source should be paused: buffered plus in-flight bytes reach the limit. */
  get full(): boolean { return this.bufferedBytes >= this.cfg.bufferLimitBytes; }

  /** Adds one record; throws the error of a failed flush, so a broken sink stops the source. */
  add(item: T, bytes: number): void {
    if (this.error !== undefined) throw this.error;
    if (this.items.length === 0) {
      this.openedAtMs = Date.now();
      this.timer = setTimeout(() => this.startFlush('time'), this.window);
      const early = this.caughtUpFlushMs;
      if (early < this.window) this.caughtUpTimer = setTimeout(() => { if (this.sourceCaughtUp) this.startFlush('caught-up'); }, early);
    }
    this.items.push(item);
    this.bytes += bytes;
    if (this.items.length >= this.cfg.maxRecords) this.startFlush('count');
    else if (this.bytes >= this.cfg.maxBytes) this.startFlush('bytes');
  }

  private get caughtUpFlushMs(): number { return this.cfg.caughtUpFlushMs ?? Math.floor(this.window / 2); }

  /**
   * The source tells whether it has caught up (nothing more to read right now). Caught up with
   * a batch at least caughtUpFlushMs old: flushed now (reason `caught-up`); younger: flushed
   * when it reaches that age, unless the source has fallen behind again by then.
   */
  setCaughtUp(caughtUp: boolean): void {
    this.sourceCaughtUp = caughtUp;
    if (caughtUp && this.items.length > 0 && this.caughtUpFlushMs < this.window && Date.now() - this.openedAtMs >= this.caughtUpFlushMs) {
      this.startFlush('caught-up');
    }
  }

  /** A flush nobody awaits: its failure is kept and thrown by the next add/flush/close. */
  private startFlush(reason: FlushReason): void {
    this.flush(reason).catch(() => undefined);
  }

  /** Starts flushing the open batch (if any); resolves when it and all earlier ones are done. */
  flush(reason: FlushReason): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    if (this.caughtUpTimer) { clearTimeout(this.caughtUpTimer); this.caughtUpTimer = undefined; }
    if (this.items.length > 0) {
      const batch: Batch<T> = { items: this.items, bytes: this.bytes, reason, openedAtMs: this.openedAtMs };
      this.items = [];
      this.inFlightBytes += this.bytes;
      this.inFlightBatches++;
      this.bytes = 0;
      this.chain = this.chain.then(async () => {
        if (this.error !== undefined) return;
        try {
          const outcome = await this.onFlush(batch);
          if (outcome) this.adapt(outcome);
        } catch (err) {
          this.error = err;
          this.onFailure?.(err);
        } finally {
          this.inFlightBytes -= batch.bytes;
          this.inFlightBatches--;
          this.notifyDrained();
        }
      });
    }
    return this.chain.then(() => { if (this.error !== undefined) throw this.error; });
  }

  /** Resolves once the buffer is below its limit again (or a flush failed). */
  drained(): Promise<void> {
    if (!this.full || this.error !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Flushes what is buffered with reason `shutdown` and waits for every flush. */
  close(): Promise<void> { return this.flush('shutdown'); }

  private notifyDrained(): void {
    if (this.full && this.error === undefined) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private adapt(o: FlushOutcome): void {
    const a = this.cfg.adaptive;
    if (!a) return;
    if (o.conflicts > 0 || o.commitMs > this.window / 2) this.window = Math.min(a.maxWindowMs, Math.ceil(this.window * 1.5));
    else if (o.commitMs < this.window / 10) this.window = Math.max(a.minWindowMs, Math.floor(this.window * 0.9));
  }
}
