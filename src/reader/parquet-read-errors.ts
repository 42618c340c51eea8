// Errors met while decoding Parquet, turned into floe errors that name the file.
import { DecodingError, errorMessage, FloeError, InvalidMetadataError } from '../errors.ts';

/** parquet-wasm's errors ("Corrupt footer", "Parquet error: …") name no file; with many
 * inputs in a group the user needs the full path of the bad one. */
export async function namingParquetFile<T>(file: string, read: () => Promise<T> | T): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof FloeError && !(err instanceof DecodingError)) throw err;
    throw new InvalidMetadataError(file, `cannot read Parquet data: ${errorMessage(err)}`, { cause: err });
  }
}
