// Reading and writing a table's manifests with the table's own schema and spec bound in:
// the one place that knows which JSON goes into a manifest's key-value metadata.
import { errorMessage, InvalidMetadataError } from '../errors.ts';
import type { FileIO } from '../io/file-io.ts';
import type { PendingWrites } from '../io/pending-writes.ts';
import { readManifest, readManifestList } from '../format/manifest-reader.ts';
import { splitForUuidBounds, writeManifest } from '../format/manifest-writer.ts';
import { stringifyJsonExact } from '../spec/json.ts';
import { ManifestContent, type ManifestEntry, type ManifestFile } from '../spec/data-file.ts';
import { partitionFieldsToJson, partitionType } from '../spec/partition-spec.ts';
import { schemaToJson } from '../spec/schema.ts';
import { currentSchema, specById, type Snapshot, type TableMetadata } from '../spec/table-metadata.ts';

export async function snapshotManifests(io: FileIO, snapshot: Snapshot | undefined): Promise<ManifestFile[]> {
  if (!snapshot) return [];
  const bytes = await io.read(snapshot.manifestList);
  return namingFile(snapshot.manifestList, 'manifest list', () => readManifestList(bytes));
}

export async function manifestEntries(io: FileIO, manifest: ManifestFile): Promise<ManifestEntry[]> {
  const bytes = await io.read(manifest.manifestPath);
  return namingFile(manifest.manifestPath, 'manifest', () => readManifest(bytes, manifest).entries);
}

/**
 * The bytes of manifests this process wrote lately, by path, for manifest merging only: every
 * `commit.manifest.min-count-to-merge` commits a merge reads back the ~100 small manifests the
 * same writer wrote moments before, and reading them one by one from disk (a file open and read
 * each) was most of that commit's time — the p99 of a steady stream of small appends. Files
 * never change once written (writeNew refuses to replace one), so the bytes are the file's.
 * Other readers (scans, table doctor, expiry) still read the file: a manifest deleted or damaged
 * on disk must be seen as such there. A merge served from here rewrites the entries the parent
 * snapshot names, exactly as reading the intact file would.
 */
const writtenManifests = new Map<string, Uint8Array>();
let writtenManifestBytes = 0;
const MAX_WRITTEN_MANIFEST_BYTES = 32 * 1024 * 1024;

function rememberWritten(path: string, bytes: Uint8Array): void {
  if (bytes.length > MAX_WRITTEN_MANIFEST_BYTES / 4) return;
  writtenManifests.set(path, bytes);
  writtenManifestBytes += bytes.length;
  while (writtenManifestBytes > MAX_WRITTEN_MANIFEST_BYTES) {
    const [oldest, b] = writtenManifests.entries().next().value!;
    writtenManifests.delete(oldest);
    writtenManifestBytes -= b.length;
  }
}

/** A manifest's entries for a merge that rewrites it: from the bytes this process wrote when it
 * still has them, else read from storage. */
export async function manifestEntriesToRewrite(io: FileIO, manifest: ManifestFile, writes?: PendingWrites): Promise<ManifestEntry[]> {
  const bytes = writes?.bytesOf(manifest.manifestPath) ?? writtenManifests.get(manifest.manifestPath) ?? await io.read(manifest.manifestPath);
  return namingFile(manifest.manifestPath, 'manifest', () => readManifest(bytes, manifest).entries);
}

/** Decoders see bytes only; a user with a corrupt table needs the file's full path
 * ("unexpected end of Avro data at byte 19" alone says nothing about which of thousands). */
function namingFile<T>(file: string, what: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof InvalidMetadataError) throw err;
    throw new InvalidMetadataError(file, `cannot read ${what}: ${errorMessage(err)}`, { cause: err });
  }
}

export interface WrittenManifests {
  /** One manifest, or several when uuid partition values need splitting (splitForUuidBounds). */
  readonly manifests: ManifestFile[];
  /** Every path written, for cleanup when the commit fails. */
  readonly paths: string[];
}

/**
 * Writes a data manifest for `specId` with the table's current schema, and stores it at `path`.
 * Entries whose uuid partition values would need bounds Java and pyiceberg order differently
 * go to further manifests next to it (`-u1.avro`, ...), so every manifest carries exact summaries.
 */
export async function writeTableManifest(opts: {
  io: FileIO; metadata: TableMetadata; path: string; specId: number; entries: readonly ManifestEntry[];
  addedSnapshotId: bigint; content?: ManifestContent;
  /** Start the writes here instead of awaiting each one (the commit awaits them all). */
  writes?: PendingWrites;
}): Promise<WrittenManifests> {
  const schema = currentSchema(opts.metadata);
  const spec = specById(opts.metadata, opts.specId);
  const partitionFields = partitionType(spec, schema).map((f) => ({ name: f.name, fieldId: f.fieldId, type: f.type }));
  const result: WrittenManifests = { manifests: [], paths: [] };
  const groups = splitForUuidBounds(partitionFields, opts.entries);
  for (let i = 0; i < groups.length; i++) {
    const path = i === 0 ? opts.path : opts.path.replace(/(\.avro)?$/, `-u${i}$1`);
    const written = writeManifest({
      path,
      entries: groups[i]!,
      content: opts.content ?? ManifestContent.Data,
      specId: spec.specId,
      partitionFields,
      schemaJson: stringifyJsonExact(schemaToJson(schema)),
      schemaId: schema.schemaId,
      partitionSpecJson: stringifyJsonExact(partitionFieldsToJson(spec)),
      addedSnapshotId: opts.addedSnapshotId,
    });
    result.paths.push(path);
    if (opts.writes) opts.writes.write(path, written.bytes);
    else await opts.io.writeNew(path, written.bytes);
    rememberWritten(path, written.bytes);
    result.manifests.push(written.manifest);
  }
  return result;
}
