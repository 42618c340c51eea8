// `floe compact`: one table or all of them, once (for cron or a Kubernetes CronJob) or on a
// cron schedule (croner) as a long-running service; optional maintenance after each table
// (expire snapshots, remove orphans, rewrite manifests). On a terminal a progress bar shows
// groups, bytes and ETA; otherwise every event is a JSON log line (pino). Safe without locks:
// every commit is optimistic and validated (see src/transaction/replace-data-files.ts).
import { Cron } from 'croner';
import { SingleBar } from 'cli-progress';
import pino from 'pino';
import { serveMetrics, type MetricsServer } from '../src/observability/metrics-server.ts';
import type { Catalog } from '../src/table/catalog.ts';
import { identifierToString, type TableIdentifier } from '../src/table/identifier.ts';
import { compactTable, type CompactionEvent, type CompactOptions, type CompactReport } from './compact-table.ts';
import { CompactionMetrics } from './compaction-metrics.ts';
import { expireSnapshots } from './expire-snapshots.ts';
import { removeOrphanFiles } from './remove-orphans.ts';
import { rewriteManifests } from './rewrite-manifests.ts';
import { rewritePositionDeletes } from './rewrite-position-deletes.ts';

/** Options of {@link startCompaction}: what to compact, when, and which maintenance to run after. */
export interface CompactServiceOptions extends Omit<CompactOptions, 'onEvent' | 'commitHooks'> {
  /** Tables to compact; empty with `all` = every table of the catalog. */
  readonly tables: readonly TableIdentifier[];
  /** Compact every table of the catalog. */
  readonly all?: boolean;
  /** Cron expression: keep running and compact on this schedule. */
  readonly schedule?: string;
  /** After compacting, expire snapshots (see {@link expireSnapshots}). */
  readonly expire?: { olderThanMs?: number; retainLast?: number };
  /** After compacting, remove orphan files older than this (see {@link removeOrphanFiles}). */
  readonly removeOrphansOlderThanMs?: number;
  /** After compacting, rewrite manifests (see {@link rewriteManifests}). */
  readonly rewriteManifests?: boolean;
  /** After compacting, run rewrite-position-deletes when a partition holds at least this many
   * position-delete files (or a dangling delete); unset: never. */
  readonly rewritePositionDeletesMinFiles?: number;
  /** Serve Prometheus metrics (`floe_compaction_*`) on this port (0 = any free port). */
  readonly metricsPort?: number;
  /** Progress bar (default: when stderr is a terminal and not `json`). */
  readonly progress?: boolean;
  /** Final report as one JSON line on stdout instead of text. */
  readonly json?: boolean;
}

const MiB = 1024 * 1024;
/** Multipart uploads older than this under a table's location are a killed writer's leftovers:
 * the service aborts them when it first meets the table (an upload of a live writer is minutes old). */
export const STALE_UPLOAD_AGE_MS = 86_400_000;
const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;

async function allTables(catalog: Catalog): Promise<TableIdentifier[]> {
  const out: TableIdentifier[] = [];
  const walk = async (parent: readonly string[]): Promise<void> => {
    for (const ns of await catalog.listNamespaces(parent)) {
      out.push(...await catalog.listTables(ns));
      await walk(ns);
    }
  };
  await walk([]);
  return out;
}

/** Human summary of a dry run: every group with its input and expected output. */
export function describePlan(r: CompactReport): string[] {
  const lines = r.plan.groups.map((g, i) =>
    `  group ${i + 1}: spec ${g.specId} partition ${(g.partitionPath ?? g.partitionKey.replaceAll('\u0000', '/')) || '(unpartitioned)'}: ${g.files.length} files, ${mib(g.inputBytes)} → ~${g.expectedOutputFiles} file(s)`);
  return [`${r.table}: ${r.plan.groups.length} group(s), ${r.plan.totalInputFiles} files, ${mib(r.plan.totalInputBytes)} → ~${r.plan.totalExpectedOutputFiles} file(s)`, ...lines];
}

export function describeReport(r: CompactReport): string {
  if (r.plan.groups.length === 0) return `${r.table}: nothing to compact`;
  const secs = r.durationMs / 1000;
  const failed = r.failedGroups > 0 ? `, ${r.failedGroups} group(s) refused` : '';
  const deletes = r.removedDeleteFiles > 0 ? `, ${r.removedDeleteFiles} delete file(s) dropped` : '';
  const copied = r.copiedRowGroups > 0 ? ` (${r.copiedRowGroups} row group(s), ${mib(r.copiedBytes)}, copied as they were)` : '';
  return `${r.table}: compacted ${r.rewrittenFiles} files (${mib(r.rewrittenBytes)}) into ${r.addedFiles} (${mib(r.addedBytes)})${copied}${deletes} in ${r.commits} commit(s), ` +
    `${r.conflicts} conflict(s) resolved${failed}, ${secs.toFixed(1)} s, ${(r.rewrittenBytes / MiB / Math.max(secs, 0.001)).toFixed(1)} MiB/s`;
}

