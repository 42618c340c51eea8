// Appends records that carry source positions so each position lands exactly once (the loop
// in exactly-once-commit.ts: offsets recorded and validated, stale parts trimmed).
import type { Catalog } from '../table/catalog.ts';
import type { TableIdentifier } from '../table/identifier.ts';
import { appendRecords } from '../transaction/append-records.ts';
import { commitExactlyOnce, type ExactlyOnceOptions, type ExactlyOnceResult, type SourcePosition } from './exactly-once-commit.ts';

export { rangesOf, type ExactlyOnceResult, type SourcePosition } from './exactly-once-commit.ts';

export interface PositionedRecord { readonly value: Record<string, unknown>; readonly position?: SourcePosition }

export async function appendExactlyOnce(
  catalog: Catalog, table: TableIdentifier, records: readonly PositionedRecord[], opts: ExactlyOnceOptions,
): Promise<ExactlyOnceResult> {
  const r = await commitExactlyOnce(catalog, table, records, opts, async (pending, args) => {
    const result = await appendRecords(catalog, table, pending.map((p) => p.value), args);
    return { attempts: result.attempts, value: undefined };
  });
  return { committed: r.committed, trimmed: r.trimmed, attempts: r.attempts };
}
