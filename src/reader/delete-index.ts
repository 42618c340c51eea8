// The delete files that apply to a data file, by the spec's scan-planning rules ("Scan
// Planning"), and what they delete: row positions (position deletes) and key sets (equality
// deletes). Each delete file is read at most once; its content is kept indexed by data path.
import { InvalidMetadataError } from '../errors.ts';
import type { FileIO } from '../io/file-io.ts';
import { FileContent, type DataFile } from '../spec/data-file.ts';
import { partitionKey, type PartitionSpec } from '../spec/partition-spec.ts';
import { DELETE_FILE_PATH_FIELD_ID, DELETE_POS_FIELD_ID } from '../spec/position-delete-schema.ts';
import { compareCodePoints, decodeSingleValue } from '../spec/single-value.ts';
import type { PrimitiveValue } from '../spec/types.ts';
import { scanColumns } from './data-file-reader.ts';

export interface DeleteEntry {
  readonly file: DataFile;
  /** The delete file's data sequence number. */
  readonly sequenceNumber: bigint;
}

export type SpecOf = (specId: number) => PartitionSpec;

/** The rows one group of equality-delete files removes: key encodings of `fieldIds` values. */
export interface EqualityDeletes {
  readonly fieldIds: readonly number[];
  readonly keys: ReadonlySet<string>;
}

/**
 * Canonical text of a tuple of values, equal exactly when the values are equal as Iceberg
 * compares them for equality deletes: null matches null, -0.0 and 0.0 differ, NaN matches NaN,
 * numbers and bigints of the same value agree (an int column promoted to long), bytes compare
 * by content.
 */
export function equalityKey(values: readonly (PrimitiveValue | null)[]): string {
  return values.map((v) => {
    if (v === null) return 'n';
    switch (typeof v) {
      case 'boolean': return v ? 't' : 'f';
      case 'number': return Object.is(v, -0) ? 'i-0' : Number.isInteger(v) ? `i${BigInt(v)}` : `i${v}`;
      case 'bigint': return `i${v}`;
      case 'string': return `s${JSON.stringify(v)}`;
      default: return `b${Buffer.from(v).toString('hex')}`;
    }
  }).join(',');
}

const isUnpartitioned = (spec: PartitionSpec): boolean => spec.fields.every((f) => f.transform.kind === 'void');
const scopeKey = (f: DataFile): string => `${f.specId}\u0000${partitionKey(f.partition)}`;

/** A delete file's file_path bound, if it has one (a position-delete file's metrics). */
function pathBound(bounds: ReadonlyMap<number, Uint8Array> | undefined): string | undefined {
  const b = bounds?.get(DELETE_FILE_PATH_FIELD_ID);
  return b === undefined ? undefined : decodeSingleValue({ kind: 'string' }, b) as string;
}

export class DeleteIndex {
  /** Deletes by spec id + partition, and by spec id (for specs that turn out unpartitioned). */
  private readonly byScope = new Map<string, DeleteEntry[]>();
  private readonly bySpec = new Map<number, DeleteEntry[]>();
  private readonly positionsRead = new Map<string, Promise<Map<string, number[]>>>();
  private readonly keysRead = new Map<string, Promise<Set<string>>>();

  constructor(private readonly io: FileIO, entries: readonly DeleteEntry[]) {
    const add = <K>(m: Map<K, DeleteEntry[]>, k: K, e: DeleteEntry): void => {
      const list = m.get(k);
      if (list) list.push(e); else m.set(k, [e]);
    };
    for (const e of entries) {
      const f = e.file;
      if (f.content === FileContent.Data) continue;
      add(this.byScope, scopeKey(f), e);
      add(this.bySpec, f.specId, e);
    }
  }

  /** Position-delete files that may delete rows of `dataFile` (without reading them). */
  positionDeleteFiles(dataFile: DataFile, dataSequenceNumber: bigint, specOf: SpecOf): DataFile[] {
    const path = dataFile.filePath;
    return this.inScope(FileContent.PositionDeletes, dataFile, specOf)
      .filter((d) => d.sequenceNumber >= dataSequenceNumber)
      .map((d) => d.file)
      .filter((d) => {
        if (d.referencedDataFile != null) return d.referencedDataFile === path;
        // Bounds (even truncated ones) enclose every file_path of the delete file.
        const lower = pathBound(d.lowerBounds);
        const upper = pathBound(d.upperBounds);
        return (lower === undefined || compareCodePoints(lower, path) <= 0) && (upper === undefined || compareCodePoints(path, upper) <= 0);
      });
  }

  /** Equality-delete files that apply to `dataFile` (strictly newer, same partition or global). */
  equalityDeleteFiles(dataFile: DataFile, dataSequenceNumber: bigint, specOf: SpecOf): DataFile[] {
    return this.inScope(FileContent.EqualityDeletes, dataFile, specOf)
      .filter((d) => d.sequenceNumber > dataSequenceNumber)
      .map((d) => d.file);
  }

