// parquet-wasm's streaming reader over any RandomAccessBlob. Its `fromFile` asks the object only
// for `size`, `slice(start, end)` and `arrayBuffer()` (no instanceof check), so an S3 object's
// ranged view serves it exactly as a local file's Blob does.
import * as parquet from 'parquet-wasm';
import type { RandomAccessBlob } from '../io/file-io.ts';

export function openParquetFile(blob: RandomAccessBlob): Promise<parquet.ParquetFile> {
  return parquet.ParquetFile.fromFile(blob as unknown as Blob);
}
