// Interop (moved from test/unit: it needs the venv): pyiceberg's own manifest readers (read_manifest_list, fetch_manifest_entry) read the
// manifest list and manifests floe writes, with the same values — every partition type,
// 64-bit ids, inheritance, metrics and bounds. Needs /work/main/.venv with pyiceberg; in CI a
// missing venv fails the test instead of skipping it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { writeManifestList } from '../../src/format/manifest-list-writer.ts';
import { writeManifest } from '../../src/format/manifest-writer.ts';
import { EntryStatus, FileContent, ManifestContent } from '../../src/spec/data-file.ts';
import type { DataFile, ManifestEntry, ManifestFile, PartitionTuple } from '../../src/spec/data-file.ts';
import { encodeSingleValue } from '../../src/spec/single-value.ts';
import { ALL_TYPES_PARTITION } from '../support/manifest-fixtures.ts';
import { primitive } from '../../src/spec/types.ts';
import type { PrimitiveType, PrimitiveValue } from '../../src/spec/types.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');
const python = join(repoRoot, '.venv/bin/python');
const script = join(here, 'read_manifest_with_pyiceberg.py');

function pyicebergAvailable(): boolean {
  if (!existsSync(python)) return false;
  try {
    execFileSync(python, ['-c', 'import pyiceberg.manifest, pyiceberg.io.pyarrow'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const available = pyicebergAvailable();
const inCi = process.env.CI === 'true';

const SNAPSHOT_ID = 9223372036854775707n; // near 2^63: exact only if every layer is BigInt-safe
const OLD_SNAPSHOT_ID = 9007199254740993n;

const partitionFields = ALL_TYPES_PARTITION;

const fromHex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));

const tuples: readonly PartitionTuple[] = [
  [true, -7, 9007199254740993n, -0, 2.5, 19723, 3_600_000_000n, 1_700_000_000_000_000n, -1n,
    'é😀', fromHex('3f9c3e09677c4bbd24793f349cb785e7'), fromHex('00ff'), fromHex('010203'), -12345n, 0n, 10n ** 38n - 1n, 'x'],
  [false, 2147483647, -9223372036854775808n, 0, Number.NaN, -1, 0n, -9007199254740993n, 9223372036854775807n,
    '～', fromHex('0a9c3e09677c4bbd24793f349cb785e7'), new Uint8Array(), fromHex('ff0000'), 128n, -1n, -(10n ** 38n - 1n), 'y'],
  [null, null, null, null, -0.5, null, null, null, null, null, null, null, null, null, null, null, null],
];

function dataFile(index: number, partition: PartitionTuple): DataFile {
  return {
    content: FileContent.Data,
    filePath: `s3://bucket/db/t/data/part-${index}.parquet`,
    fileFormat: 'parquet',
    specId: 2,
    partition,
    recordCount: 9007199254740993n + BigInt(index),
    fileSizeInBytes: 4096n + BigInt(index),
    columnSizes: new Map([[1, 100n], [2, 9007199254740995n]]),
    valueCounts: new Map([[1, 10n], [2, 10n]]),
    nullValueCounts: new Map([[1, 0n], [2, 3n]]),
    nanValueCounts: new Map([[2, 1n]]),
    lowerBounds: new Map([[1, encodeSingleValue(primitive('long'), -5n)], [2, fromHex('61')]]),
    upperBounds: new Map([[1, encodeSingleValue(primitive('long'), 9007199254740993n)], [2, fromHex('7aff')]]),
    splitOffsets: [4n, 9007199254740993n],
    sortOrderId: 0,
  };
}

const entries: ManifestEntry[] = [
  { status: EntryStatus.Added, snapshotId: null, sequenceNumber: null, fileSequenceNumber: null, dataFile: dataFile(0, tuples[0]!) },
  { status: EntryStatus.Added, snapshotId: SNAPSHOT_ID, sequenceNumber: null, fileSequenceNumber: null, dataFile: dataFile(1, tuples[2]!) },
  { status: EntryStatus.Existing, snapshotId: OLD_SNAPSHOT_ID, sequenceNumber: 3n, fileSequenceNumber: 2n, dataFile: dataFile(2, tuples[1]!) },
  { status: EntryStatus.Deleted, snapshotId: SNAPSHOT_ID, sequenceNumber: 1n, fileSequenceNumber: 1n, dataFile: dataFile(3, tuples[0]!) },
];

// ---- the tagged form read_manifest_with_pyiceberg.py prints ------------------------------
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const tagInt = (value: number | bigint): string => `i:${value}`;
const tagBytes = (bytes: Uint8Array | null): string | null => (bytes === null ? null : `b:${hex(bytes)}`);

function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (Object.is(value, -0)) return '-0.0';
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

function pythonDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

function tagPartitionValue(type: PrimitiveType, value: PrimitiveValue | null): unknown {
  if (value === null) return null;
  switch (type.kind) {
    case 'boolean': return value;
    case 'float':
    case 'double': return `f:${pythonFloatRepr(value as number)}`;
    case 'string': return `s:${value as string}`;
    case 'uuid': return `u:${hex(value as Uint8Array)}`;
    case 'binary':
    case 'fixed': return `b:${hex(value as Uint8Array)}`;
    case 'decimal': return `d:${pythonDecimal(value as bigint, type.scale)}`;
    default: return tagInt(value as number | bigint);
  }
}

function tagMap<V>(map: ReadonlyMap<number, V> | undefined, tagValue: (v: V) => unknown): unknown {
  return map === undefined ? null : Object.fromEntries([...map].map(([k, v]) => [String(k), tagValue(v)]));
}

function expectedManifest(manifest: ManifestFile, sequenceNumber: bigint, inheritedEntries: readonly ManifestEntry[]): unknown {
  return {
    manifest_path: `s:${manifest.manifestPath}`,
    manifest_length: tagInt(manifest.manifestLength),
    partition_spec_id: tagInt(manifest.partitionSpecId),
    content: tagInt(manifest.content),
    sequence_number: tagInt(sequenceNumber),
    min_sequence_number: tagInt(3n),
    added_snapshot_id: tagInt(manifest.addedSnapshotId),
    added_files_count: tagInt(manifest.addedFilesCount),
    existing_files_count: tagInt(manifest.existingFilesCount),
    deleted_files_count: tagInt(manifest.deletedFilesCount),
    added_rows_count: tagInt(manifest.addedRowsCount),
    existing_rows_count: tagInt(manifest.existingRowsCount),
    deleted_rows_count: tagInt(manifest.deletedRowsCount),
    key_metadata: null,
    partitions: manifest.partitions!.map((summary) => ({
      contains_null: summary.containsNull,
      contains_nan: summary.containsNan,
      lower_bound: tagBytes(summary.lowerBound),
      upper_bound: tagBytes(summary.upperBound),
    })),
    entries: inheritedEntries.map((entry) => {
      const file = entry.dataFile;
      const inherits = entry.status === EntryStatus.Added;
      return {
        status: tagInt(entry.status),
        snapshot_id: tagInt(entry.snapshotId ?? manifest.addedSnapshotId),
        sequence_number: tagInt(entry.sequenceNumber ?? (inherits ? sequenceNumber : -1n)),
        file_sequence_number: tagInt(entry.fileSequenceNumber ?? (inherits ? sequenceNumber : -1n)),
        data_file: {
          content: tagInt(file.content),
          file_path: `s:${file.filePath}`,
          file_format: 's:PARQUET',
          record_count: tagInt(file.recordCount),
          file_size_in_bytes: tagInt(file.fileSizeInBytes),
          column_sizes: tagMap(file.columnSizes, tagInt),
          value_counts: tagMap(file.valueCounts, tagInt),
          null_value_counts: tagMap(file.nullValueCounts, tagInt),
          nan_value_counts: tagMap(file.nanValueCounts, tagInt),
          lower_bounds: tagMap(file.lowerBounds, tagBytes),
          upper_bounds: tagMap(file.upperBounds, tagBytes),
          key_metadata: null,
          split_offsets: file.splitOffsets!.map(tagInt),
          equality_ids: null,
          sort_order_id: tagInt(file.sortOrderId!),
          partition: partitionFields.map((field, i) => tagPartitionValue(field.type, file.partition[i] ?? null)),
        },
      };
    }),
  };
}

describe('pyiceberg reads floe manifests', () => {
  it('returns the same values through read_manifest_list and fetch_manifest_entry', { skip: !available && !inCi ? 'no .venv with pyiceberg (set CI=true to require it)' : false }, () => {
    assert.ok(available, `CI=true requires ${python} with pyiceberg installed`);
    const dir = mkdtempSync(join(tmpdir(), 'floe-pyiceberg-'));
    try {
      const manifestPath = join(dir, 'c0ffee-m0.avro');
      const { bytes, manifest } = writeManifest({
        path: manifestPath,
        entries,
        content: ManifestContent.Data,
        specId: 2,
        partitionFields,
        schemaJson: '{"type":"struct","schema-id":0,"fields":[{"id":1,"name":"id","required":true,"type":"long"}]}',
        schemaId: 0,
        partitionSpecJson: '[]',
        addedSnapshotId: SNAPSHOT_ID,
      });
      writeFileSync(manifestPath, bytes);
      const listPath = join(dir, `snap-${SNAPSHOT_ID}-1-c0ffee.avro`);
      writeFileSync(listPath, writeManifestList({ manifests: [manifest], snapshotId: SNAPSHOT_ID, parentSnapshotId: OLD_SNAPSHOT_ID, sequenceNumber: 7n }));

      const output = execFileSync(python, [script, listPath], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      const read = JSON.parse(output) as unknown[];
      assert.equal(read.length, 1);
      assert.deepEqual(read[0], expectedManifest(manifest, 7n, entries));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
