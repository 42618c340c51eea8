// Manifests and manifest lists: exact schemas and metadata, round trips of every partition
// type, counts and summaries, sequence-number assignment and inheritance, foreign manifests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { readAvroContainer, writeAvroContainer } from '../../../src/format/avro/avro-container.ts';
import type { AvroSchemaJson } from '../../../src/format/avro/avro-binary.ts';
import { readManifest, readManifestList } from '../../../src/format/manifest-reader.ts';
import { assignSequenceNumber, writeManifestList } from '../../../src/format/manifest-list-writer.ts';
import { manifestEntrySchemaV2, manifestListSchemaV2 } from '../../../src/format/manifest-schemas.ts';
import type { ManifestPartitionField } from '../../../src/format/manifest-schemas.ts';
import { splitForUuidBounds, writeManifest } from '../../../src/format/manifest-writer.ts';
import type { WriteManifestOptions } from '../../../src/format/manifest-writer.ts';
import {
  EntryStatus,
  FileContent,
  ManifestContent,
  UNASSIGNED_SEQUENCE_NUMBER,
} from '../../../src/spec/data-file.ts';
import type { DataFile, ManifestEntry, PartitionTuple } from '../../../src/spec/data-file.ts';
import { encodeSingleValue } from '../../../src/spec/single-value.ts';
import { ALL_TYPES_PARTITION } from '../../support/manifest-fixtures.ts';
import { primitive } from '../../../src/spec/types.ts';

const SNAPSHOT_ID = 9007199254740993n; // above 2^53: must survive exactly
const OLD_SNAPSHOT_ID = 4183729461238001234n;
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);


const uuidA = Uint8Array.from(Buffer.from('3f9c3e09677c4bbd24793f349cb785e7', 'hex'));
const uuidB = Uint8Array.from(Buffer.from('0a9c3e09677c4bbd24793f349cb785e7', 'hex'));

export const ALL_TYPES_TUPLES: readonly PartitionTuple[] = [
  [true, -7, 9007199254740993n, -0, 2.5, 19723, 3_600_000_000n, 1_700_000_000_000_000n, -1n,
    'é😀', uuidA, bytes(0, 255), bytes(1, 2, 3), -12345n, 0n, 10n ** 38n - 1n, 'x'],
  [false, 2147483647, -9223372036854775808n, 0, Number.NaN, -1, 0n, -9007199254740993n, 9223372036854775807n,
    '～', uuidB, bytes(), bytes(255, 0, 0), 128n, -1n, -(10n ** 38n - 1n), 'y'],
  [null, null, null, null, -0.5, null, null, null, null, null, null, null, null, null, null, null, null],
];

function dataFile(index: number, partition: PartitionTuple, overrides: { [K in keyof DataFile]?: DataFile[K] | undefined } = {}): DataFile {
  return {
    content: FileContent.Data,
    filePath: `s3://bucket/db/t/data/part-${index}.parquet`,
    fileFormat: 'parquet',
    specId: 3,
    partition,
    recordCount: 9007199254740993n + BigInt(index),
    fileSizeInBytes: 4096n + BigInt(index),
    columnSizes: new Map([[1, 100n], [2, 9007199254740995n]]),
    valueCounts: new Map([[1, 10n], [2, 10n]]),
    nullValueCounts: new Map([[1, 0n], [2, 3n]]),
    nanValueCounts: new Map([[2, 1n]]),
    lowerBounds: new Map([[1, encodeSingleValue(primitive('long'), -5n)], [2, bytes(0x61)]]),
    upperBounds: new Map([[1, encodeSingleValue(primitive('long'), 9007199254740993n)], [2, bytes(0x7a, 0xff)]]),
    splitOffsets: [4n, 9007199254740993n],
    sortOrderId: 0,
    // An override of undefined drops an optional field (that absent fields round-trip is tested).
    ...overrides,
  } as DataFile;
}

