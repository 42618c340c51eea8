// Worker-thread side of the Parquet encoder pool: its own parquet-wasm instance encodes one file
// at a time, batch by batch, into memory; the finished file goes back to the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { FileIOError } from '../errors.ts';
import { ParquetStreamWriter } from '../format/parquet-stream-writer.ts';
import { parquetWasmHeapBytes, parquetWriterProperties } from '../format/parquet-writer-properties.ts';
import { footerColumnSizes, footerSplitOffsets, parquetFooterOf } from '../format/parquet-footer.ts';
import type { OutputFile } from '../io/file-io.ts';
import type { EncodedFile, EncoderFault, EncoderReply, EncoderRequest } from './parquet-encoder-protocol.ts';

/** Collects a file's bytes in memory; nothing reaches storage from a worker. */
class MemorySink implements OutputFile {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  bytes: Uint8Array | undefined;
  async write(chunk: Uint8Array): Promise<void> { this.chunks.push(chunk.slice()); this.size += chunk.length; }
  async close(): Promise<number> {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) { out.set(c, at); at += c.length; }
    this.chunks.length = 0;
    this.bytes = out;
    return this.size;
  }
  async abort(): Promise<void> { this.chunks.length = 0; }
}

interface Session { readonly sink: MemorySink; readonly writer: ParquetStreamWriter; chain: Promise<void>; failed: boolean }

const port = parentPort!;
const fault = (workerData as { fault?: EncoderFault } | undefined)?.fault;
const sessions = new Map<number, Session>();
let batchesSeen = 0;

const reply = (r: EncoderReply, transfer: ArrayBuffer[] = []): void => port.postMessage(r, transfer);
const fail = (file: number, err: unknown): void => reply({
  type: 'error', file, name: err instanceof Error ? err.name : 'Error', message: err instanceof Error ? err.message : String(err),
});

async function finish(s: Session): Promise<EncodedFile> {
  await s.writer.close();
  const bytes = s.sink.bytes!;
  const footer = parquetFooterOf(bytes, 'encoded Parquet file');
  return { bytes, columnSizes: footerColumnSizes(footer), splitOffsets: footerSplitOffsets(footer), rowGroups: footer.rowGroups.length, wasmHeapBytes: parquetWasmHeapBytes() };
}

port.on('message', (req: EncoderRequest) => {
  if (req.type === 'open') {
    const sink = new MemorySink();
    const props = parquetWriterProperties(req.options);
    sessions.set(req.file, { sink, writer: new ParquetStreamWriter(sink, () => props), chain: Promise.resolve(), failed: false });
    return;
  }
  const s = sessions.get(req.file);
  if (!s) return;
  const step = (work: () => Promise<void>): void => {
    s.chain = s.chain.then(async () => {
      if (s.failed) return;
      try {
        await work();
      } catch (err) {
        s.failed = true;
        sessions.delete(req.file);
        await s.writer.abort().catch(() => undefined);
        fail(req.file, err);
      }
    });
  };
  if (req.type === 'batch') {
    step(async () => {
      batchesSeen++;
      if (fault && batchesSeen === fault.atBatch) {
        if (fault.mode === 'exit') process.exit(3);
        throw new FileIOError(`injected encoder fault at batch ${batchesSeen}`);
      }
      await s.writer.writeIpc(req.ipc);
      reply({ type: 'taken', file: req.file });
    });
  } else if (req.type === 'close') {
    step(async () => {
      const result = await finish(s);
      sessions.delete(req.file);
      reply({ type: 'done', file: req.file, result }, [result.bytes.buffer as ArrayBuffer]);
    });
  } else {
    sessions.delete(req.file);
    s.failed = true;
    s.chain = s.chain.then(() => s.writer.abort()).catch(() => undefined);
  }
});