/** A running compaction, as returned by {@link startCompaction}. */
export interface CompactService {
  /** Resolves when a one-shot run ends, or when a scheduled service has been stopped. */
  readonly done: Promise<CompactReport[]>;
  /** Stops the schedule after the current run; resolves when stopped. */
  stop(): Promise<void>;
  /** The port metrics are served on, if any. */
  readonly metricsPort: number | undefined;
}

/**
 * Runs compaction (what `floe compact` runs): once over `tables` (or every table with `all`),
 * or, with `schedule` (a cron expression such as `0 * * * *`, hourly), on that schedule until
 * stopped. Each table is compacted with {@link compactTable}, then the maintenance asked for
 * (`expire`, `removeOrphansOlderThanMs`, `rewriteManifests`, `rewritePositionDeletesMinFiles`)
 * runs. One line per table is passed to `out`; JSON logs go to `logStream` (default stderr).
 * A single run fails (`done` rejects) on the first table that fails; a scheduled service logs
 * the failure and goes on with the other tables and the next run.
 *
 * @example
 * ```ts
 * import { startCompaction } from 'floe/compaction';
 *
 * const service = await startCompaction(catalog, {
 *   tables: [parseTableIdentifier('shop.orders')],
 *   schedule: '0 * * * *',            // hourly; leave out for a single run
 *   expire: { olderThanMs: 7 * 86_400_000 },
 * }, (line) => console.log(line));
 * // later: await service.stop();
 * const reports = await service.done;
 * ```
 */
