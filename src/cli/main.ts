// The `floe` command: argument parsing and printing only. The catalog is handed in by the
// entry point (bin/), so the core never imports catalog implementations.
// Start-up: this module statically imports only commander and small parsing helpers; each
// command imports the code it runs inside its action, so `floe --help` (and every command) loads
// no Parquet, Arrow, Kafka, DuckDB or AWS code it does not use (test/unit/cli/cli-startup.test.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { FloeError, ValidationError, errorMessage } from '../errors.ts';
import { parseDuration } from '../duration.ts';
import type { Catalog } from '../table/catalog.ts';
import type { RowLevelMode } from '../merge/row-level-base.ts';
import { identifierToString, parseNamespace, parseTableIdentifier, type TableIdentifier } from '../table/identifier.ts';
import { registerAuditCommands } from './audit-command.ts';
import { registerPublishCommands } from './publish-command.ts';
import type { ExpiryDryRunDetail } from './expire-dry-run.ts';
import { registerRefCommands } from './ref-commands.ts';

export interface CatalogOptions { warehouse: string; uri?: string; name: string; properties?: Record<string, string> }
export type ExpireSnapshotsCommand = (catalog: Catalog, id: TableIdentifier, o: { nowMs: number; olderThanMs?: number; retainLast?: number; dryRun?: boolean }) => 
    Promise<{ expiredSnapshots: number; removedRefs: readonly string[]; deletedFiles: number; leftFiles?: number; dryRun: boolean; wouldExpire?: ExpiryDryRunDetail }>
export type RemoveOrphansCommand = (catalog: Catalog, id: TableIdentifier, o: { nowMs: number; olderThanMs?: number; dryRun?: boolean }) => 
    Promise<{ scannedFiles: number; orphans: readonly { uri: string; size: number }[]; deletedFiles: number; deletedBytes: number; failed: readonly string[]; tooYoung: number; abortedUploads?: number; dryRun: boolean }>
/** `floe doctor`: compaction/table-doctor.ts, wired in by the entry point. `lines` is the
 * text form, `report` the JSON form (both documented in table-doctor.ts). */
export type DoctorCommand = (catalog: Catalog, id: TableIdentifier, o: { deep: boolean }) => Promise<{ healthy: boolean; lines: readonly string[]; report: unknown }>
export type RewriteManifestsCommand = (catalog: Catalog, id: TableIdentifier, o: { branch?: string }) => 
    Promise<{ snapshotId: bigint | null; reason?: string; manifestsCreated: number; manifestsKept: number; manifestsReplaced: number; entriesProcessed: number }>
/** `floe rewrite-position-deletes`: compaction/rewrite-position-deletes.ts, wired in by the entry point. */
export type RewritePositionDeletesCommand = (catalog: Catalog, id: TableIdentifier, o: { branch?: string; minInputFiles?: number }) => 
    Promise<{ snapshotId: bigint | null; reason?: string; partitions: number; rewrittenDeleteFiles: number; addedDeleteFiles: number; danglingDeletes: number; positionDeletes: number }>

/** What `floe compact` hands the compaction service (compaction/compaction-service.ts). */
export interface CompactCommandOptions {
  tables: TableIdentifier[]; all: boolean; branch?: string; dryRun: boolean; json: boolean;
  targetFileSizeBytes?: number; minInputFiles?: number; maxFileGroupSizeBytes?: number; rowGroupSizeBytes?: number; copyMinRowGroupBytes?: number;
  concurrency?: number; partialProgress: boolean; partialProgressMaxCommits?: number; rewriteAll: boolean;
  schedule?: string; expire?: { olderThanMs?: number; retainLast?: number }; removeOrphansOlderThanMs?: number; rewriteManifests: boolean;
  metricsPort?: number;
}
export type CompactCommand = (catalog: Catalog, o: CompactCommandOptions, out: (line: string) => void) => Promise<{ done: Promise<unknown>; stop(): Promise<void> }>

export interface CliDeps {
  openCatalog(opts: CatalogOptions): Promise<Catalog>;
  /** Maintenance commands come from compaction/, wired in by the entry point. */
  expireSnapshots?: ExpireSnapshotsCommand;
  removeOrphans?: RemoveOrphansCommand;
  rewriteManifests?: RewriteManifestsCommand;
  rewritePositionDeletes?: RewritePositionDeletesCommand;
  doctor?: DoctorCommand;
  compact?: CompactCommand;
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
}

interface GlobalOpts { warehouse: string; catalog?: string; catalogName: string; conf: Record<string, string>; verbose?: boolean }

// Moved to src/duration.ts (the core parses durations too, and must not import cli/).
export { parseDuration };

