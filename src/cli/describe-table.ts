// Human-readable views of a table for `floe describe` and `floe snapshots`.
import { redactProperties } from '../io/s3-settings.ts';
import { keyColumnNames } from '../transaction/set-table-key.ts';
import { partitionType } from '../spec/partition-spec.ts';
import { ancestorsOf, currentSchema, defaultSpec, type Snapshot, type SnapshotRef, type TableMetadata } from '../spec/table-metadata.ts';
import { typeToString, type NestedField } from '../spec/types.ts';
import { transformToString } from '../spec/transforms.ts';
import type { LoadedTable } from '../table/catalog.ts';
import { identifierToString } from '../table/identifier.ts';

function fieldLines(fields: readonly NestedField[], indent: string): string[] {
  return fields.flatMap((f) => [
    `${indent}${f.id}: ${f.name}: ${f.required ? 'required' : 'optional'} ${typeToString(f.type)}${f.doc ? `  -- ${f.doc}` : ''}`,
  ]);
}

export function describeTable(t: LoadedTable): string {
  const m = t.metadata;
  const schema = currentSchema(m);
  const spec = defaultSpec(m);
  const fields = partitionType(spec, schema);
  const current = m.currentSnapshotId === null ? undefined : m.snapshots.find((s) => s.snapshotId === m.currentSnapshotId);
  const out = [
    `table       ${identifierToString(t.identifier)}`,
    `uuid        ${m.tableUuid}`,
    `location    ${m.location}`,
    `metadata    ${t.metadataLocation}`,
    `format      v${m.formatVersion}`,
    `schema (id ${schema.schemaId}${schema.identifierFieldIds.length ? `, key ${keyColumnNames(schema).join(', ')}` : ''}):`,
    ...fieldLines(schema.fields, '  '),
    `partition spec (id ${spec.specId}): ${fields.length === 0 ? 'unpartitioned' : fields.map((f) => `${f.name}=${transformToString(f.transform)}(${schema.findColumnName(f.sourceId)})`).join(', ')}`,
    `refs:`,
    ...Object.entries(m.refs).map(([name, r]) => `  ${name} (${r.type}) -> ${r.snapshotId}${refRetention(r)}`),
    ...stagedLines(m),
    `current snapshot: ${current ? `${current.snapshotId} (${current.summary['total-records'] ?? '?'} records in ${current.summary['total-data-files'] ?? '?'} files)` : 'none'}`,
    `properties:`,
    ...Object.entries(redactProperties(m.properties)).sort().map(([k, v]) => `  ${k}=${v}`),
  ];
  return out.join('\n');
}

/** Iceberg's per-ref retention, when set. */
function refRetention(r: SnapshotRef): string {
  const parts = [
    ...(r.minSnapshotsToKeep !== undefined ? [`min-snapshots-to-keep=${r.minSnapshotsToKeep}`] : []),
    ...(r.maxSnapshotAgeMs !== undefined ? [`max-snapshot-age-ms=${r.maxSnapshotAgeMs}`] : []),
    ...(r.maxRefAgeMs !== undefined ? [`max-ref-age-ms=${r.maxRefAgeMs}`] : []),
  ];
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** Snapshots staged by wap id that no branch has (yet): what a publish would make visible. */
export function stagedSnapshots(m: TableMetadata): Snapshot[] {
  const onBranch = new Set<bigint>();
  for (const r of Object.values(m.refs)) for (const s of ancestorsOf(m, r.snapshotId)) onBranch.add(s.snapshotId);
  return m.snapshots.filter((s) => s.summary['wap.id'] !== undefined && !onBranch.has(s.snapshotId));
}

function stagedLines(m: TableMetadata): string[] {
  const staged = stagedSnapshots(m);
  if (staged.length === 0) return [];
  return ['staged (write-audit-publish, not on any branch):', ...staged.map((s) => `  ${s.snapshotId} wap.id=${s.summary['wap.id']} (${s.summary.operation}, ${s.summary['added-records'] ?? '0'} records added, parent ${s.parentSnapshotId ?? '-'})`)];
}

/** `wap.id` of a staged snapshot, `published-wap-id` of the one that published it. */
function wapColumn(s: Snapshot): string {
  const staged = s.summary['wap.id'];
  const published = s.summary['published-wap-id'];
  return [staged !== undefined ? staged : '', published !== undefined ? `published:${published}` : ''].filter((x) => x !== '').join(' ');
}

export function snapshotRows(m: TableMetadata): string {
  // The wap-id column only appears on tables that use write-audit-publish by id.
  const withWap = m.snapshots.some((s) => wapColumn(s) !== '');
  const header = ['snapshot-id', 'parent-id', 'seq', 'committed-at', 'operation', 'added-records', 'total-records', 'branches', ...(withWap ? ['wap-id'] : [])];
  const branchesAt = new Map<bigint, string[]>();
  for (const [name, r] of Object.entries(m.refs)) {
    const list = branchesAt.get(r.snapshotId) ?? [];
    list.push(name);
    branchesAt.set(r.snapshotId, list);
  }
  const rows = [...m.snapshots].sort((a, b) => (a.sequenceNumber < b.sequenceNumber ? -1 : 1)).map((s) => [
    String(s.snapshotId), s.parentSnapshotId === null ? '-' : String(s.parentSnapshotId), String(s.sequenceNumber),
    new Date(s.timestampMs).toISOString(), s.summary.operation ?? '?', s.summary['added-records'] ?? '0',
    s.summary['total-records'] ?? '?', (branchesAt.get(s.snapshotId) ?? []).join(','), ...(withWap ? [wapColumn(s)] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(header), ...rows.map(fmt)].join('\n');
}