export async function startCompaction(catalog: Catalog, o: CompactServiceOptions, out: (line: string) => void, logStream: NodeJS.WritableStream = process.stderr): Promise<CompactService> {
  const showProgress = o.progress ?? (Boolean((process.stderr as { isTTY?: boolean }).isTTY) && !o.json);
  // With a progress bar on the terminal, only warnings and errors are logged (as JSON lines).
  const log = pino({ base: { service: 'floe-compact' }, level: showProgress ? 'warn' : 'info' }, logStream as pino.DestinationStream);
  const metrics = new CompactionMetrics();
  const server: MetricsServer | undefined = o.metricsPort !== undefined ? await serveMetrics(metrics.registry, o.metricsPort) : undefined;
  if (server) {
    log.info({ port: server.port }, 'metrics on /metrics');
    if (showProgress) out(`metrics on http://127.0.0.1:${server.port}/metrics`);
  }

  const uploadsChecked = new Set<string>();
  const abortStaleUploads = async (id: TableIdentifier, name: string): Promise<void> => {
    if (uploadsChecked.has(name) || !catalog.io.abortStaleUploads || o.dryRun) return;
    uploadsChecked.add(name);
    try {
      const location = (await catalog.loadTable(id)).metadata.location;
      const aborted = await catalog.io.abortStaleUploads(location, Date.now() - STALE_UPLOAD_AGE_MS);
      if (aborted > 0) log.info({ table: name, aborted }, 'aborted stale multipart uploads');
    } catch (err) {
      log.warn({ table: name, err: err instanceof Error ? err.message : String(err) }, 'could not check for stale multipart uploads');
    }
  };

  const compactOne = async (id: TableIdentifier): Promise<CompactReport | undefined> => {
    const name = identifierToString(id);
    await abortStaleUploads(id, name);
    let bar: SingleBar | undefined;
    let groupsDone = 0;
    let groupsTotal = 0;
    let bytesDone = 0;
    const onEvent = (e: CompactionEvent): void => {
      if (e.type === 'planned') {
        groupsTotal = e.plan.groups.length;
        if (showProgress && !o.dryRun && groupsTotal > 0) {
          bar = new SingleBar({ format: `${name} |{bar}| {percentage}% | groups {groups} | {doneMiB}/{totalMiB} MiB | ETA {eta_formatted}`, hideCursor: true, etaBuffer: 50 });
          bar.start(e.plan.totalInputBytes, 0, { groups: `0/${groupsTotal}`, doneMiB: '0.0', totalMiB: (e.plan.totalInputBytes / MiB).toFixed(1) });
        }
        log.info({ table: name, groups: groupsTotal, inputFiles: e.plan.totalInputFiles, inputBytes: e.plan.totalInputBytes, expectedOutputFiles: e.plan.totalExpectedOutputFiles }, 'planned');
      } else if (e.type === 'input-bytes') {
        bytesDone += e.bytes;
        bar?.update(bytesDone, { doneMiB: (bytesDone / MiB).toFixed(1) });
      } else if (e.type === 'group-rewritten') {
        groupsDone++;
        bar?.update({ groups: `${groupsDone}/${groupsTotal}` });
        if (!bar) log.info({ table: name, group: groupsDone, of: groupsTotal, inputFiles: e.group.files.length, inputBytes: e.group.inputBytes, outputFiles: e.outputFiles, outputBytes: e.outputBytes, rowsDeleted: e.rowsDeleted }, 'group rewritten');
      } else if (e.type === 'committed') {
        log.info({ table: name, snapshotId: String(e.snapshotId), groups: e.groups, attempts: e.attempts, removedDeleteFiles: e.removedDeleteFiles }, 'committed');
      } else {
        log.warn({ table: name, groups: e.groups, reason: e.reason }, 'commit refused');
      }
    };
    let r: CompactReport;
    try {
      r = await compactTable(catalog, id, { ...o, onEvent });
      bar?.stop();
      if (o.dryRun) for (const line of describePlan(r)) out(line);
      else {
        metrics.recordRun(r);
        log.info({ ...r, plan: undefined, peakRssBytes: process.resourceUsage().maxRSS * 1024 }, 'compaction done');
        out(o.json ? JSON.stringify({ ...r, plan: { groups: r.plan.groups.length, inputFiles: r.plan.totalInputFiles, inputBytes: r.plan.totalInputBytes, expectedOutputFiles: r.plan.totalExpectedOutputFiles }, peakRssBytes: process.resourceUsage().maxRSS * 1024 }) : describeReport(r));
      }
    } catch (err) {
      bar?.stop();
      metrics.recordFailure(name);
      log.error({ table: name, err: err instanceof Error ? err.message : String(err) }, 'compaction failed');
      if (!o.schedule) throw err;
      return undefined;
    }
    // Apart from the compaction: its report above stays true when a maintenance step fails.
    try {
      await maintain(id, name);
    } catch (err) {
      log.error({ table: name, err: err instanceof Error ? err.message : String(err) }, 'maintenance failed');
      if (!o.schedule) throw err;
    }
    return r;
  };

  const maintain = async (id: TableIdentifier, name: string): Promise<void> => {
    if (o.dryRun) return;
    // First, so the delete files it replaces can expire in this same run.
    if (o.rewritePositionDeletesMinFiles !== undefined) {
      const r = await rewritePositionDeletes(catalog, id, { minInputFiles: o.rewritePositionDeletesMinFiles, ...(o.branch ? { branch: o.branch } : {}) });
      if (r.snapshotId !== null) log.info({ table: name, rewrittenDeleteFiles: r.rewrittenDeleteFiles, addedDeleteFiles: r.addedDeleteFiles, danglingDeletes: r.danglingDeletes }, 'position deletes rewritten');
    }
    if (o.expire) {
      const e = await expireSnapshots(catalog, id, { nowMs: Date.now(), ...o.expire });
      log.info({ table: name, expiredSnapshots: e.expiredSnapshots, deletedFiles: e.deletedFiles, leftFiles: e.leftFiles }, 'snapshots expired');
    }
    if (o.removeOrphansOlderThanMs !== undefined) {
      const r = await removeOrphanFiles(catalog, id, { nowMs: Date.now(), olderThanMs: o.removeOrphansOlderThanMs });
      log.info({ table: name, deletedFiles: r.deletedFiles, deletedBytes: r.deletedBytes }, 'orphans removed');
    }
    if (o.rewriteManifests) {
      const r = await rewriteManifests(catalog, id, o.branch ? { branch: o.branch } : {});
      log.info({ table: name, manifestsCreated: r.manifestsCreated, manifestsReplaced: r.manifestsReplaced }, 'manifests rewritten');
    }
  };

  const runOnce = async (): Promise<CompactReport[]> => {
    const targets = o.all ? await allTables(catalog) : o.tables;
    const reports: CompactReport[] = [];
    for (const id of targets) {
      const r = await compactOne(id);
      if (r) reports.push(r);
    }
    return reports;
  };

  if (!o.schedule) {
    const done = runOnce().finally(() => server?.close());
    return { done, stop: async () => undefined, metricsPort: server?.port };
  }

  let stopped!: () => void;
  const stoppedP = new Promise<void>((r) => { stopped = r; });
  const all: CompactReport[] = [];
  let running: Promise<unknown> = Promise.resolve();
  // protect: a run that outlasts the interval is not started twice.
  const job = new Cron(o.schedule, { protect: true }, async () => {
    running = runOnce().then((r) => all.push(...r));
    await running;
  });
  log.info({ schedule: o.schedule, next: job.nextRun()?.toISOString() }, 'compaction scheduled');
  const stop = async (): Promise<void> => {
    job.stop();
    await running.catch(() => undefined);
    stopped();
  };
  const done = stoppedP.then(async () => { await server?.close(); return all; });
  return { done, stop, metricsPort: server?.port };
}