function baseOptions(entries: readonly ManifestEntry[], overrides: Partial<WriteManifestOptions> = {}): WriteManifestOptions {
  return {
    path: 's3://bucket/db/t/metadata/c0ffee-m0.avro',
    entries,
    content: ManifestContent.Data,
    specId: 3,
    partitionFields: ALL_TYPES_PARTITION,
    schemaJson: '{"type":"struct","schema-id":7,"fields":[{"id":1,"name":"id","required":true,"type":"long"}]}',
    schemaId: 7,
    partitionSpecJson: '[{"name":"b","transform":"identity","source-id":1,"field-id":1000}]',
    addedSnapshotId: SNAPSHOT_ID,
    ...overrides,
  };
}

const addedEntries: ManifestEntry[] = ALL_TYPES_TUPLES.map((tuple, i) => ({
  status: EntryStatus.Added,
  snapshotId: i === 0 ? null : SNAPSHOT_ID,
  sequenceNumber: null,
  fileSequenceNumber: null,
  dataFile: dataFile(i, tuple),
}));

/** Every record field carries field-id, every array element-id, every map key-id/value-id. */
function assertIdsEverywhere(node: AvroSchemaJson, path = '$'): void {
  if (typeof node === 'string') return;
  if (Array.isArray(node)) {
    assert.equal(node[0], 'null', `${path}: optional unions are null-first`);
    for (const branch of node as readonly AvroSchemaJson[]) assertIdsEverywhere(branch, path);
    return;
  }
  const object = node as Record<string, unknown>;
  if (object.type === 'record') {
    for (const field of object.fields as Record<string, unknown>[]) {
      assert.equal(typeof field['field-id'], 'number', `${path}.${String(field.name)} has a field-id`);
      if (Array.isArray(field.type)) assert.equal(field.default, null, `${path}.${String(field.name)} defaults to null`);
      assertIdsEverywhere(field.type as AvroSchemaJson, `${path}.${String(field.name)}`);
    }
  } else if (object.type === 'array') {
    if (object.logicalType === 'map') {
      const items = object.items as Record<string, unknown>;
      assert.match(String(items.name), /^k\d+_v\d+$/, `${path} map record name`);
    } else {
      assert.equal(typeof object['element-id'], 'number', `${path} has an element-id`);
    }
    assertIdsEverywhere(object.items as AvroSchemaJson, `${path}[]`);
  } else if (typeof object.type === 'object') {
    assertIdsEverywhere(object.type as AvroSchemaJson, path);
  }
}

