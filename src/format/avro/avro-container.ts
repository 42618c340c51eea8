// Avro Object Container Files (Avro spec "Object Container Files"): header with the exact
// writer-schema JSON, key-value metadata and sync marker, then blocks of records, with the
// `null` and `deflate` codecs. Manifests and manifest lists are written and read through here.
import { UnsupportedError, ValidationError } from '../../errors.ts';
import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

import {
  AvroDecodingError,
  AvroReader,
  AvroWriter,
  compileAvroSchema,
} from './avro-binary.ts';
import type { AvroCodec, AvroSchemaJson } from './avro-binary.ts';

export type AvroContainerCodec = 'null' | 'deflate';

const MAGIC = Uint8Array.of(0x4f, 0x62, 0x6a, 0x01); // "Obj" 0x01
const SYNC_SIZE = 16;
const DEFAULT_RECORDS_PER_BLOCK = 4096;
// Keep blocks small enough that a reader never has to inflate a huge buffer at once.
const MAX_BLOCK_BYTES = 1024 * 1024;

/** Compiled codecs by writer-schema text. Compiling generates record readers and writers with
 * `new Function` (~0.1 ms for a manifest's schema), more than decoding a small manifest itself;
 * a table's manifests and lists share a few schema texts, and codecs hold no state once built,
 * so a merge that reads back 100 small manifests compiles their schema once, not 100 times. */
const codecsBySchemaText = new Map<string, AvroCodec>();
const MAX_CACHED_CODECS = 64;

function codecFor(schemaJson: string, schema: AvroSchemaJson): AvroCodec {
  let codec = codecsBySchemaText.get(schemaJson);
  if (codec === undefined) {
    codec = compileAvroSchema(schema);
    if (codecsBySchemaText.size >= MAX_CACHED_CODECS) codecsBySchemaText.delete(codecsBySchemaText.keys().next().value!);
    codecsBySchemaText.set(schemaJson, codec);
  }
  return codec;
}

export interface AvroContainerWriteOptions {
  /** Raw JSON schema (object or its JSON text). Written verbatim as `avro.schema`, so
   * `field-id` / `element-id` attributes survive — pyiceberg and DuckDB read field ids only
   * from there. */
  readonly schema: object | string;
  /** Extra key-value metadata (strings, written as UTF-8 bytes). `avro.*` keys are reserved. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly records: Iterable<unknown>;
  readonly codec: AvroContainerCodec;
  /** Defaults to 16 random bytes; fixed only to make test output reproducible. */
  readonly syncMarker?: Uint8Array;
  readonly recordsPerBlock?: number;
}

export interface AvroContainer {
  /** The writer schema parsed from the header. */
  readonly schema: AvroSchemaJson;
  /** The header's `avro.schema` text exactly as stored. */
  readonly schemaJson: string;
  readonly codec: string;
  /** Every header metadata entry (including `avro.schema` and `avro.codec`) as UTF-8 text. */
  readonly metadata: Record<string, string>;
  /** Decoded records; bytes/fixed values are views into a per-block buffer owned by them. */
  readonly records: unknown[];
}

