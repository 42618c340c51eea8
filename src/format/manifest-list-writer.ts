// Writes a v2 manifest list for one commit attempt: the manifests of a snapshot, with this
// attempt's sequence number filled into manifests that were written without one.
import { ValidationError } from '../errors.ts';
import { UNASSIGNED_SEQUENCE_NUMBER } from '../spec/data-file.ts';
import type { FieldSummary, ManifestFile } from '../spec/data-file.ts';
import { writeAvroContainer } from './avro/avro-container.ts';
import type { AvroContainerCodec } from './avro/avro-container.ts';
import { manifestListSchemaV2 } from './manifest-schemas.ts';

export interface WriteManifestListOptions {
  /** New manifests (sequence numbers unassigned) plus the parent's live manifests verbatim. */
  readonly manifests: readonly ManifestFile[];
  readonly snapshotId: bigint;
  readonly parentSnapshotId: bigint | null;
  /** This attempt's sequence number: base `last-sequence-number` + 1. */
  readonly sequenceNumber: bigint;
  /** Defaults to deflate, like Java. */
  readonly codec?: AvroContainerCodec;
}

/**
 * Gives a manifest written without a sequence number the commit's one. Manifests keep
 * UNASSIGNED until the list is written, so a retry on a newer base only rewrites the list.
 */
export function assignSequenceNumber(manifest: ManifestFile, sequenceNumber: bigint): ManifestFile {
  const needsSequence = manifest.sequenceNumber === UNASSIGNED_SEQUENCE_NUMBER;
  const needsMin = manifest.minSequenceNumber === UNASSIGNED_SEQUENCE_NUMBER;
  if (!needsSequence && !needsMin) return manifest;
  return {
    ...manifest,
    sequenceNumber: needsSequence ? sequenceNumber : manifest.sequenceNumber,
    minSequenceNumber: needsMin ? sequenceNumber : manifest.minSequenceNumber,
  };
}

export function writeManifestList(options: WriteManifestListOptions): Uint8Array {
  const { snapshotId, sequenceNumber } = options;
  if (sequenceNumber <= 0n) throw new ValidationError(`v2 snapshot sequence number must be positive, got ${sequenceNumber}`);
  const records = options.manifests.map((manifest) => {
    // Java's ManifestListWriter enforces the same: only a manifest added by this very
    // snapshot may take its sequence number; Java's conflict checks look for new files only
    // in manifests whose added_snapshot_id is the committing snapshot.
    if (manifest.sequenceNumber === UNASSIGNED_SEQUENCE_NUMBER && manifest.addedSnapshotId !== snapshotId) {
      throw new ValidationError(
        `manifest ${manifest.manifestPath} has no sequence number but was added by snapshot ` +
          `${manifest.addedSnapshotId}, not ${snapshotId}`,
      );
    }
    return manifestFileRecord(assignSequenceNumber(manifest, sequenceNumber));
  });
  return writeAvroContainer({
    schema: manifestListSchemaV2(),
    metadata: {
      'snapshot-id': String(snapshotId),
      'parent-snapshot-id': options.parentSnapshotId === null ? 'null' : String(options.parentSnapshotId),
      'sequence-number': String(sequenceNumber),
      'format-version': '2',
    },
    records,
    codec: options.codec ?? 'deflate',
  });
}

function fieldSummaryRecord(summary: FieldSummary): Record<string, unknown> {
  return {
    contains_null: summary.containsNull,
    contains_nan: summary.containsNan,
    lower_bound: summary.lowerBound,
    upper_bound: summary.upperBound,
  };
}

function manifestFileRecord(manifest: ManifestFile): Record<string, unknown> {
  return {
    manifest_path: manifest.manifestPath,
    manifest_length: manifest.manifestLength,
    partition_spec_id: manifest.partitionSpecId,
    content: manifest.content,
    sequence_number: manifest.sequenceNumber,
    min_sequence_number: manifest.minSequenceNumber,
    added_snapshot_id: manifest.addedSnapshotId,
    added_files_count: manifest.addedFilesCount,
    existing_files_count: manifest.existingFilesCount,
    deleted_files_count: manifest.deletedFilesCount,
    added_rows_count: manifest.addedRowsCount,
    existing_rows_count: manifest.existingRowsCount,
    deleted_rows_count: manifest.deletedRowsCount,
    partitions: manifest.partitions === null ? null : manifest.partitions.map(fieldSummaryRecord),
    key_metadata: manifest.keyMetadata,
  };
}
