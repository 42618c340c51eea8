// Messages between the Parquet encoder pool (main thread) and its workers. One worker encodes
// one file at a time: `open`, any number of `batch`es (Arrow IPC stream bytes, transferred),
// then `close` (the Parquet bytes come back transferred, with the footer facts manifests need)
// or `abort`.
import type { ColumnChoices, ParquetCodec } from '../format/parquet-writer-properties.ts';

export interface EncoderFileOptions extends ColumnChoices {
  readonly codec: ParquetCodec;
  readonly rowsPerGroup: number;
}

export type EncoderRequest =
  | { readonly type: 'open'; readonly file: number; readonly options: EncoderFileOptions }
  | { readonly type: 'batch'; readonly file: number; readonly ipc: Uint8Array }
  | { readonly type: 'close'; readonly file: number }
  | { readonly type: 'abort'; readonly file: number };

export interface EncodedFile {
  readonly bytes: Uint8Array;
  readonly columnSizes: readonly bigint[];
  readonly splitOffsets: readonly bigint[];
  readonly rowGroups: number;
  /** The worker's parquet-wasm linear memory once the file is done: it grows to the largest
   * file encoded so far and WebAssembly never gives it back (reported in the ingest metrics). */
  readonly wasmHeapBytes: number;
}

export type EncoderReply =
  /** The batch was handed to the encoder (the main thread may send another). */
  | { readonly type: 'taken'; readonly file: number }
  | { readonly type: 'done'; readonly file: number; readonly result: EncodedFile }
  | { readonly type: 'error'; readonly file: number; readonly name: string; readonly message: string };

/** Test-only fault injection, set through workerData: fail on the n-th batch a worker receives. */
export interface EncoderFault {
  readonly atBatch: number;
  /** 'throw': the encoder reports an error; 'exit': the worker thread dies. */
  readonly mode: 'throw' | 'exit';
}