/** `1GiB`, `512MiB`, `64MB`, `100k`, `1073741824` → bytes (k/m/g and KB/MB/GB are binary, as in Spark). */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?$/i.exec(text.trim());
  if (!m) throw new ValidationError(`size '${text}' is not like 1GiB, 512MiB, 64MB or a byte count`);
  const unit = (m[2] ?? 'b').toLowerCase()[0] as 'b' | 'k' | 'm' | 'g' | 't';
  const bytes = Math.round(Number(m[1]) * { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[unit]);
  if (!(bytes > 0)) throw new ValidationError(`size '${text}' must be positive`);
  return bytes;
}

function positiveInt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new ValidationError(`${name} must be a positive integer, got '${text}'`);
  return n;
}

/** Waits for a long-running service; SIGTERM/SIGINT ask it to stop in an orderly way. */
async function untilDoneOrSignalled(service: { done: Promise<unknown>; stop(): Promise<void> }): Promise<void> {
  const onSignal = (): void => { void service.stop(); };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    await service.done;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/** `a, b.c` → ['a', 'b.c']; empty items refused. */
function splitColumns(text: string): string[] {
  const names = text.split(',').map((x) => x.trim());
  if (names.some((n) => n === '')) throw new ValidationError(`'${text}' is not a comma-separated list of column names`);
  return names;
}

function collectProperty(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new ValidationError(`--property '${value}' is not KEY=VALUE`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

function collectConf(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new ValidationError(`--conf '${value.replace(/=.*/, '=…')}' is not KEY=VALUE`);
  return { ...previous, [value.slice(0, eq).trim()]: value.slice(eq + 1) };
}

/** A warehouse folder becomes absolute; URIs (file:, s3://) stay as written. */
function resolveWarehouse(w: string): string {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(w) ? w : path.resolve(w);
}

export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const out = deps.stdout ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = deps.stderr ?? ((l: string) => process.stderr.write(`${l}\n`));
  let verbose = argv.includes('--verbose');
  let catalog: Catalog | undefined;
  /** Set by commands whose exit code carries a verdict (doctor: 1 = problems found). */
  let exitCode = 0;

  const program = new Command('floe')
    .description('floe writes Apache Iceberg v2 tables from TypeScript: atomic appends through a SQL catalog that pyiceberg, DuckDB, Spark and Trino read.')
    .addOption(new Option('--warehouse <dir|s3://bucket/prefix>', 'where new tables are placed: a folder (its catalog.db is the default catalog) or s3://bucket/prefix (needs --catalog; S3 settings from --conf s3.*, FLOE_S3_* or AWS_* variables)').env('FLOE_WAREHOUSE').default('./warehouse'))
    .addOption(new Option('--catalog <uri>', 'catalog URI: sqlite:/path/catalog.db (default: sqlite:<warehouse>/catalog.db); postgresql://user:password@host:port/db for a catalog many processes and engines share (prefer FLOE_CATALOG for a password); or rest+http://host:port[/path] for an Iceberg REST catalog service (auth from FLOE_REST_TOKEN or FLOE_REST_CREDENTIAL=client_id:secret)').env('FLOE_CATALOG'))
    .addOption(new Option('--catalog-name <name>', 'catalog name stored in iceberg_tables.catalog_name; readers must use the same').env('FLOE_CATALOG_NAME').default('floe'))
    .option('--conf <key=value>', 'storage setting under Iceberg\'s property name, repeatable: s3.endpoint, s3.path-style-access, s3.region, s3.access-key-id, s3.secret-access-key, s3.session-token, s3.multipart.part-size-bytes, s3.multipart.threshold, s3.multipart.num-threads, s3.delete.batch-size, s3.retry.num-retries, s3.retry.min-wait-ms, s3.retry.max-wait-ms, s3.checksum-enabled (each also as FLOE_S3_…, e.g. FLOE_S3_ENDPOINT; prefer the environment for secrets)', collectConf, {})
    .option('--verbose', 'print stack traces on errors')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.trimEnd()), writeErr: (s) => err(s.trimEnd()) })
    .showHelpAfterError('(run floe --help for usage)');

  const open = async (): Promise<Catalog> => {
    const g = program.opts<GlobalOpts>();
    verbose = g.verbose ?? false;
    catalog ??= await deps.openCatalog({ warehouse: resolveWarehouse(g.warehouse), ...(g.catalog ? { uri: g.catalog } : {}), name: g.catalogName, properties: g.conf });
    return catalog;
  };

  const ns = program.command('namespace').description('create, list, describe or drop namespaces');
  ns.command('create <namespace>').description('create a namespace (e.g. db or db.sub)')
    .option('--property <k=v>', 'namespace property (repeatable)', collectProperty, {})
    .action(async (name: string, o: { property: Record<string, string> }) => {
      await (await open()).createNamespace(parseNamespace(name), o.property);
      out(`created namespace ${name}`);
    });
  ns.command('list [parent]').description('list namespaces (under PARENT if given)').action(async (parent?: string) => {
    for (const n of await (await open()).listNamespaces(parent ? parseNamespace(parent) : [])) out(n.join('.'));
  });
  ns.command('drop <namespace>').description('drop an empty namespace').action(async (name: string) => {
    await (await open()).dropNamespace(parseNamespace(name));
    out(`dropped namespace ${name}`);
  });

  const table = program.command('table').description('create, list, drop, rename or register tables; set their key');
  table.command('create <table>')
    .description('create NS.TABLE from an Iceberg JSON schema (field ids optional: fresh ids are assigned)')
    .requiredOption('--schema <file>', 'Iceberg schema JSON: {"type":"struct","fields":[{"name":"id","required":true,"type":"long"},...]}')
    .option('--partition-by <expr>', 'partition spec, e.g. "day(ts),bucket(16,id),truncate(4,name),region"')
    .option('--property <k=v>', 'table property, e.g. write.target-file-size-bytes=134217728 (repeatable)', collectProperty, {})
    .option('--location <dir>', 'table folder (default <warehouse>/<namespace…>/<table>); must be empty and not overlap another table\'s')
    .option('--key <columns>', 'key columns for merge/upsert and delete by key (Iceberg identifier fields), e.g. id or tenant,id')
    .action(async (name: string, o: { schema: string; partitionBy?: string; property: Record<string, string>; location?: string; key?: string }) => {
      const id = parseTableIdentifier(name);
      const { parseJsonExact } = await import('../spec/json.ts');
      const { schemaFromJson } = await import('../spec/schema.ts');
      const { parsePartitionExpression } = await import('../spec/partition-spec.ts');
      const { schemaWithKey } = await import('../transaction/set-table-key.ts');
      let json: unknown;
      try {
        json = parseJsonExact(readFileSync(o.schema, 'utf8'));
      } catch (e) {
        throw new ValidationError(`cannot read schema file ${path.resolve(o.schema)}: ${errorMessage(e)}`);
      }
      let parsed: ReturnType<typeof schemaFromJson>;
      try {
        parsed = schemaFromJson(json, { assignIds: true });
      } catch (e) {
        // Name the file: `invalid schema file /…/schema.json: field "amount": missing "required" (true or false)`.
        if (e instanceof ValidationError) throw new ValidationError(`invalid schema file ${path.resolve(o.schema)}: ${e.message.replace(/^invalid schema: /, '')}`);
        throw e;
      }
      const schema = o.key === undefined ? parsed : schemaWithKey(parsed, splitColumns(o.key));
      const spec = o.partitionBy ? parsePartitionExpression(o.partitionBy, schema) : undefined;
      // A plain path becomes an absolute file: URI like the default locations (the catalog
      // refuses relative ones); a URI is kept as given.
      const location = o.location === undefined ? undefined : /^[A-Za-z][A-Za-z0-9+.-]*:/.test(o.location) ? o.location : `file://${path.resolve(o.location)}`;
      const t = await (await open()).createTable(id, { schema, ...(spec ? { spec } : {}), properties: o.property, ...(location ? { location } : {}) });
      out(`created table ${identifierToString(id)} at ${t.metadata.location}`);
    });
  table.command('set-key <table> [columns]')
    .description('set the key columns merge/upsert and delete by key match rows on (Iceberg identifier fields; comma-separated, dotted for struct fields)')
    .option('--clear', 'remove the key')
    .action(async (name: string, columns: string | undefined, o: { clear?: boolean }) => {
      if ((columns === undefined) === !o.clear) throw new ValidationError('give the key columns (e.g. set-key db.t id) or --clear, not both');
      const { keyColumnNames, setTableKey } = await import('../transaction/set-table-key.ts');
      const schema = await setTableKey(await open(), parseTableIdentifier(name), columns === undefined ? [] : splitColumns(columns));
      const key = keyColumnNames(schema);
      out(key.length > 0 ? `key of ${name}: ${key.join(', ')} (schema ${schema.schemaId})` : `${name} has no key (schema ${schema.schemaId})`);
    });
  table.command('list <namespace>').description('list the tables of a namespace').action(async (name: string) => {
    for (const t of await (await open()).listTables(parseNamespace(name))) out(identifierToString(t));
  });
  table.command('drop <table>').description('remove a table from the catalog')
    .option('--purge', 'also delete the files its metadata references and its metadata/ folder (as Iceberg Java\'s purge; never another table\'s files); on a local disk the folders this leaves empty go too')
    .action(async (name: string, o: { purge?: boolean }) => {
      const r = await (await open()).dropTable(parseTableIdentifier(name), { purge: o.purge ?? false });
      out(`dropped table ${name}${o.purge ? ` and deleted ${r.deletedFiles} file(s)` : ''}`
        + `${r.sparedFiles > 0 ? `; kept ${r.sparedFiles} file(s) that lie in other tables' locations` : ''}`);
    });
  table.command('rename <from> <to>').description('rename a table').action(async (from: string, to: string) => {
    await (await open()).renameTable(parseTableIdentifier(from), parseTableIdentifier(to));
    out(`renamed ${from} to ${to}`);
  });
  table.command('register <table> <metadata-file>').description('add an existing metadata.json to the catalog')
    .action(async (name: string, file: string) => {
      const loc = file.includes(':') ? file : `file://${path.resolve(file)}`;
      await (await open()).registerTable(parseTableIdentifier(name), loc);
      out(`registered ${name} -> ${loc}`);
    });

  program.command('append <table> <file>')
    .description('append NDJSON records (FILE or - for stdin) in one atomic commit')
    .addHelpText('after', '\nValue forms: date/time/timestamp as ISO-8601 strings ("2026-11-21", "12:30:00.5",\n"2026-11-21T12:30:00Z"), decimals as strings ("12.30"), binary/fixed as base64, uuid as\ntext, longs as numbers or strings (exact above 2^53). A bad record fails the whole append\nwith its line number; nothing is committed.\n\nThe input is streamed into data files rolled at write.target-file-size-bytes, so memory\nstays bounded whatever its size. The commit records the file\'s position (path, byte offset\nand a fingerprint of its bytes): rerunning an append that already committed adds nothing,\nand a file that has grown since adds only its new lines. stdin cannot be resumed.')
    .option('--branch <name>', 'branch to commit to', 'main')
    .option('--allow-duplicate', 'append the whole file even if this table already holds (part of) it: ignores the recorded position')
    .option('--wap-id <id>', 'write-audit-publish: stage the snapshot with summary wap.id=ID on top of main without moving main (needs table property write.wap.enabled=true); publish it later, e.g. with Spark\'s cherrypick_snapshot')
    .action(async (name: string, file: string, o: { branch: string; allowDuplicate?: boolean; wapId?: string }) => {
      const { appendNdjson } = await import('./append-command.ts');
      await appendNdjson(await open(), parseTableIdentifier(name), file, { branch: o.branch, allowDuplicate: o.allowDuplicate ?? false, ...(o.wapId !== undefined ? { wapId: o.wapId } : {}) }, out, err);
    });

  const modeOption = (v: string): RowLevelMode => {
    if (v !== 'merge-on-read' && v !== 'copy-on-write') throw new ValidationError(`--mode must be merge-on-read or copy-on-write, not '${v}'`);
    return v;
  };
  program.command('merge <table> <file>')
    .description('upsert or delete NDJSON changes (FILE or - for stdin) by the table\'s key, in one atomic commit (MERGE)')
    .addHelpText('after', [
      '',
      'Each record is an upsert: it replaces the row with the same key (the table\'s identifier',
      'fields, set with `floe table create --key` or `floe table set-key`), or is inserted. With',
      '--op-field, the field says c/r/u (upsert) or d (delete); insert/update/upsert/delete and',
      'I/U/D are accepted too. --format debezium reads Debezium change events ({op, before,',
      'after, ts_ms, source}) with or without the Kafka Connect {schema, payload} wrapper.',
      '',
      'One change per key wins: the one with the greatest --order-by value (Debezium: source.lsn,',
      'else ts_ms), else the last in the input. When --order-by names a column of the table, an',
      'older change never overwrites a newer row already in the table.',
      '',
      'Rows are replaced with position-delete files (merge-on-read, the default) or by rewriting',
      'the files they are in (copy-on-write): table property write.merge.mode / write.delete.mode,',
      'or --mode. A bad record fails the whole merge, naming its line; nothing is committed.',
      '',
      'The commit records the file\'s position (as floe append does): rerunning a merged file',
      'merges nothing (re-applying old changes after newer ones would put old values back), and',
      'a file that has grown merges only its new lines. --allow-rerun merges it all again.',
    ].join('\n'))
    .option('--op-field <field>', 'field holding each record\'s operation (c/r/u/d, insert/update/delete)')
    .option('--order-by <field>', 'field whose greatest value wins (dotted path: e.g. updated_at, source.lsn)')
    .option('--format <format>', 'plain (default) or debezium', 'plain')
    .option('--mode <mode>', 'merge-on-read or copy-on-write (default: table property write.merge.mode, else merge-on-read)')
    .option('--branch <name>', 'branch to commit to', 'main')
    .option('--allow-rerun', 'merge the whole file even if this table already merged (part of) it: re-applies its changes')
    .option('--wap-id <id>', 'write-audit-publish: stage the snapshot with summary wap.id=ID on top of main without moving main (needs table property write.wap.enabled=true); publish it later, e.g. with Spark\'s cherrypick_snapshot')
    .action(async (name: string, file: string, o: { opField?: string; orderBy?: string; format: string; mode?: string; branch: string; allowRerun?: boolean; wapId?: string }) => {
      if (o.format !== 'plain' && o.format !== 'debezium') throw new ValidationError(`--format must be plain or debezium, not '${o.format}'`);
      const { mergeNdjson } = await import('./merge-command.ts');
      await mergeNdjson(await open(), parseTableIdentifier(name), file, {
        branch: o.branch, format: o.format, allowRerun: o.allowRerun ?? false,
        ...(o.wapId !== undefined ? { wapId: o.wapId } : {}),
        ...(o.mode ? { mode: modeOption(o.mode) } : {}),
        ...(o.opField !== undefined ? { opField: o.opField } : {}),
        ...(o.orderBy !== undefined ? { orderBy: o.orderBy } : {}),
      }, out);
    });
  program.command('delete <table>')
    .description('delete rows matching a predicate (--where) or keys (--keys FILE), in one atomic commit')
    .addHelpText('after', [
      '',
      'Predicates: = != <> < <= > >= between a column and a literal, IN (...), NOT IN, IS NULL,',
      'IS NOT NULL, NOT, AND, OR, parentheses. Strings in single quotes; DATE \'2024-01-01\' and',
      'TIMESTAMP \'2024-01-01T10:00:00Z\' literals; dotted names for struct fields. Examples:',
      '  floe delete db.orders --where "region = \'eu\' AND amount < 0"',
      '  floe delete db.orders --where "ts < TIMESTAMP \'2024-01-01T00:00:00Z\' OR status IS NULL"',
      '  floe delete db.orders --keys gone.ndjson     (one {"id": ...} object per line)',
      '',
      'Files are pruned by partition and column bounds; files all of whose rows match are',
      'dropped without being read. Write mode: table property write.delete.mode or --mode.',
    ].join('\n'))
    .option('--where <predicate>', 'rows to delete')
    .option('--keys <file>', 'NDJSON of keys to delete (FILE or - for stdin), by the table\'s key')
    .option('--mode <mode>', 'merge-on-read or copy-on-write (default: table property write.delete.mode, else merge-on-read)')
    .option('--branch <name>', 'branch to commit to', 'main')
    .option('--wap-id <id>', 'write-audit-publish: stage the snapshot with summary wap.id=ID on top of main without moving main (needs table property write.wap.enabled=true); publish it later, e.g. with Spark\'s cherrypick_snapshot')
    .action(async (name: string, o: { where?: string; keys?: string; mode?: string; branch: string; wapId?: string }) => {
      if ((o.where === undefined) === (o.keys === undefined)) throw new ValidationError('give either --where PREDICATE or --keys FILE');
      const id = parseTableIdentifier(name);
      const common = { branch: o.branch, ...(o.mode ? { mode: modeOption(o.mode) } : {}), ...(o.wapId !== undefined ? { wapId: o.wapId } : {}) };
      const { deleteRows, mergeNdjson } = await import('./merge-command.ts');
      if (o.where !== undefined) await deleteRows(await open(), id, o.where, common, out);
      else await mergeNdjson(await open(), id, o.keys!, { ...common, deleteOnly: true }, out);
    });

  program.command('ingest')
    .description('run a streaming ingest pipeline (Kafka or NDJSON → tables, exactly once) until SIGTERM')
    .requiredOption('--config <file>', 'pipeline config, YAML or JSON (see README "Streaming ingest")')
    .action(async (o: { config: string }) => {
      const { loadIngestConfig } = await import('../ingest/ingest-config.ts');
      const { startIngest } = await import('../ingest/ingest-runner.ts');
      const cfg = loadIngestConfig(o.config);
      await untilDoneOrSignalled(await startIngest(await open(), cfg));
    });

  if (deps.expireSnapshots) {
    const expire = deps.expireSnapshots;
    program.command('expire-snapshots <table>')
      .description('remove old snapshots (never one a branch or tag still needs) and the files only they used')
      .option('--older-than <duration>', 'expire snapshots older than this, e.g. 5d, 12h, 30m (default: history.expire.max-snapshot-age-ms, 5 days)')
      .option('--retain-last <n>', 'keep at least the newest N snapshots of every branch (default: history.expire.min-snapshots-to-keep, 1)')
      .option('--dry-run', 'change nothing: list each snapshot that would expire (id, committed-at, operation, added-records) and each file that would be deleted, with totals')
      .option('--limit <n>', 'with --dry-run: list at most N snapshots and N files, then "… and K more"', '20')
      .option('--json', 'with --dry-run: print every snapshot and file as one JSON document')
      .addHelpText('after', '\nExamples:\n  floe expire-snapshots db.events --older-than 7d --retain-last 10 --dry-run\n  floe expire-snapshots db.events --older-than 7d --dry-run --json > expiry-plan.json')
      .action(async (name: string, o: { olderThan?: string; retainLast?: string; dryRun?: boolean; limit: string; json?: boolean }) => {
        const limit = positiveInt('--limit', o.limit)!;
        if (o.json && !o.dryRun) throw new ValidationError('--json is only for --dry-run (a real expiry prints one summary line)');
        const r = await expire(await open(), parseTableIdentifier(name), {
          nowMs: Date.now(),
          ...(o.olderThan ? { olderThanMs: parseDuration(o.olderThan) } : {}),
          ...(o.retainLast ? { retainLast: Number(o.retainLast) } : {}),
          dryRun: o.dryRun ?? false,
        });
        const { describeExpiryDryRun, describeExpiryTotals, expiryDryRunJson } = await import('./expire-dry-run.ts');
        if (r.dryRun && r.wouldExpire && o.json) { out(expiryDryRunJson(r, r.wouldExpire)); return; }
        if (r.dryRun && r.wouldExpire) for (const line of describeExpiryDryRun(r.wouldExpire, limit)) out(line);
        const deleted = r.dryRun ? (r.wouldExpire ? `; would delete ${describeExpiryTotals(r.wouldExpire)}` : '') : `, deleted ${r.deletedFiles} file(s)`;
        out(`${r.dryRun ? 'would expire' : 'expired'} ${r.expiredSnapshots} snapshot(s)${r.removedRefs.length ? `, ${r.dryRun ? 'would remove' : 'removed'} refs ${r.removedRefs.join(', ')}` : ''}${deleted}`
          + `${r.leftFiles ? `; ${r.leftFiles} freed file(s) were not deleted (run floe remove-orphans later)` : ''}`);
      });
  }

  if (deps.removeOrphans) {
    const removeOrphans = deps.removeOrphans;
    program.command('remove-orphans <table>')
      .description('delete files under the table\'s data/ and metadata/ that no snapshot or metadata file references')
      .option('--older-than <duration>', 'only files last modified longer ago than this, so in-flight writes survive, e.g. 3d, 12h (default: 3d)')
      .option('--dry-run', 'print the files that would be deleted, change nothing')
      .action(async (name: string, o: { olderThan?: string; dryRun?: boolean }) => {
        const r = await removeOrphans(await open(), parseTableIdentifier(name), {
          nowMs: Date.now(),
          ...(o.olderThan ? { olderThanMs: parseDuration(o.olderThan) } : {}),
          dryRun: o.dryRun ?? false,
        });
        if (r.dryRun) for (const f of r.orphans) out(`would delete ${f.uri} (${f.size} bytes)`);
        const bytes = r.dryRun ? r.orphans.reduce((n, f) => n + f.size, 0) : r.deletedBytes;
        out(`${r.dryRun ? 'would delete' : 'deleted'} ${r.dryRun ? r.orphans.length : r.deletedFiles} orphan file(s), ${bytes} bytes; scanned ${r.scannedFiles} file(s), kept ${r.tooYoung} unreferenced file(s) younger than the margin${r.abortedUploads ? `; aborted ${r.abortedUploads} stale multipart upload(s)` : ''}`);
        if (r.failed.length > 0) {
          for (const f of r.failed) err(`could not delete ${f}`);
          throw new FloeError('io', `${r.failed.length} orphan file(s) could not be deleted; run again to retry`);
        }
      });
  }

  if (deps.doctor) {
    const doctor = deps.doctor;
    program.command('doctor <table>')
      .description('check a table\'s integrity: referenced files exist with their sizes and decode, sequence numbers and lineage agree, orphans are counted; exit 0 healthy, 1 problems, 2 cannot load')
      .option('--deep', 'also open every data file and compare its footer (row count, partition values) with its manifest entry')
      .option('--json', 'print the report as JSON')
      .action(async (name: string, o: { deep?: boolean; json?: boolean }) => {
        let r;
        try {
          r = await doctor(await open(), parseTableIdentifier(name), { deep: o.deep ?? false });
        } catch (e) {
          // Not a verdict on the table's files: the table (or catalog) could not be loaded.
          err(`floe: ${errorMessage(e)}`);
          exitCode = 2;
          return;
        }
        if (o.json) out(JSON.stringify(r.report, null, 2));
        else for (const line of r.lines) out(line);
        exitCode = r.healthy ? 0 : 1;
      });
  }

  if (deps.rewriteManifests) {
    const rewrite = deps.rewriteManifests;
    program.command('rewrite-manifests <table>')
      .description('regroup the live entries of a branch into manifests by partition (a replace snapshot; data files untouched)')
      .option('--branch <name>', 'branch to rewrite', 'main')
      .action(async (name: string, o: { branch: string }) => {
        const r = await rewrite(await open(), parseTableIdentifier(name), { branch: o.branch });
        if (r.snapshotId === null) { out(r.reason ?? 'nothing to rewrite'); return; }
        out(`rewrote ${r.manifestsReplaced} manifest(s) into ${r.manifestsCreated} (${r.entriesProcessed} entries, ${r.manifestsKept} delete manifest(s) kept) on branch ${o.branch}: snapshot ${r.snapshotId}`);
      });
  }

  if (deps.rewritePositionDeletes) {
    const rewrite = deps.rewritePositionDeletes;
    program.command('rewrite-position-deletes <table>')
      .description('merge each partition\'s position-delete files into one, without deletes of data files no longer live (a replace snapshot)')
      .option('--branch <name>', 'branch to rewrite', 'main')
      .option('--min-input-files <n>', 'position-delete files a partition needs to be rewritten (one with dangling deletes always is)', '2')
      .action(async (name: string, o: { branch: string; minInputFiles: string }) => {
        const minInputFiles = Number(o.minInputFiles);
        if (!Number.isInteger(minInputFiles) || minInputFiles < 1) throw new ValidationError(`--min-input-files must be a whole number >= 1, got '${o.minInputFiles}'`);
        const r = await rewrite(await open(), parseTableIdentifier(name), { branch: o.branch, minInputFiles });
        if (r.snapshotId === null) { out(r.reason ?? 'nothing to rewrite'); return; }
        out(`rewrote ${r.rewrittenDeleteFiles} position-delete file(s) of ${r.partitions} partition(s) into ${r.addedDeleteFiles} (${r.positionDeletes} deletes kept, ${r.danglingDeletes} dangling dropped) on branch ${o.branch}: snapshot ${r.snapshotId}`);
      });
  }

  if (deps.compact) {
    const compact = deps.compact;
    program.command('compact [tables...]')
      .description('merge small data files into target-sized ones (Iceberg rewrite_data_files, binpack), safely next to running writers')
      .option('--all', 'compact every table of the catalog')
      .option('--target-file-size <size>', 'output file size, e.g. 1GiB, 128MiB (default: write.target-file-size-bytes, else 1 GiB)')
      .option('--min-input-files <n>', 'rewrite a partition only with at least N small files (default 5)')
      .option('--max-file-group-size <size>', 'largest group rewritten as one unit (default 100GiB)')
      .option('--rewrite-all', 'rewrite every file, even well-sized ones')
      .option('--branch <name>', 'branch to compact', 'main')
      .option('--dry-run', 'print the plan (groups, input files and bytes, expected output files), change nothing')
      .option('--concurrency <n>', 'CPU cores to rewrite on (default 1): this thread plus n-1 worker threads, each with its own Parquet encoder. Up to n file groups are rewritten at once (Spark\'s max-concurrent-file-group-rewrites), and a group of small files is also cut into slices encoded on all of them and spliced into the same output file; 2 on a 2-core machine is about 1.2-1.4x faster for 10-15% more CPU and ~130 MB more memory')
      .option('--partial-progress', 'commit groups as they finish (partial-progress.enabled), so a conflict costs only its own groups')
      .option('--max-commits <n>', 'partial-progress.max-commits (default 10)')
      .option('--row-group-size <size>', 'output row groups in Arrow bytes (default min(write.parquet.row-group-size-bytes, 32MiB)); memory grows ~3.5x this')
      .option('--copy-row-groups-from <size>', 'input row groups of at least this compressed size are copied into the outputs as they are, not decoded and re-encoded — much faster for files written with large row groups (default: half of write.parquet.row-group-size-bytes, i.e. 64MiB; 0 = re-encode everything)')
      .option('--schedule <cron>', 'keep running and compact on this cron schedule, e.g. "*/15 * * * *"')
      .option('--expire-older-than <duration>', 'after compacting, expire snapshots older than this (e.g. 5d)')
      .option('--retain-last <n>', 'with expiry, keep at least N snapshots per branch')
      .option('--remove-orphans-older-than <duration>', 'after compacting, delete unreferenced files older than this (at least 3d is safe next to writers)')
      .option('--rewrite-manifests', 'after compacting, regroup manifests')
      .option('--metrics-port <port>', 'serve Prometheus metrics on this port at /metrics')
      .option('--json', 'print the final report as JSON (logs are JSON whenever stderr is not a terminal)')
      .addHelpText('after', '\nExamples:\n  floe compact db.events --dry-run\n  floe compact db.events --target-file-size 512MiB --partial-progress\n  floe compact --all --schedule "0 * * * *" --expire-older-than 5d --retain-last 10 --metrics-port 9464')
      .action(async (names: string[], o: {
        all?: boolean; targetFileSize?: string; minInputFiles?: string; maxFileGroupSize?: string; rewriteAll?: boolean; branch: string; dryRun?: boolean;
        concurrency?: string; partialProgress?: boolean; maxCommits?: string; rowGroupSize?: string; copyRowGroupsFrom?: string; schedule?: string;
        expireOlderThan?: string; retainLast?: string; removeOrphansOlderThan?: string; rewriteManifests?: boolean; metricsPort?: string; json?: boolean;
      }) => {
        if (!o.all && names.length === 0) throw new ValidationError('name a table (NS.TABLE) or use --all');
        if (o.all && names.length > 0) throw new ValidationError('use either table names or --all, not both');
        const retainLast = positiveInt('--retain-last', o.retainLast);
        const opts: CompactCommandOptions = {
          tables: names.map(parseTableIdentifier), all: o.all ?? false, branch: o.branch, dryRun: o.dryRun ?? false, json: o.json ?? false,
          partialProgress: o.partialProgress ?? false, rewriteAll: o.rewriteAll ?? false, rewriteManifests: o.rewriteManifests ?? false,
          ...(o.targetFileSize ? { targetFileSizeBytes: parseSize(o.targetFileSize) } : {}),
          ...(o.minInputFiles ? { minInputFiles: positiveInt('--min-input-files', o.minInputFiles)! } : {}),
          ...(o.maxFileGroupSize ? { maxFileGroupSizeBytes: parseSize(o.maxFileGroupSize) } : {}),
          ...(o.rowGroupSize ? { rowGroupSizeBytes: parseSize(o.rowGroupSize) } : {}),
          ...(o.copyRowGroupsFrom !== undefined ? { copyMinRowGroupBytes: o.copyRowGroupsFrom.trim() === '0' ? 0 : parseSize(o.copyRowGroupsFrom) } : {}),
          ...(o.concurrency ? { concurrency: positiveInt('--concurrency', o.concurrency)! } : {}),
          ...(o.maxCommits ? { partialProgressMaxCommits: positiveInt('--max-commits', o.maxCommits)! } : {}),
          ...(o.schedule ? { schedule: o.schedule } : {}),
          ...(o.expireOlderThan || retainLast ? { expire: { ...(o.expireOlderThan ? { olderThanMs: parseDuration(o.expireOlderThan) } : {}), ...(retainLast ? { retainLast } : {}) } } : {}),
          ...(o.removeOrphansOlderThan ? { removeOrphansOlderThanMs: parseDuration(o.removeOrphansOlderThan) } : {}),
          ...(o.metricsPort !== undefined ? { metricsPort: Number(o.metricsPort) } : {}),
        };
        await untilDoneOrSignalled(await compact(await open(), opts, out));
      });
  }

  registerAuditCommands(program, { open, out, err, setExitCode: (code) => { exitCode = code; } });
  registerRefCommands(program, { open, out });

  program.command('describe <table>').description('schema, partitioning, refs and properties of a table')
    .action(async (name: string) => {
      const { describeTable } = await import('./describe-table.ts');
      out(describeTable(await (await open()).loadTable(parseTableIdentifier(name))));
    });

  program.command('snapshots <table>').description('the snapshots of a table, oldest first')
    .action(async (name: string) => {
      const { snapshotRows } = await import('./describe-table.ts');
      out(snapshotRows((await (await open()).loadTable(parseTableIdentifier(name))).metadata));
    });

  program.command('demo')
    .description('append synthetic event batches to demo.events and read them back through DuckDB')
    .option('--batches <n>', 'number of micro-batches', '5')
    .option('--records <n>', 'records per batch', '20000')
    .action(async (o: { batches: string; records: string }) => {
      const g = program.opts<GlobalOpts>();
      const { runDemo } = await import('./demo.ts');
      await runDemo(await open(), { batches: Number(o.batches), recordsPerBatch: Number(o.records), warehouse: resolveWarehouse(g.warehouse), out });
    });

  registerPublishCommands(program, { open, out, err, setExitCode: (code) => { exitCode = code; } });

  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (verbose && e instanceof Error) err(e.stack ?? e.message);
    else err(`floe: ${e instanceof FloeError || e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    await catalog?.close();
  }
}
