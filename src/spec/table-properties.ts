// Every table property floe reads or writes, under Iceberg's own name and with Iceberg's default
// (Java `org.apache.iceberg.TableProperties`, pyiceberg `TableProperties`), plus floe's own
// `floe.*` keys. Where floe's default differs from Iceberg's, the constant says why. Lives in
// spec/ because spec/, format/ and writer/ read properties too (deps point one way).

import { ValidationError } from '../errors.ts';

type Properties = Readonly<Record<string, string>>;
/** Table metadata (anything with `properties`) or a bare property map. */
export type PropertySource = Properties | { readonly properties: Properties };

/** A table property: its name, its default, and (delete-file variants) the property it falls back to. */
export interface TableProperty<T> {
  readonly name: string;
  readonly default: T;
  /** Read when this property is unset, before the default (`write.delete.parquet.*` → `write.parquet.*`). */
  readonly fallback?: TableProperty<T>;
}

const prop = <T>(name: string, dflt: T, fallback?: TableProperty<T>): TableProperty<T> =>
  Object.freeze(fallback === undefined ? { name, default: dflt } : { name, default: dflt, fallback });

const MiB = 1024 * 1024;

// ---------- reserved (never persisted in `properties`) ----------

/** Reserved: picks the format version at create time. floe writes v2 only. */
export const FORMAT_VERSION = prop('format-version', 2);

/** Java's reserved keys: they steer create/update and are never stored in `properties`. */
export const RESERVED_PROPERTIES: ReadonlySet<string> = new Set([
  FORMAT_VERSION.name, 'uuid', 'snapshot-count', 'current-snapshot-id', 'current-snapshot-summary',
  'current-snapshot-timestamp-ms', 'current-schema', 'default-partition-spec', 'default-sort-order',
]);

// ---------- commit ----------

export const COMMIT_NUM_RETRIES = prop('commit.retry.num-retries', 4);
export const COMMIT_MIN_RETRY_WAIT_MS = prop('commit.retry.min-wait-ms', 100);
export const COMMIT_MAX_RETRY_WAIT_MS = prop('commit.retry.max-wait-ms', 60_000);
export const COMMIT_TOTAL_RETRY_TIME_MS = prop('commit.retry.total-timeout-ms', 30 * 60_000);

/** Java's default (true); pyiceberg's is false — floe follows Java, as Spark and Flink writers do. */
export const MANIFEST_MERGE_ENABLED = prop('commit.manifest-merge.enabled', true);
export const MANIFEST_MIN_MERGE_COUNT = prop('commit.manifest.min-count-to-merge', 100);
export const MANIFEST_TARGET_SIZE_BYTES = prop('commit.manifest.target-size-bytes', 8 * MiB);

// ---------- write: data and delete files ----------

export const WRITE_TARGET_FILE_SIZE_BYTES = prop('write.target-file-size-bytes', 512 * MiB);
export const PARQUET_ROW_GROUP_SIZE_BYTES = prop('write.parquet.row-group-size-bytes', 128 * MiB);
export const DELETE_PARQUET_ROW_GROUP_SIZE_BYTES = prop('write.delete.parquet.row-group-size-bytes', 128 * MiB, PARQUET_ROW_GROUP_SIZE_BYTES);
/** zstd: Java's `PARQUET_COMPRESSION_DEFAULT_SINCE_1_4_0` (new tables) and pyiceberg's default. */
export const PARQUET_COMPRESSION = prop('write.parquet.compression-codec', 'zstd');
export const DELETE_PARQUET_COMPRESSION = prop('write.delete.parquet.compression-codec', 'zstd', PARQUET_COMPRESSION);

/** Metrics mode of every column without its own `write.metadata.metrics.column.<name>`. */
export const DEFAULT_WRITE_METRICS_MODE = prop('write.metadata.metrics.default', 'truncate(16)');
export const METRICS_MODE_COLUMN_CONF_PREFIX = 'write.metadata.metrics.column.';
/** The per-column metrics mode property of column `name` (its full dotted name). */
export function metricsModeColumnProperty(name: string): TableProperty<string | undefined> {
  return prop(`${METRICS_MODE_COLUMN_CONF_PREFIX}${name}`, undefined);
}

export const METADATA_PREVIOUS_VERSIONS_MAX = prop('write.metadata.previous-versions-max', 100);

/** Write-audit-publish: snapshots with a `wap.id` are staged, not made current. */
export const WRITE_AUDIT_PUBLISH_ENABLED = prop('write.wap.enabled', false);
/** Flink's upsert mode: equality deletes by the identifier fields, no read of the table. */
export const UPSERT_ENABLED = prop('write.upsert.enabled', false);

/** floe defaults to merge-on-read where Iceberg defaults to copy-on-write: floe's row-level
 * commands run per streaming micro-batch, and copy-on-write would rewrite whole files each time. */
export const MERGE_MODE = prop<string>('write.merge.mode', 'merge-on-read');
export const UPDATE_MODE = prop<string>('write.update.mode', 'merge-on-read');
export const DELETE_MODE = prop<string>('write.delete.mode', 'merge-on-read');

// ---------- snapshot expiry ----------

export const MAX_SNAPSHOT_AGE_MS = prop('history.expire.max-snapshot-age-ms', 5 * 24 * 3600 * 1000);
export const MIN_SNAPSHOTS_TO_KEEP = prop('history.expire.min-snapshots-to-keep', 1);
/** Java: Long.MAX_VALUE ("refs never expire"); the largest exact JS number means the same here. */
export const MAX_REF_AGE_MS = prop('history.expire.max-ref-age-ms', Number.MAX_SAFE_INTEGER);

// ---------- floe's own ----------

/** `floe.wap.audit.<branch>`: the branch's last audit result (src/wap/branch-status.ts). */
export const WAP_AUDIT_PROPERTY_PREFIX = 'floe.wap.audit.';

// ---------- typed readers ----------

function rawValue(source: PropertySource, p: TableProperty<unknown>): string | undefined {
  const props: Properties = 'properties' in source && typeof source.properties === 'object' ? source.properties as Properties : source as Properties;
  for (let q: TableProperty<unknown> | undefined = p; q !== undefined; q = q.fallback) {
    const v = props[q.name];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** A numeric property (Java reads ints and longs alike); `dflt` overrides the property's default. */
export function intProperty(source: PropertySource, p: TableProperty<number>, dflt: number = p.default): number {
  const v = rawValue(source, p);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ValidationError(`table property ${p.name}=${v} is not a number`);
  return n;
}

/** A boolean property: true only for `true` in any case, as Java's `Boolean.parseBoolean`. */
export function boolProperty(source: PropertySource, p: TableProperty<boolean>): boolean {
  const v = rawValue(source, p);
  return v === undefined ? p.default : v.toLowerCase() === 'true';
}

export function stringProperty<T extends string | undefined>(source: PropertySource, p: TableProperty<T>): string | T {
  return rawValue(source, p) ?? p.default;
}
