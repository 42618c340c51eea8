// Reading live rows of a data file for a row-level change: streams the requested columns of
// the file and hands each row that no existing delete removes (position deletes, and equality
// deletes written by other engines such as Flink) to a visitor, with its position. Positions of
// rows the existing deletes remove are collected too: copy-on-write must drop them when it
// rewrites the file (a rewritten row gets a newer sequence number, so an older equality delete
// would no longer apply to it).
import { scanColumns } from '../reader/data-file-reader.ts';
import { equalityKey } from '../reader/delete-index.ts';
import type { PrimitiveValue } from '../spec/types.ts';
import type { LiveDataFile, RowLevelBase } from './row-level-base.ts';

export type ColumnReader = (fieldId: number) => (row: number) => PrimitiveValue | null;

export interface LiveRowScan {
  /** Positions removed by existing deletes. */
  readonly alreadyDeleted: Set<number>;
}

export async function scanLiveRows(
  base: RowLevelBase, live: LiveDataFile, fieldIds: readonly number[],
  visit: (position: number, column: ColumnReader, row: number) => void,
): Promise<LiveRowScan> {
  const alreadyDeleted = new Set<number>(await base.deletes.deletedPositions(live.file, live.sequenceNumber, base.specOf) ?? []);
  const equality = await base.deletes.equalityDeletes(live.file, live.sequenceNumber, base.specOf);
  const columns = [...new Set([...fieldIds, ...equality.flatMap((e) => e.fieldIds)])];
  await scanColumns(base.io, live.file, columns, (first, numRows, column) => {
    const eqReaders = equality.map((e) => ({ keys: e.keys, readers: e.fieldIds.map((id) => column(id)) }));
    for (let i = 0; i < numRows; i++) {
      const pos = first + i;
      if (alreadyDeleted.has(pos)) continue;
      if (eqReaders.some((e) => e.keys.has(equalityKey(e.readers.map((r) => r(i)))))) { alreadyDeleted.add(pos); continue; }
      visit(pos, column, i);
    }
  });
  return { alreadyDeleted };
}
