// The content of manifests and manifest lists as plain data (spec "Manifests", "Manifest
// Lists"). Avro encoding lives in src/format; this file only says what the fields are.
import type { PrimitiveValue } from './types.ts';

export const FileContent = { Data: 0, PositionDeletes: 1, EqualityDeletes: 2 } as const;
export type FileContent = (typeof FileContent)[keyof typeof FileContent];
export const EntryStatus = { Existing: 0, Added: 1, Deleted: 2 } as const;
export type EntryStatus = (typeof EntryStatus)[keyof typeof EntryStatus];
export const ManifestContent = { Data: 0, Deletes: 1 } as const;
export type ManifestContent = (typeof ManifestContent)[keyof typeof ManifestContent];

export type FileFormat = 'parquet' | 'avro' | 'orc' | 'puffin';

/** One partition tuple: one value (or null) per partition field, in spec order. */
export type PartitionTuple = readonly (PrimitiveValue | null)[];

export interface DataFile {
  readonly content: FileContent;
  readonly filePath: string;
  readonly fileFormat: FileFormat;
  /** Id of the partition spec the file was written with. */
  readonly specId: number;
  readonly partition: PartitionTuple;
  readonly recordCount: bigint;
  /** Exact byte length of the file: Java and Trino seek to the footer with it. */
  readonly fileSizeInBytes: bigint;
  readonly columnSizes?: ReadonlyMap<number, bigint>;
  readonly valueCounts?: ReadonlyMap<number, bigint>;
  readonly nullValueCounts?: ReadonlyMap<number, bigint>;
  readonly nanValueCounts?: ReadonlyMap<number, bigint>;
  readonly lowerBounds?: ReadonlyMap<number, Uint8Array>;
  readonly upperBounds?: ReadonlyMap<number, Uint8Array>;
  readonly keyMetadata?: Uint8Array | null;
  readonly splitOffsets?: readonly bigint[] | null;
  readonly equalityIds?: readonly number[] | null;
  readonly sortOrderId?: number | null;
  readonly referencedDataFile?: string | null;
}

export interface ManifestEntry {
  readonly status: EntryStatus;
  /** null ⇒ inherited from the manifest list's added_snapshot_id. */
  readonly snapshotId: bigint | null;
  /** Data sequence number; null only for ADDED entries (inherited). */
  readonly sequenceNumber: bigint | null;
  /** File sequence number; null only for ADDED entries (inherited). */
  readonly fileSequenceNumber: bigint | null;
  readonly dataFile: DataFile;
}

export interface FieldSummary {
  readonly containsNull: boolean;
  readonly containsNan: boolean | null;
  readonly lowerBound: Uint8Array | null;
  readonly upperBound: Uint8Array | null;
}

export interface ManifestFile {
  readonly manifestPath: string;
  /** Exact byte length of the manifest file. */
  readonly manifestLength: bigint;
  readonly partitionSpecId: number;
  readonly content: ManifestContent;
  readonly sequenceNumber: bigint;
  readonly minSequenceNumber: bigint;
  readonly addedSnapshotId: bigint;
  readonly addedFilesCount: number;
  readonly existingFilesCount: number;
  readonly deletedFilesCount: number;
  readonly addedRowsCount: bigint;
  readonly existingRowsCount: bigint;
  readonly deletedRowsCount: bigint;
  readonly partitions: readonly FieldSummary[] | null;
  readonly keyMetadata: Uint8Array | null;
}

/** Marker for "not yet assigned": a new manifest's sequence numbers are set when the
 * manifest list is written for a specific commit attempt. */
export const UNASSIGNED_SEQUENCE_NUMBER = -1n;
