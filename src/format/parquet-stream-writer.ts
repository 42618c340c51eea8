// One Parquet file written batch by batch (parquet-wasm's transformParquetStream): each row
// group goes to storage as arrow-rs completes it, so memory holds one row group whatever the
// file's size. Batches are handed over one at a time (a pull stream with no read-ahead), which
// is what keeps a fast producer from piling batches up in front of the encoder.
import * as parquet from 'parquet-wasm';
import { FloeError } from '../errors.ts';
import type { OutputFile } from '../io/file-io.ts';

interface Pending { readonly batch: parquet.RecordBatch | null; readonly taken: () => void }

export class ParquetStreamWriter {
  private readonly queue: Pending[] = [];
  private wakePull: (() => void) | undefined;
  private pumping: Promise<number> | undefined;
  private failure: unknown;
  private failed: Promise<never>;
  private fail!: (err: unknown) => void;
  /** Encoded bytes already handed to storage (whole row groups, plus the footer at the end). */
  flushedBytes = 0;
  /** Rows handed to the encoder. */
  rows = 0;

  constructor(private readonly sink: OutputFile, private readonly props: () => parquet.WriterProperties) {
    this.failed = new Promise<never>((_, reject) => { this.fail = (err) => { this.failure ??= err; reject(err); }; });
    this.failed.catch(() => undefined);
  }

  /** Hands batches (an Arrow IPC stream, all files' batches of one schema) to the encoder;
   * resolves once it took them. Arrow JS: `arrow.tableToIPC(table, 'stream')`. (No Arrow JS
   * import here: encoder worker threads load this module.) */
  async writeIpc(ipc: Uint8Array): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const wasm = parquet.Table.fromIPCStream(ipc);
    const batches = wasm.recordBatches();
    wasm.free();
    this.start();
    for (const batch of batches) {
      this.rows += batch.numRows;
      await Promise.race([new Promise<void>((taken) => this.push({ batch, taken })), this.failed]);
    }
  }

  private push(p: Pending): void {
    this.queue.push(p);
    const wake = this.wakePull;
    this.wakePull = undefined;
    wake?.();
  }

  /** Started at the first batch: arrow-rs reads the schema from it. */
  private start(): void {
    if (this.pumping) return;
    const source = new ReadableStream<parquet.RecordBatch>({
      pull: async (ctrl) => {
        while (this.queue.length === 0) await new Promise<void>((wake) => { this.wakePull = wake; });
        const next = this.queue.shift()!;
        if (next.batch === null) ctrl.close();
        else ctrl.enqueue(next.batch);
        next.taken();
      },
    }, { highWaterMark: 0 });
    this.pumping = (async () => {
      const reader = (await parquet.transformParquetStream(source, this.props())).getReader();
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        this.flushedBytes += r.value.length;
        await this.sink.write(r.value);
      }
      // An aborted file ends its input too: it must not be published.
      if (this.failure !== undefined) throw this.failure;
      return this.sink.close();
    })();
    this.pumping.catch((err: unknown) => this.fail(err));
  }

  /** Ends the file: writes the footer, publishes it, returns its size. */
  async close(): Promise<number> {
    if (!this.pumping) throw new FloeError('unsupported', 'a Parquet file needs at least one batch before it is closed');
    this.push({ batch: null, taken: () => undefined });
    try {
      return await this.pumping;
    } catch (err) {
      await this.sink.abort().catch(() => undefined);
      throw err;
    }
  }

  /** Drops the file: nothing becomes visible. */
  async abort(): Promise<void> {
    this.fail(new FloeError('io', 'Parquet file write aborted'));
    if (this.pumping) {
      // End the input so the encoder stops; its error is expected and ignored.
      this.push({ batch: null, taken: () => undefined });
      await this.pumping.catch(() => undefined);
    }
    await this.sink.abort().catch(() => undefined);
  }
}
