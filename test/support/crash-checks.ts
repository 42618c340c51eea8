// What every crash test asserts after a crash and after the rerun: the table is consistent
// (test/support/table-consistency.ts, which also checks the summary totals, and floe doctor
// --deep) and holds exactly the expected rows — by value, each
// once — as floe's own reader, pyiceberg and DuckDB see it. Spark is left out to save CPU.
import assert from 'node:assert/strict';
import { formatDoctorReport, runTableDoctor } from '../../compaction/table-doctor.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';
import { identifierToString } from '../../src/table/identifier.ts';
import { readTableRows } from './read-table.ts';
import type { ReaderServer } from './readers.ts';
import { checkTableConsistency } from './table-consistency.ts';
import type { TestWarehouse } from './warehouse.ts';

export interface Row { readonly id: bigint | number; readonly payload: string }

export const rowKey = (r: { id: unknown; payload: unknown }): string => `${String(r.id)}:${String(r.payload)}`;

function sortedKeys(rows: readonly Record<string, unknown>[] | readonly Row[]): string[] {
  return rows.map((r) => rowKey(r as { id: unknown; payload: unknown })).sort();
}

/** Where two sorted multisets differ, in a few words (duplicates show up as extras). */
function difference(actual: readonly string[], expected: readonly string[]): string {
  const count = (xs: readonly string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const a = count(actual);
  const e = count(expected);
  const extra = [...a].filter(([k, n]) => n > (e.get(k) ?? 0)).map(([k, n]) => `${k}×${n - (e.get(k) ?? 0)}`);
  const missing = [...e].filter(([k, n]) => n > (a.get(k) ?? 0)).map(([k, n]) => `${k}×${n - (a.get(k) ?? 0)}`);
  return `${actual.length} rows, expected ${expected.length}; extra ${extra.length} (${extra.slice(0, 5).join(', ')}), missing ${missing.length} (${missing.slice(0, 5).join(', ')})`;
}

export async function assertTableHolds(
  wh: TestWarehouse, id: TableIdentifier, expected: readonly Row[], readers: ReaderServer | undefined, context: string,
): Promise<void> {
  const report = await checkTableConsistency(wh.catalog, id);
  assert.deepEqual(report.problems, [], `${context}: table inconsistent`);
  // floe doctor --deep, as a user would run it: files, sizes, decoding, lineage, refs, footers
  // against manifests; orphan files left by the crash only warn.
  const doctor = await runTableDoctor(wh.catalog, id, { deep: true });
  assert.ok(doctor.healthy, `${context}: floe doctor --deep: ${formatDoctorReport(doctor).join('; ')}`);
  // Rows of live data files less the rows position deletes remove (floe never deletes a position twice).
  const head = (await wh.catalog.loadTable(id)).metadata;
  const headSnap = head.snapshots.find((s) => s.snapshotId === head.refs.main?.snapshotId);
  const positionDeletes = BigInt(headSnap?.summary['total-position-deletes'] ?? '0');
  assert.equal(report.liveRecords - positionDeletes, BigInt(expected.length), `${context}: live record count`);
  const want = sortedKeys(expected);
  const local = sortedKeys(await readTableRows(wh.catalog, id));
  assert.ok(local.join('\n') === want.join('\n'), `${context}: floe's reader: ${difference(local, want)}`);
  if (!readers) return;
  for (const reader of ['pyiceberg', 'duckdb'] as const) {
    const res = await readers.read({ reader, warehouse: wh.dir, catalogDb: wh.catalogDb, table: identifierToString(id) });
    const got = sortedKeys(res.rows);
    assert.ok(got.join('\n') === want.join('\n'), `${context}: ${reader}: ${difference(got, want)}`);
  }
}

export function rowsFor(from: number, count: number, tag = 'p'): Row[] {
  return Array.from({ length: count }, (_, i) => ({ id: from + i, payload: `${tag}${from + i}` }));
}

export function ndjson(rows: readonly Row[]): string {
  return `${rows.map((r) => JSON.stringify({ id: Number(r.id), payload: r.payload })).join('\n')}\n`;
}