  /** Row positions of `dataFile` deleted by position deletes; undefined when none apply. */
  async deletedPositions(dataFile: DataFile, dataSequenceNumber: bigint, specOf: SpecOf): Promise<Set<number> | undefined> {
    let out: Set<number> | undefined;
    for (const d of this.positionDeleteFiles(dataFile, dataSequenceNumber, specOf)) {
      const positions = (await this.readPositions(d)).get(dataFile.filePath);
      if (!positions) continue;
      out ??= new Set();
      for (const p of positions) out.add(p);
    }
    return out;
  }

  /** Key sets of the equality deletes that apply to `dataFile`, one per list of equality ids. */
  async equalityDeletes(dataFile: DataFile, dataSequenceNumber: bigint, specOf: SpecOf): Promise<EqualityDeletes[]> {
    const groups = new Map<string, { fieldIds: readonly number[]; keys: Set<string> }>();
    for (const d of this.equalityDeleteFiles(dataFile, dataSequenceNumber, specOf)) {
      const fieldIds = d.equalityIds ?? [];
      const id = fieldIds.join(',');
      let g = groups.get(id);
      if (!g) { g = { fieldIds, keys: new Set() }; groups.set(id, g); }
      for (const k of await this.readKeys(d)) g.keys.add(k);
    }
    return [...groups.values()];
  }

  /** Deletes of `content` in the data file's partition, plus those of unpartitioned specs
   * (which apply to every partition). */
  private inScope(content: FileContent, dataFile: DataFile, specOf: SpecOf): DeleteEntry[] {
    const out: DeleteEntry[] = [];
    const dataSpecUnpartitioned = isUnpartitioned(specOf(dataFile.specId));
    for (const e of dataSpecUnpartitioned ? [] : this.byScope.get(scopeKey(dataFile)) ?? []) if (e.file.content === content) out.push(e);
    for (const [specId, entries] of this.bySpec) {
      if (!isUnpartitioned(specOf(specId))) continue;
      for (const e of entries) if (e.file.content === content) out.push(e);
    }
    return out;
  }

  /** The whole content of a position-delete file, by data path (read once, shared). */
  private readPositions(d: DataFile): Promise<Map<string, number[]>> {
    let p = this.positionsRead.get(d.filePath);
    if (!p) {
      p = readPositionDeleteFile(this.io, d);
      this.positionsRead.set(d.filePath, p);
    }
    return p;
  }

  private readKeys(d: DataFile): Promise<Set<string>> {
    let p = this.keysRead.get(d.filePath);
    if (!p) {
      p = readEqualityDeleteFile(this.io, d);
      this.keysRead.set(d.filePath, p);
    }
    return p;
  }
}

/** Indexes live delete-manifest entries; delete files are read lazily, when a data file asks. */
export async function buildDeleteIndex(io: FileIO, deleteEntries: readonly DeleteEntry[]): Promise<DeleteIndex> {
  return new DeleteIndex(io, deleteEntries);
}

/** The (file_path, pos) rows of a position-delete file, grouped by path. */
export async function readPositionDeleteFile(io: FileIO, d: DataFile): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  await scanColumns(io, d, [DELETE_FILE_PATH_FIELD_ID, DELETE_POS_FIELD_ID], (first, n, column) => {
    const paths = column(DELETE_FILE_PATH_FIELD_ID);
    const positions = column(DELETE_POS_FIELD_ID);
    let lastPath: string | undefined;
    let list: number[] | undefined;
    for (let i = 0; i < n; i++) {
      const path = paths(i);
      const pos = positions(i);
      if (typeof path !== 'string' || typeof pos !== 'bigint') {
        throw new InvalidMetadataError(d.filePath, `position-delete row ${first + i} has no file_path/pos (field ids ${DELETE_FILE_PATH_FIELD_ID}/${DELETE_POS_FIELD_ID})`);
      }
      if (path !== lastPath) {
        lastPath = path;
        list = out.get(path);
        if (!list) { list = []; out.set(path, list); }
      }
      list!.push(Number(pos));
    }
  });
  return out;
}

/** The key encodings of an equality-delete file's rows (its equality_ids columns, in order). */
export async function readEqualityDeleteFile(io: FileIO, d: DataFile): Promise<Set<string>> {
  const ids = d.equalityIds ?? [];
  if (ids.length === 0) throw new InvalidMetadataError(d.filePath, 'equality-delete file without equality_ids');
  const keys = new Set<string>();
  await scanColumns(io, d, ids, (_first, n, column) => {
    const cols = ids.map((id) => column(id));
    for (let i = 0; i < n; i++) keys.add(equalityKey(cols.map((c) => c(i))));
  });
  return keys;
}
