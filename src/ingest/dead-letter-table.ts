// The dead-letter table: every record that failed validation or decoding, with its raw
// payload, the reason, and where it came from. Writes are exactly once per source offset, like
// the target table's, so a replay after a crash does not store a bad record twice.
import { AlreadyExistsError } from '../errors.ts';
import { schemaFromJson } from '../spec/schema.ts';
import { MAIN_BRANCH } from '../spec/table-metadata.ts';
import type { Catalog } from '../table/catalog.ts';
import type { TableIdentifier } from '../table/identifier.ts';
import { appendExactlyOnce } from './exactly-once-append.ts';
import type { OffsetRange } from './source-offsets.ts';
import type { DeadLetter, DeadLetterSink } from './table-ingestor.ts';

export const DEAD_LETTER_SCHEMA_JSON = {
  type: 'struct',
  fields: [
    { name: 'payload', required: true, type: 'string', doc: 'the record as received' },
    { name: 'error', required: true, type: 'string', doc: 'why it was refused' },
    { name: 'source', required: false, type: 'string', doc: 'source id, e.g. kafka/<group>/<topic>' },
    { name: 'source_partition', required: false, type: 'int' },
    { name: 'source_offset', required: false, type: 'long' },
    { name: 'source_timestamp', required: false, type: 'timestamptz' },
    { name: 'dead_lettered_at', required: true, type: 'timestamptz' },
  ],
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text the string columns take: a lone surrogate (a field name or value decoded from
 * "\\ud800", quoted in a reason) is written as its escape. Without this the dead-letter
 * append itself was refused, and the record that should have been set aside stopped the
 * pipeline instead.
 */
export function storableText(s: string): string {
  return (s as string & { isWellFormed(): boolean }).isWellFormed() ? s : s.replace(LONE_SURROGATE, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/**
 * Runs a create that another process may be running at the same moment: several ingest
 * processes of one pipeline start together. The SQL catalog does not always answer the loser
 * with AlreadyExists (a namespace's property rows hit a UNIQUE constraint; a table's
 * empty-location check lists the other create's temporary metadata file, which is then renamed
 * away: ENOENT, or "folder not empty"), so a failure is retried until `exists` holds.
 */
async function createConcurrently(create: () => Promise<unknown>, exists: () => Promise<boolean>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await create();
      return;
    } catch (err) {
      if (err instanceof AlreadyExistsError) return;
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
      if (await exists()) return;
    }
  }
}

export class DeadLetterTable implements DeadLetterSink {
  private constructor(private readonly catalog: Catalog, readonly table: TableIdentifier, private readonly branch: string) {}

  /** Opens the dead-letter table, creating it (and its namespace) when missing. */
  static async open(catalog: Catalog, table: TableIdentifier, branch = MAIN_BRANCH): Promise<DeadLetterTable> {
    if (!(await catalog.tableExists(table))) {
      if (!(await catalog.namespaceExists(table.namespace))) {
        await createConcurrently(() => catalog.createNamespace(table.namespace), () => catalog.namespaceExists(table.namespace));
      }
      await createConcurrently(
        () => catalog.createTable(table, { schema: schemaFromJson(DEAD_LETTER_SCHEMA_JSON, { assignIds: true }) }),
        () => catalog.tableExists(table),
      );
    }
    return new DeadLetterTable(catalog, table, branch);
  }

  async write(letters: readonly DeadLetter[], sourceId: string | undefined, ranges: ReadonlyMap<number, OffsetRange>): Promise<void> {
    const now = new Date().toISOString();
    await appendExactlyOnce(this.catalog, this.table, letters.map((l) => ({
      value: {
        payload: storableText(l.raw),
        error: storableText(l.error),
        source: l.position?.sourceId ?? null,
        source_partition: l.position?.partition ?? null,
        source_offset: l.position?.offset ?? null,
        source_timestamp: l.timestampMs !== undefined ? new Date(l.timestampMs).toISOString() : null,
        dead_lettered_at: now,
      },
      ...(l.position ? { position: l.position } : {}),
    })), { branch: this.branch, sourceId, batchRanges: ranges });
  }
}