describe('manifest schemas', () => {
  it('tag every field with ids, name records like Java and map types like the spec', () => {
    const entrySchema = manifestEntrySchemaV2(ALL_TYPES_PARTITION);
    assertIdsEverywhere(entrySchema);
    assertIdsEverywhere(manifestListSchemaV2());
    const text = JSON.stringify(entrySchema);
    for (const name of ['"r2"', '"r102"', '"k117_v118"', '"k126_v127"', '"k138_v139"']) assert.ok(text.includes(name), name);
    assert.ok(JSON.stringify(manifestListSchemaV2()).includes('"name":"r508"'));
    const partition = ((entrySchema.fields as Record<string, any>[])[4]!.type.fields as Record<string, any>[])[3]!.type;
    const byName = new Map((partition.fields as Record<string, any>[]).map((f) => [f.name, f]));
    assert.deepEqual(byName.get('ts_day')!.type, ['null', { type: 'int', logicalType: 'date' }]);
    assert.deepEqual(byName.get('t')!.type[1], { type: 'long', logicalType: 'time-micros' });
    assert.deepEqual(byName.get('ts')!.type[1], { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': false });
    assert.deepEqual(byName.get('tstz')!.type[1], { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': true });
    assert.deepEqual(byName.get('u')!.type[1], { type: 'fixed', name: 'uuid_fixed', size: 16, logicalType: 'uuid' });
    assert.deepEqual(byName.get('fx')!.type[1], { type: 'fixed', name: 'fixed_3', size: 3 });
    assert.equal(byName.get('bin')!.type[1], 'bytes');
    assert.deepEqual(byName.get('dec')!.type[1], {
      type: 'fixed', name: 'decimal_9_2', size: 4, logicalType: 'decimal', precision: 9, scale: 2,
    });
    // a repeated named type gets a unique name: Avro forbids redefining a name
    assert.equal(byName.get('dec_again')!.type[1].name, 'decimal_9_2_1014');
    assert.equal(byName.get('big_dec')!.type[1].size, 16);
    assert.equal(byName.get('my_x2Dcol')!['iceberg-field-name'], 'my-col');
    assert.equal(byName.get('my_x2Dcol')!['field-id'], 1016);
  });

  it('writes the unpartitioned r102 record with no fields', () => {
    const schema = manifestEntrySchemaV2([]);
    assert.ok(JSON.stringify(schema).includes('{"type":"record","name":"r102","fields":[]}'));
  });
});

describe('writeManifest', () => {
  it('writes exact metadata keys, the exact length and the schema with field ids in the header', () => {
    const { bytes: file, manifest } = writeManifest(baseOptions(addedEntries));
    assert.equal(manifest.manifestLength, BigInt(file.length));
    const container = readAvroContainer(file);
    assert.equal(container.codec, 'deflate');
    assert.equal(container.schemaJson, JSON.stringify(manifestEntrySchemaV2(ALL_TYPES_PARTITION)));
    assert.match(container.schemaJson, /"field-id":1013/);
    assert.deepEqual(
      Object.fromEntries(Object.entries(container.metadata).filter(([k]) => !k.startsWith('avro.'))),
      {
        schema: baseOptions([]).schemaJson,
        'schema-id': '7',
        'partition-spec': baseOptions([]).partitionSpecJson,
        'partition-spec-id': '3',
        'format-version': '2',
        content: 'data',
      },
    );
    const first = container.records[0] as Record<string, any>;
    assert.equal(first.status, 1);
    assert.equal(first.snapshot_id, null);
    assert.equal(first.sequence_number, null, 'ADDED entries inherit their data sequence number');
    assert.equal(first.file_sequence_number, null);
    assert.equal(first.data_file.file_format, 'PARQUET');
    assert.deepEqual(first.data_file.column_sizes, new Map([[1, 100n], [2, 9007199254740995n]]));
    assert.deepEqual(first.data_file.partition.dec, bytes(0xff, 0xff, 0xcf, 0xc7), '-12345 in 4 bytes');
  });

  it('counts files and rows per status and leaves sequence numbers for the list writer', () => {
    const entries: ManifestEntry[] = [
      addedEntries[0]!,
      { status: EntryStatus.Existing, snapshotId: OLD_SNAPSHOT_ID, sequenceNumber: 3n, fileSequenceNumber: 2n, dataFile: dataFile(7, ALL_TYPES_TUPLES[1]!) },
      { status: EntryStatus.Deleted, snapshotId: SNAPSHOT_ID, sequenceNumber: 1n, fileSequenceNumber: 1n, dataFile: dataFile(8, ALL_TYPES_TUPLES[2]!) },
    ];
    const { manifest } = writeManifest(baseOptions(entries));
    assert.equal(manifest.sequenceNumber, UNASSIGNED_SEQUENCE_NUMBER);
    assert.equal(manifest.minSequenceNumber, 3n, 'explicit seq of live entries; DELETED ignored');
    assert.equal(manifest.addedFilesCount, 1);
    assert.equal(manifest.existingFilesCount, 1);
    assert.equal(manifest.deletedFilesCount, 1);
    assert.equal(manifest.addedRowsCount, 9007199254740993n);
    assert.equal(manifest.existingRowsCount, 9007199254741000n);
    assert.equal(manifest.deletedRowsCount, 9007199254741001n);
    assert.equal(manifest.addedSnapshotId, SNAPSHOT_ID);
    assert.equal(manifest.partitionSpecId, 3);

    const onlyAdded = writeManifest(baseOptions(addedEntries)).manifest;
    assert.equal(onlyAdded.minSequenceNumber, UNASSIGNED_SEQUENCE_NUMBER);
    const withSequence = writeManifest(baseOptions(addedEntries, { sequenceNumber: 12n })).manifest;
    assert.equal(withSequence.sequenceNumber, 12n);
    assert.equal(withSequence.minSequenceNumber, 12n);
  });

  it('summarizes every partition field: nulls, NaN, bounds over non-null non-NaN values', () => {
    const { manifest } = writeManifest(baseOptions(addedEntries));
    const summaries = manifest.partitions!;
    assert.equal(summaries.length, ALL_TYPES_PARTITION.length);
    const byName = new Map(ALL_TYPES_PARTITION.map((field, i) => [field.name, summaries[i]!]));
    const hex = (value: Uint8Array | null): string | null => (value === null ? null : Buffer.from(value).toString('hex'));

    assert.deepEqual(byName.get('b'), { containsNull: true, containsNan: false, lowerBound: bytes(0), upperBound: bytes(1) });
    assert.equal(hex(byName.get('i')!.lowerBound), 'f9ffffff');
    assert.equal(hex(byName.get('i')!.upperBound), 'ffffff7f');
    assert.equal(hex(byName.get('l')!.lowerBound), '0000000000000080');
    assert.equal(hex(byName.get('l')!.upperBound), '0100000000002000');
    // -0.0 and +0.0 both present: lower is -0.0, upper +0.0
    assert.equal(hex(byName.get('f')!.lowerBound), '00000080');
    assert.equal(hex(byName.get('f')!.upperBound), '00000000');
    assert.equal(byName.get('f')!.containsNull, true);
    assert.equal(byName.get('f')!.containsNan, false);
    const d = byName.get('d')!;
    assert.equal(d.containsNan, true);
    assert.equal(d.containsNull, false);
    assert.equal(hex(d.lowerBound), hex(encodeSingleValue(primitive('double'), -0.5)), 'NaN never becomes a bound');
    assert.equal(hex(d.upperBound), hex(encodeSingleValue(primitive('double'), 2.5)));
    assert.equal(Buffer.from(byName.get('s')!.lowerBound!).toString(), 'é😀', 'U+00E9 < U+FF5E by code point');
    assert.equal(Buffer.from(byName.get('s')!.upperBound!).toString(), '～');
    assert.equal(hex(byName.get('u')!.lowerBound), hex(uuidB));
    assert.equal(hex(byName.get('bin')!.lowerBound), '');
    assert.equal(hex(byName.get('bin')!.upperBound), '00ff');
    assert.equal(hex(byName.get('fx')!.upperBound), 'ff0000');
    assert.equal(hex(byName.get('dec')!.lowerBound), 'cfc7', '-12345 minimal two\'s complement');
    assert.equal(hex(byName.get('dec')!.upperBound), '0080');
    assert.equal(hex(byName.get('big_dec')!.upperBound), '4b3b4ca85a86c47a098a223fffffffff');

    const allNull = writeManifest(baseOptions([addedEntries[2]!])).manifest.partitions!;
    assert.deepEqual(allNull[0], { containsNull: true, containsNan: false, lowerBound: null, upperBound: null });
    assert.deepEqual(
      writeManifest(baseOptions([{ ...addedEntries[2]!, dataFile: dataFile(2, ALL_TYPES_TUPLES[2]!.map((v, i) => (i === 4 ? Number.NaN : v))) }]))
        .manifest.partitions![4],
      { containsNull: false, containsNan: true, lowerBound: null, upperBound: null },
    );
  });

  it('refuses uuid values whose bounds differ between Java\'s signed and the spec\'s unsigned order; splitForUuidBounds separates them', () => {
    const uuidOnly: ManifestPartitionField[] = [
      { name: 'n', fieldId: 1000, type: primitive('int') },
      { name: 'u', fieldId: 1001, type: primitive('uuid') },
    ];
    const entry = (n: number, uuidHex: string): ManifestEntry => ({
      status: EntryStatus.Added, snapshotId: null, sequenceNumber: null, fileSequenceNumber: null,
      dataFile: { ...dataFile(n, [n, Uint8Array.from(Buffer.from(uuidHex, 'hex'))]), specId: 3 },
    });
    const write = (...uuids: string[]) =>
      writeManifest(baseOptions(uuids.map((u, i) => entry(i, u)), { partitionFields: uuidOnly })).manifest.partitions;
    // 0x7f… < 0x80… unsigned, but 0x80… is a negative long for Java
    assert.throws(() => write('7f000000000000000000000000000000', '80000000000000000000000000000000'), /splitForUuidBounds/);
    // the low half is compared signed too
    assert.throws(() => write('00000000000000000000000000000000', '00000000000000008000000000000000'), /splitForUuidBounds/);
    const agreeing = write('00000000000000000000000000000001', '7f000000000000007f00000000000000');
    assert.equal(Buffer.from(agreeing![1]!.lowerBound!).toString('hex'), '00000000000000000000000000000001');
    assert.equal(Buffer.from(agreeing![1]!.upperBound!).toString('hex'), '7f000000000000007f00000000000000');
    const negativeHalves = write('80000000000000000000000000000000', 'ff00000000000000ff00000000000000');
    assert.equal(Buffer.from(negativeHalves![1]!.lowerBound!).toString('hex'), '80000000000000000000000000000000');

    const split = splitForUuidBounds(uuidOnly, [entry(0, '7f'.padEnd(32, '0')), entry(1, '80'.padEnd(32, '0')), entry(2, '01'.padEnd(32, '0'))]);
    assert.deepEqual(split.map((group) => group.map((e) => e.dataFile.filePath.replace(/.*\//, ''))), [['part-0.parquet', 'part-2.parquet'], ['part-1.parquet']]);
    for (const group of split) {
      const { bytes: file, manifest } = writeManifest(baseOptions(group, { partitionFields: uuidOnly }));
      const [listed] = readManifestList(writeManifestList({ manifests: [manifest], snapshotId: SNAPSHOT_ID, parentSnapshotId: null, sequenceNumber: 1n }));
      assert.equal(listed!.partitions!.length, 2);
      assert.equal(readManifest(file, listed!).entries.length, group.length);
    }
  });

  it('rejects entries readers would misread', () => {
    const existingWithoutSequence: ManifestEntry = { ...addedEntries[0]!, status: EntryStatus.Existing };
    assert.throws(() => writeManifest(baseOptions([existingWithoutSequence])), /explicit sequence numbers/);
    assert.throws(() => writeManifest(baseOptions([])), /would be empty/);
    assert.throws(
      () => writeManifest(baseOptions([{ ...addedEntries[0]!, dataFile: dataFile(0, ALL_TYPES_TUPLES[0]!, { specId: 4 }) }])),
      /spec 4/,
    );
    assert.throws(
      () => writeManifest(baseOptions([{ ...addedEntries[0]!, dataFile: dataFile(0, ALL_TYPES_TUPLES[0]!, { content: FileContent.PositionDeletes }) }])),
      /not allowed in a data manifest/,
    );
    assert.throws(
      () => writeManifest(baseOptions([{ ...addedEntries[0]!, dataFile: dataFile(0, [1]) }])),
      /1 partition values, spec has 17/,
    );
  });
});

describe('manifest list and reading back', () => {
  it('round-trips every partition type, metrics maps and bounds with inheritance', () => {
    const existing: ManifestEntry = {
      status: EntryStatus.Existing, snapshotId: OLD_SNAPSHOT_ID, sequenceNumber: 3n, fileSequenceNumber: 2n,
      dataFile: dataFile(5, ALL_TYPES_TUPLES[1]!, { keyMetadata: bytes(9, 9), referencedDataFile: undefined }),
    };
    const deleted: ManifestEntry = {
      status: EntryStatus.Deleted, snapshotId: SNAPSHOT_ID, sequenceNumber: 1n, fileSequenceNumber: 1n,
      dataFile: dataFile(6, ALL_TYPES_TUPLES[0]!, { columnSizes: undefined, lowerBounds: undefined, upperBounds: undefined, splitOffsets: null }),
    };
    const entries = [...addedEntries, existing, deleted];
    const { bytes: manifestBytes, manifest } = writeManifest(baseOptions(entries, { codec: 'null' }));
    const listBytes = writeManifestList({ manifests: [manifest], snapshotId: SNAPSHOT_ID, parentSnapshotId: OLD_SNAPSHOT_ID, sequenceNumber: 5n });

    const [listed, ...rest] = readManifestList(listBytes);
    assert.equal(rest.length, 0);
    assert.deepEqual(listed, { ...manifest, sequenceNumber: 5n, minSequenceNumber: 3n });

    const { entries: read, metadata } = readManifest(manifestBytes, listed!);
    assert.equal(metadata['partition-spec-id'], '3');
    assert.equal(read.length, entries.length);
    read.forEach((entry, i) => {
      const original = entries[i]!;
      const expectedDataFile: Record<string, unknown> = { ...original.dataFile };
      for (const key of Object.keys(expectedDataFile)) if (expectedDataFile[key] == null) delete expectedDataFile[key];
      assert.deepEqual(
        entry,
        {
          status: original.status,
          snapshotId: original.snapshotId ?? SNAPSHOT_ID,
          sequenceNumber: original.sequenceNumber ?? 5n,
          fileSequenceNumber: original.fileSequenceNumber ?? 5n,
          dataFile: expectedDataFile,
        },
        `entry ${i}`,
      );
    });
    // NaN / -0.0 partition values survive as such
    assert.ok(Object.is(read[0]!.dataFile.partition[3], -0));
    assert.ok(Number.isNaN(read[1]!.dataFile.partition[4]));
  });

  it('fills unassigned sequence numbers per commit attempt and copies carried-over manifests verbatim', () => {
    const { manifest: fresh } = writeManifest(baseOptions(addedEntries));
    const carried = { ...writeManifest(baseOptions([addedEntries[1]!], { path: 's3://bucket/old-m0.avro', addedSnapshotId: OLD_SNAPSHOT_ID, sequenceNumber: 2n })).manifest };
    for (const attemptSequence of [5n, 6n]) {
      const list = writeManifestList({ manifests: [fresh, carried], snapshotId: SNAPSHOT_ID, parentSnapshotId: null, sequenceNumber: attemptSequence });
      const container = readAvroContainer(list);
      assert.deepEqual(
        Object.fromEntries(Object.entries(container.metadata).filter(([k]) => !k.startsWith('avro.'))),
        { 'snapshot-id': '9007199254740993', 'parent-snapshot-id': 'null', 'sequence-number': String(attemptSequence), 'format-version': '2' },
      );
      assert.equal(container.schemaJson, JSON.stringify(manifestListSchemaV2()));
      const [first, second] = readManifestList(list);
      assert.equal(first!.sequenceNumber, attemptSequence);
      assert.equal(first!.minSequenceNumber, attemptSequence);
      assert.equal(first!.addedSnapshotId, SNAPSHOT_ID);
      assert.deepEqual(second, carried);
    }
    assert.equal(fresh.sequenceNumber, UNASSIGNED_SEQUENCE_NUMBER, 'the manifest itself is never mutated');
    assert.equal(assignSequenceNumber(carried, 9n), carried);
    assert.throws(
      () => writeManifestList({ manifests: [{ ...fresh, addedSnapshotId: 1n }], snapshotId: SNAPSHOT_ID, parentSnapshotId: null, sequenceNumber: 5n }),
      /no sequence number but was added by snapshot 1/,
    );
  });

  it('leaves inherited values null while the manifest has no sequence number yet', () => {
    const { bytes: file, manifest } = writeManifest(baseOptions(addedEntries));
    const { entries } = readManifest(file, manifest);
    assert.equal(entries[0]!.sequenceNumber, null);
    assert.equal(entries[0]!.snapshotId, SNAPSHOT_ID);
  });

  it('writes delete manifests with content "deletes"', () => {
    const deleteFile = dataFile(0, ALL_TYPES_TUPLES[0]!, {
      content: FileContent.PositionDeletes, referencedDataFile: 's3://bucket/db/t/data/part-0.parquet', sortOrderId: undefined,
    });
    const { bytes: file, manifest } = writeManifest(baseOptions(
      [{ status: EntryStatus.Added, snapshotId: null, sequenceNumber: null, fileSequenceNumber: null, dataFile: deleteFile }],
      { content: ManifestContent.Deletes },
    ));
    const [listed] = readManifestList(writeManifestList({ manifests: [manifest], snapshotId: SNAPSHOT_ID, parentSnapshotId: 1n, sequenceNumber: 2n }));
    assert.equal(listed!.content, ManifestContent.Deletes);
    const { entries, metadata } = readManifest(file, listed!);
    assert.equal(metadata.content, 'deletes');
    assert.equal(entries[0]!.dataFile.referencedDataFile, 's3://bucket/db/t/data/part-0.parquet');
    assert.equal(entries[0]!.dataFile.content, FileContent.PositionDeletes);
  });
});

describe('reading manifests written by other engines', () => {
  // Shaped like Java output: v1-era block_size_in_bytes (105), v3 fields (142, 144, 145, 520),
  // docs, a repeated decimal type referenced by name, a plain-int day partition, sanitized
  // field names and an equality_ids array of longs (pyiceberg declares them long).
  const javaLikeEntrySchema = {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      { name: 'status', type: 'int', 'field-id': 0 },
      { name: 'snapshot_id', type: ['null', 'long'], default: null, 'field-id': 1 },
      { name: 'sequence_number', type: ['null', 'long'], default: null, 'field-id': 3 },
      { name: 'file_sequence_number', type: ['null', 'long'], default: null, 'field-id': 4 },
      {
        name: 'data_file', 'field-id': 2,
        type: {
          type: 'record', name: 'r2',
          fields: [
            { name: 'content', type: 'int', doc: 'Contents of the file', 'field-id': 134 },
            { name: 'file_path', type: 'string', 'field-id': 100 },
            { name: 'file_format', type: 'string', 'field-id': 101 },
            {
              name: 'partition', 'field-id': 102,
              type: {
                type: 'record', name: 'r102',
                fields: [
                  { name: 'ts_day', type: ['null', 'int'], default: null, 'field-id': 1000 },
                  { name: 'price', type: ['null', { type: 'fixed', name: 'decimal_9_2', size: 4, logicalType: 'decimal', precision: 9, scale: 2 }], default: null, 'field-id': 1001 },
                  { name: 'price2', type: ['null', 'decimal_9_2'], default: null, 'field-id': 1002 },
                  { name: 'a_x2Db', type: ['null', 'string'], default: null, 'field-id': 1003, 'iceberg-field-name': 'a-b' },
                ],
              },
            },
            { name: 'record_count', type: 'long', 'field-id': 103 },
            { name: 'file_size_in_bytes', type: 'long', 'field-id': 104 },
            { name: 'block_size_in_bytes', type: 'long', 'field-id': 105 },
            { name: 'column_sizes', type: ['null', { type: 'array', logicalType: 'map', items: { type: 'record', name: 'k117_v118', fields: [{ name: 'key', type: 'int', 'field-id': 117 }, { name: 'value', type: 'long', 'field-id': 118 }] } }], default: null, 'field-id': 108 },
            { name: 'equality_ids', type: ['null', { type: 'array', items: 'long', 'element-id': 136 }], default: null, 'field-id': 135 },
            { name: 'first_row_id', type: ['null', 'long'], default: null, 'field-id': 142 },
            { name: 'content_offset', type: ['null', 'long'], default: null, 'field-id': 144 },
            { name: 'content_size_in_bytes', type: ['null', 'long'], default: null, 'field-id': 145 },
          ],
        },
      },
    ],
  };

  it('resolves columns by field id and ignores unknown ones', () => {
    const record = (status: number, seq: bigint | null) => ({
      status, snapshot_id: null, sequence_number: seq, file_sequence_number: seq,
      data_file: {
        content: 2, file_path: 's3://b/eq.parquet', file_format: 'PARQUET',
        partition: { ts_day: 19000, price: bytes(0, 0, 0x30, 0x39), price2: null, a_x2Db: 'v' },
        record_count: 3n, file_size_in_bytes: 100n, block_size_in_bytes: 67108864n,
        column_sizes: [{ key: 1, value: 5n }], equality_ids: [1n, 2n],
        first_row_id: null, content_offset: null, content_size_in_bytes: null,
      },
    });
    const file = writeAvroContainer({
      schema: javaLikeEntrySchema,
      metadata: { 'format-version': '2', content: 'deletes' },
      records: [record(1, null), record(0, 4n)],
      codec: 'deflate',
    });
    const listSchema = manifestListSchemaV2() as unknown as { fields: unknown[] };
    const list = writeAvroContainer({
      schema: { ...listSchema, fields: [...listSchema.fields, { name: 'first_row_id', type: ['null', 'long'], default: null, 'field-id': 520 }] },
      records: [{
        manifest_path: 's3://b/m.avro', manifest_length: BigInt(file.length), partition_spec_id: 1, content: 1,
        sequence_number: 8n, min_sequence_number: 4n, added_snapshot_id: OLD_SNAPSHOT_ID,
        added_files_count: 1, existing_files_count: 1, deleted_files_count: 0,
        added_rows_count: 3n, existing_rows_count: 3n, deleted_rows_count: 0n,
        partitions: null, key_metadata: null, first_row_id: null,
      }],
      codec: 'null',
    });
    const [manifest] = readManifestList(list);
    assert.equal(manifest!.sequenceNumber, 8n);
    const { entries } = readManifest(file, manifest!);
    assert.deepEqual(entries[0], {
      status: EntryStatus.Added,
      snapshotId: OLD_SNAPSHOT_ID,
      sequenceNumber: 8n,
      fileSequenceNumber: 8n,
      dataFile: {
        content: FileContent.EqualityDeletes,
        filePath: 's3://b/eq.parquet',
        fileFormat: 'parquet',
        specId: 1,
        partition: [19000, 12345n, null, 'v'],
        recordCount: 3n,
        fileSizeInBytes: 100n,
        columnSizes: new Map([[1, 5n]]),
        equalityIds: [1, 2],
      },
    });
    assert.equal(entries[1]!.sequenceNumber, 4n, 'EXISTING keeps its explicit sequence number');
  });

  it('names the missing column of a broken manifest', () => {
    const broken = writeAvroContainer({
      schema: { type: 'record', name: 'manifest_entry', fields: [{ name: 'status', type: 'int', 'field-id': 0 }] },
      records: [{ status: 1 }],
      codec: 'null',
    });
    const { manifest } = writeManifest(baseOptions(addedEntries));
    assert.throws(() => readManifest(broken, manifest), /data_file \(field-id 2\)/);
  });
});
