// The whole append path for plain records: write data files with the table's schema, spec
// and properties, then commit them with a fast append and retries. Nothing becomes visible
// unless the commit lands; files of a definitely failed commit are removed.
import { CommitStateUnknownError } from '../errors.ts';
import { faultPoint } from '../fault-points.ts';
import { deleteAll } from '../io/file-io.ts';
import { currentSchema, defaultSpec, MAIN_BRANCH } from '../spec/table-metadata.ts';
import type { Catalog, LoadedTable } from '../table/catalog.ts';
import type { TableIdentifier } from '../table/identifier.ts';
import { DataFileWriter, type WriteStats } from '../writer/data-file-writer.ts';
import { commitWithRetry, type CommitHooks, type CommitResult } from './commit-with-retry.ts';
import { FastAppend } from './fast-append.ts';

export interface AppendOptions {
  readonly branch?: string;
  /** Extra snapshot summary properties (e.g. source offsets). */
  readonly summary?: Readonly<Record<string, string>>;
  readonly hooks?: CommitHooks;
  /** See FastAppend: runs on every base; throwing aborts the append and removes its files. */
  readonly validate?: (base: LoadedTable, branch: string) => void;
}

export interface AppendResult extends CommitResult {
  readonly dataFiles: number;
  readonly records: number;
  readonly timings: WriteStats & { commitMs: number };
}

export async function appendRecords(catalog: Catalog, id: TableIdentifier, records: readonly unknown[], opts: AppendOptions = {}): Promise<AppendResult> {
  const base = await catalog.loadTable(id);
  const meta = base.metadata;
  const writer = new DataFileWriter({
    schema: currentSchema(meta), spec: defaultSpec(meta), properties: meta.properties,
    location: meta.location, io: catalog.io,
  });
  const files = await writer.write(records);
  faultPoint('append.after-data-files');
  const t0 = performance.now();
  const action = new FastAppend(catalog.io, files, {
    branch: opts.branch ?? MAIN_BRANCH,
    ...(opts.summary ? { summary: opts.summary } : {}),
    ...(opts.validate ? { validate: opts.validate } : {}),
  });
  try {
    const result = await commitWithRetry(catalog, id, action, { base, ...(opts.hooks ? { hooks: opts.hooks } : {}) });
    return { ...result, dataFiles: files.length, records: records.length, timings: { ...writer.stats, commitMs: performance.now() - t0 } };
  } catch (err) {
    // The commit loop already removed its manifests; data files are ours to remove, unless
    // the outcome is unknown (then the table may reference them).
    if (!(err instanceof CommitStateUnknownError)) await deleteAll(catalog.io, files.map((f) => f.filePath));
    throw err;
  }
}