export function writeAvroContainer(options: AvroContainerWriteOptions): Uint8Array {
  const schemaJson = typeof options.schema === 'string' ? options.schema : JSON.stringify(options.schema);
  const codec = codecsBySchemaText.get(schemaJson) ?? codecFor(schemaJson, JSON.parse(schemaJson) as AvroSchemaJson);
  if (options.codec !== 'null' && options.codec !== 'deflate') {
    throw new UnsupportedError(`unsupported Avro codec "${String(options.codec)}" (floe writes null and deflate)`);
  }
  const sync = options.syncMarker ?? randomBytes(SYNC_SIZE);
  if (sync.length !== SYNC_SIZE) throw new ValidationError(`Avro sync marker must be ${SYNC_SIZE} bytes`);
  const recordsPerBlock = options.recordsPerBlock ?? DEFAULT_RECORDS_PER_BLOCK;
  if (!Number.isInteger(recordsPerBlock) || recordsPerBlock < 1) {
    throw new ValidationError(`recordsPerBlock must be a positive integer, got ${recordsPerBlock}`);
  }

  const metadata = new Map<string, string>([
    ['avro.schema', schemaJson],
    ['avro.codec', options.codec],
  ]);
  for (const [key, value] of Object.entries(options.metadata ?? {})) {
    if (key.startsWith('avro.')) throw new ValidationError(`Avro metadata key "${key}" is reserved for the format`);
    metadata.set(key, value);
  }

  const out = new AvroWriter(64 * 1024);
  out.writeFixed(MAGIC);
  out.writeSafeLong(metadata.size);
  const encoder = new TextEncoder();
  for (const [key, value] of metadata) {
    out.writeString(key);
    out.writeBytes(encoder.encode(value));
  }
  out.writeSafeLong(0);
  out.writeFixed(sync);

  const block = new AvroWriter(256 * 1024);
  let blockCount = 0;
  const flush = (): void => {
    if (blockCount === 0) return;
    const raw = block.bytesView();
    const payload = options.codec === 'deflate' ? deflateRawSync(raw) : raw;
    out.writeSafeLong(blockCount);
    out.writeSafeLong(payload.length);
    out.writeFixed(payload);
    out.writeFixed(sync);
    block.reset();
    blockCount = 0;
  };
  let index = 0;
  for (const record of options.records) {
    try {
      codec.write(block, record);
    } catch (error) {
      if (error instanceof Error) error.message = `Avro record ${index}: ${error.message}`;
      throw error;
    }
    index++;
    blockCount++;
    if (blockCount >= recordsPerBlock || block.position >= MAX_BLOCK_BYTES) flush();
  }
  flush();
  return out.toBytes();
}

export function readAvroContainer(bytes: Uint8Array): AvroContainer {
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw new AvroDecodingError('not an Avro object container file (bad magic)');
  }
  const header = new AvroReader(bytes, MAGIC.length);
  const metadata: Record<string, string> = {};
  const decoder = new TextDecoder();
  for (;;) {
    let count = header.readSafeLong();
    if (count === 0) break;
    if (count < 0) {
      count = -count;
      header.readSafeLong();
    }
    for (let i = 0; i < count; i++) {
      const key = header.readString();
      metadata[key] = decoder.decode(header.readBytes());
    }
  }
  const sync = header.readFixed(SYNC_SIZE);

  const schemaJson = metadata['avro.schema'];
  if (schemaJson === undefined) throw new AvroDecodingError('Avro container header has no avro.schema');
  const codecName = metadata['avro.codec'] ?? 'null';
  if (codecName !== 'null' && codecName !== 'deflate') {
    throw new AvroDecodingError(`unsupported Avro codec "${codecName}" (floe reads null and deflate)`);
  }
  const schema = JSON.parse(schemaJson) as AvroSchemaJson;
  const codec = codecFor(schemaJson, schema);

  const records: unknown[] = [];
  let position = header.position;
  while (position < bytes.length) {
    const framing = new AvroReader(bytes, position);
    const count = framing.readSafeLong();
    const size = framing.readSafeLong();
    if (count < 0 || size < 0) throw new AvroDecodingError(`corrupt Avro block header at byte ${position}`);
    const dataStart = framing.position;
    const dataEnd = dataStart + size;
    if (dataEnd + SYNC_SIZE > bytes.length) throw new AvroDecodingError(`truncated Avro block at byte ${position}`);
    const payload = bytes.subarray(dataStart, dataEnd);
    // Each block gets a buffer of its own (inflated, or one copy for the null codec), so
    // decoded bytes values can be views into it without aliasing the caller's file bytes.
    const data = codecName === 'deflate' ? inflateRawSync(payload) : new Uint8Array(payload);
    const reader = new AvroReader(data, 0, data.length, true);
    for (let i = 0; i < count; i++) records.push(codec.read(reader));
    if (reader.position !== data.length) {
      throw new AvroDecodingError(`Avro block at byte ${position} has ${data.length - reader.position} undecoded bytes`);
    }
    for (let i = 0; i < SYNC_SIZE; i++) {
      if (bytes[dataEnd + i] !== sync[i]) throw new AvroDecodingError(`Avro sync marker mismatch after block at byte ${position}`);
    }
    position = dataEnd + SYNC_SIZE;
  }
  return { schema, schemaJson, codec: codecName, metadata, records };
}
