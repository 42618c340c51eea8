// Per-file column metrics for manifests (spec "Manifests" field metrics), honouring
// `write.metadata.metrics.default` / `write.metadata.metrics.column.<name>`:
// none | counts | truncate(N) | full. Bounds use the single-value encoding; strings and
// binary are truncated only in the safe direction.
import { ValidationError } from '../errors.ts';
import type { Schema } from '../spec/schema.ts';
import { encodeSingleValue } from '../spec/single-value.ts';
import { truncateLowerBinary, truncateLowerString, truncateUpperBinary, truncateUpperString } from '../spec/bound-truncation.ts';
import { DEFAULT_WRITE_METRICS_MODE, metricsModeColumnProperty, stringProperty } from '../spec/table-properties.ts';
import type { LeafMetrics } from '../writer/record-converter.ts';

export type MetricsMode = { kind: 'none' } | { kind: 'counts' } | { kind: 'full' } | { kind: 'truncate'; length: number };

export function parseMetricsMode(text: string): MetricsMode {
  const t = text.trim().toLowerCase();
  if (t === 'none' || t === 'counts' || t === 'full') return { kind: t };
  const m = /^truncate\((\d+)\)$/.exec(t);
  if (m && Number(m[1]) > 0) return { kind: 'truncate', length: Number(m[1]) };
  throw new ValidationError(`metrics mode '${text}' is not none, counts, truncate(N) or full`);
}

export interface FileMetrics {
  readonly columnSizes: Map<number, bigint>;
  readonly valueCounts: Map<number, bigint>;
  readonly nullValueCounts: Map<number, bigint>;
  readonly nanValueCounts: Map<number, bigint>;
  readonly lowerBounds: Map<number, Uint8Array>;
  readonly upperBounds: Map<number, Uint8Array>;
}

export function metricsModeFor(schema: Schema, fieldId: number, properties: Readonly<Record<string, string>>): MetricsMode {
  const name = schema.findColumnName(fieldId);
  const perColumn = name !== undefined ? stringProperty(properties, metricsModeColumnProperty(name)) : undefined;
  return parseMetricsMode(perColumn ?? stringProperty(properties, DEFAULT_WRITE_METRICS_MODE));
}

export function buildFileMetrics(
  schema: Schema, leaves: ReadonlyMap<number, LeafMetrics>, columnSizes: readonly bigint[],
  properties: Readonly<Record<string, string>>,
): FileMetrics {
  const out: FileMetrics = {
    columnSizes: new Map(), valueCounts: new Map(), nullValueCounts: new Map(),
    nanValueCounts: new Map(), lowerBounds: new Map(), upperBounds: new Map(),
  };
  const leafIds = schema.leafIds();
  if (columnSizes.length === leafIds.length) leafIds.forEach((id, i) => { out.columnSizes.set(id, columnSizes[i]!); });
  for (const [id, m] of leaves) {
    const mode = metricsModeFor(schema, id, properties);
    if (mode.kind === 'none') continue;
    out.valueCounts.set(id, BigInt(m.valueCount));
    out.nullValueCounts.set(id, BigInt(m.nullCount));
    if ((m.type.kind === 'float' || m.type.kind === 'double') && !m.nanCountUnknown) out.nanValueCounts.set(id, BigInt(m.nanCount));
    if (mode.kind === 'counts' || !m.collectBounds || m.min === undefined || m.max === undefined) continue;
    // No uuid bounds: Java (Spark, Trino) orders uuids with java.util.UUID.compareTo (signed
    // halves) while the spec, pyiceberg and DuckDB order bytes unsigned; any bound we wrote
    // would make one side prune files holding matching rows (seen with Spark 3.5/Iceberg 1.10).
    if (m.type.kind === 'uuid') continue;
    let lo = m.min;
    let hi: typeof m.max | undefined = m.max;
    if (mode.kind === 'truncate') {
      if (typeof lo === 'string' && typeof hi === 'string') {
        lo = truncateLowerString(lo, mode.length);
        hi = truncateUpperString(hi, mode.length);
      } else if (m.type.kind === 'binary' && lo instanceof Uint8Array && hi instanceof Uint8Array) {
        lo = truncateLowerBinary(lo, mode.length);
        hi = truncateUpperBinary(hi, mode.length);
      }
    }
    out.lowerBounds.set(id, encodeSingleValue(m.type, lo));
    // An upper bound that cannot be incremented after truncation is dropped (never unsafe).
    if (hi !== undefined) out.upperBounds.set(id, encodeSingleValue(m.type, hi));
  }
  return out;
}
