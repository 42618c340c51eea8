// The REST catalog spec's JSON for floe's table updates and requirements (rest-catalog-open-api
// TableUpdate / TableRequirement), and the file: URI spelling the Java server hands back.
import { partitionSpecToJson } from '../../src/spec/partition-spec.ts';
import { schemaToJson } from '../../src/spec/schema.ts';
import { sortOrderToJson } from '../../src/spec/sort-order.ts';
import { snapshotToJson, type TableMetadata } from '../../src/spec/table-metadata.ts';
import type { TableRequirement, TableUpdate } from '../../src/spec/table-updates.ts';

export function updateToJson(u: TableUpdate): Record<string, unknown> {
  switch (u.action) {
    case 'add-schema': return { action: u.action, schema: schemaToJson(u.schema), 'last-column-id': u.lastColumnId };
    case 'set-current-schema': return { action: u.action, 'schema-id': u.schemaId };
    case 'add-spec': return { action: u.action, spec: partitionSpecToJson(u.spec) };
    case 'set-default-spec': return { action: u.action, 'spec-id': u.specId };
    case 'add-sort-order': return { action: u.action, 'sort-order': sortOrderToJson(u.sortOrder) };
    case 'set-default-sort-order': return { action: u.action, 'sort-order-id': u.sortOrderId };
    case 'add-snapshot': return { action: u.action, snapshot: snapshotToJson(u.snapshot) };
    case 'set-snapshot-ref': return {
      action: u.action, 'ref-name': u.refName, type: u.type, 'snapshot-id': u.snapshotId,
      ...(u.minSnapshotsToKeep !== undefined ? { 'min-snapshots-to-keep': u.minSnapshotsToKeep } : {}),
      ...(u.maxSnapshotAgeMs !== undefined ? { 'max-snapshot-age-ms': u.maxSnapshotAgeMs } : {}),
      ...(u.maxRefAgeMs !== undefined ? { 'max-ref-age-ms': u.maxRefAgeMs } : {}),
    };
    case 'remove-snapshots': return { action: u.action, 'snapshot-ids': [...u.snapshotIds] };
    case 'remove-snapshot-ref': return { action: u.action, 'ref-name': u.refName };
    case 'set-location': return { action: u.action, location: u.location };
    case 'set-properties': return { action: u.action, updates: u.updates };
    case 'remove-properties': return { action: u.action, removals: [...u.removals] };
  }
}

export function requirementToJson(r: TableRequirement): Record<string, unknown> {
  switch (r.type) {
    case 'assert-create': return { type: r.type };
    case 'assert-table-uuid': return { type: r.type, uuid: r.uuid };
    case 'assert-ref-snapshot-id': return { type: r.type, ref: r.ref, 'snapshot-id': r.snapshotId };
    case 'assert-last-assigned-field-id': return { type: r.type, 'last-assigned-field-id': r.lastAssignedFieldId };
    case 'assert-current-schema-id': return { type: r.type, 'current-schema-id': r.currentSchemaId };
    case 'assert-last-assigned-partition-id': return { type: r.type, 'last-assigned-partition-id': r.lastAssignedPartitionId };
    case 'assert-default-spec-id': return { type: r.type, 'default-spec-id': r.defaultSpecId };
    case 'assert-default-sort-order-id': return { type: r.type, 'default-sort-order-id': r.defaultSortOrderId };
  }
}

/** Java's Hadoop paths print `file:/abs`; floe's FileIO lists `file:///abs`. One spelling
 * per table keeps `metadataLocation` inside `location/metadata/` and comparable to listings. */
export function normalizeFileUri(uri: string): string {
  return /^file:\/(?!\/)/.test(uri) ? `file:///${uri.slice('file:/'.length)}` : uri;
}

export function normalizeMetadataUris(m: TableMetadata): TableMetadata {
  return {
    ...m,
    location: normalizeFileUri(m.location),
    metadataLog: m.metadataLog.map((e) => ({ ...e, metadataFile: normalizeFileUri(e.metadataFile) })),
  };
}
