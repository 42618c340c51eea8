// Reading and writing a table's manifests with the table's own schema and spec bound in:
// the one place that knows which JSON goes into a manifest's key-value metadata.
import { errorMessage, InvalidMetadataError } from '../errors.ts';
import type { FileIO } from '../io/file-io.ts';
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
    await opts.io.writeNew(path, written.bytes);
    result.manifests.push(written.manifest);
  }
  return result;
}
