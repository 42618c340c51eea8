// Runs an ingest pipeline from its config: one TableIngestor per route, the source (Kafka or
// NDJSON), metrics, JSON logs, and an orderly stop (SIGTERM/SIGINT: stop reading, commit the
// open batch with reason `shutdown`, leave the consumer group).
import pino from 'pino';
import { faultPoint } from '../fault-points.ts';
import { fileChunks, splitLines, streamChunks, type Line } from '../io/line-reader.ts';
import { parseJsonExact } from '../spec/json.ts';
import { requireKey } from '../merge/merge-records.ts';
import { currentSchema } from '../spec/table-metadata.ts';
import type { Catalog } from '../table/catalog.ts';
import { identifierToString, parseTableIdentifier } from '../table/identifier.ts';
import { DeadLetterTable } from './dead-letter-table.ts';
import { FILE_PARTITION, FileSource, fingerprintSummary, recordedFilePosition } from './file-source.ts';
import type { IngestConfig, UpsertConfig } from './ingest-config.ts';
import { wapBatchOptions } from './wap-route.ts';
import type { UpsertMergeOptions } from './exactly-once-merge.ts';
import { IngestMetrics } from './ingest-metrics.ts';
import { KafkaSource, kafkaReviver } from './kafka-source.ts';
import { DEFAULT_BATCHER_CONFIG, type BatcherConfig } from './micro-batcher.ts';
import { TableIngestor, type SourceRecord } from './table-ingestor.ts';

/** A running ingest pipeline, as returned by {@link startIngest}. */
export interface RunningIngest {
  /** The pipeline's Prometheus metrics. */
  readonly metrics: IngestMetrics;
  /** The port /metrics is served on (config `metrics.port`; 0 picks a free one), if any. */
  readonly metricsPort: number | undefined;
  /** Resolves when the source ended (NDJSON) or the pipeline was stopped. */
  readonly done: Promise<void>;
  /** Stops reading, commits the open batch (flush reason `shutdown`), leaves the consumer group
   * and resolves when done; `done` resolves too. */
  stop(): Promise<void>;
}

function upsertOptions(u: UpsertConfig): UpsertMergeOptions {
  return { format: u.format, ...(u.opField !== undefined ? { opField: u.opField } : {}), ...(u.orderBy !== undefined ? { orderBy: u.orderBy } : {}), ...(u.mode ? { mode: u.mode } : {}) };
}

/**
 * Starts an ingest pipeline (what `floe ingest` runs): one {@link TableIngestor} per route, the
 * source (a Kafka consumer group, or an NDJSON file that resumes where the table's history says
 * it stopped), Prometheus metrics and JSON logs (pino, to `opts.logStream`, default stderr).
 * Records are committed in micro-batches, exactly once: every commit carries its source offsets
 * in the snapshot summary and a restart resumes from the table's offsets, not Kafka's.
 * Records that do not fit the schema go to the `deadLetter` table (or fail the pipeline
 * without one). Call `stop()` for an orderly shutdown (it does not install signal handlers).
 *
 * @throws {@link floe!ValidationError} for an upsert route on a table without a key, or an NDJSON
 * file replaced since its recorded position; {@link floe!NotFoundError} for a missing table.
 * @example
 * ```ts
 * import { openCatalog } from 'floe';
 * import { ingestConfigFrom, startIngest } from 'floe/ingest';
 *
 * const catalog = await openCatalog({ warehouse: './warehouse' });
 * const ingest = await startIngest(catalog, ingestConfigFrom({
 *   source: { type: 'kafka', brokers: ['localhost:9092'], groupId: 'orders-sink' },
 *   routes: [{ topic: 'orders', table: 'shop.orders' }],
 * }));
 * process.once('SIGTERM', () => void ingest.stop());
 * await ingest.done;
 * await catalog.close();
 * ```
 */
export async function startIngest(catalog: Catalog, cfg: IngestConfig, opts: { logStream?: NodeJS.WritableStream } = {}): Promise<RunningIngest> {
  const log = pino({ base: { service: 'floe-ingest' } }, opts.logStream ?? process.stderr);
  const metrics = new IngestMetrics();
  const batcher: BatcherConfig = {
    ...DEFAULT_BATCHER_CONFIG,
    windowMs: cfg.batch.windowMs,
    maxRecords: cfg.batch.maxRecords,
    maxBytes: cfg.batch.maxBytes,
    bufferLimitBytes: cfg.batch.bufferLimitBytes ?? 2 * cfg.batch.maxBytes,
    ...(cfg.batch.adaptive ? { adaptive: cfg.batch.adaptive } : {}),
    ...(cfg.batch.caughtUpFlushMs !== undefined ? { caughtUpFlushMs: cfg.batch.caughtUpFlushMs } : {}),
  };
  // An upsert route needs a key: refused before anything is opened or created.
  for (const route of cfg.routes) {
    if (route.upsert) requireKey(currentSchema((await catalog.loadTable(parseTableIdentifier(route.table))).metadata), parseTableIdentifier(route.table));
  }
  // An NDJSON file resumes where the table's history says it stopped; this is checked before
  // anything starts, so a replaced file is refused without side effects.
  let lines: AsyncIterable<Line> | undefined;
  let file: FileSource | undefined;
  if (cfg.source.type === 'ndjson') {
    const route = cfg.routes[0]!;
    if (cfg.source.path === '-') {
      log.warn('reading stdin: it cannot be resumed (a stream has no identity or position), so nothing is recorded and a rerun appends every line again');
      lines = splitLines(streamChunks(process.stdin));
    } else {
      file = await FileSource.open(cfg.source.path);
      try {
        const recorded = recordedFilePosition((await catalog.loadTable(parseTableIdentifier(route.table))).metadata, route.wap?.branch ?? route.branch, file.sourceId);
        const start = await file.resumeFrom(recorded);
        const at = { file: file.path, source: file.sourceId, offset: start.offset.toString(), line: start.line, size: file.size.toString(), ...(recorded ? { snapshotId: recorded.snapshotId.toString() } : {}) };
        if (!recorded) log.info(at, 'no position recorded for this file: reading from the start');
        else if (start.finished) log.info(at, 'file already ingested up to its end: nothing to add');
        else log.info(at, 'resuming the file at the recorded position');
        if (!start.sameInode) log.warn(at, 'same bytes under a different device/inode (copied or restored?): treated as the same file');
        lines = splitLines(fileChunks(file.handle, start.offset), start.offset, start.line);
      } catch (err) {
        await file.close();
        throw err;
      }
    }
  }
  const fileSummary = file ? async (items: readonly SourceRecord[]): Promise<Record<string, string>> => {
    const last = items.at(-1);
    if (!last?.position?.next || last.line === undefined) return {};
    return fingerprintSummary(file.sourceId, await file.fingerprintAt(last.position.next, last.line + 1));
  } : undefined;

  // A record's value decoded again from its payload, as the source decoded it: lets each
  // append batch be converted while it fills (see TableIngestor's `revive`).
  const reviverFor = (route: IngestConfig['routes'][number]): ((r: SourceRecord) => unknown) | undefined => {
    if (cfg.source.type === 'kafka') return route.topic ? kafkaReviver(cfg.source.groupId, route.topic, route.capture) : undefined;
    return (r) => parseJsonExact(r.raw as string);
  };

  const deadLetters = cfg.deadLetter ? await DeadLetterTable.open(catalog, parseTableIdentifier(cfg.deadLetter.table)) : undefined;
  let kafka: KafkaSource | undefined;

  const ingestors = await Promise.all(cfg.routes.map(async (route) => {
    const id = parseTableIdentifier(route.table);
    const table = identifierToString(id);
    // The check file is read (and its columns and SQL validated) before anything is consumed.
    const wap = route.wap ? await wapBatchOptions(catalog, id, route.wap) : undefined;
    const ingestor = await TableIngestor.open(catalog, id, {
      ...(wap ? { wap } : {}),
      branch: route.branch, batcher, evolveSchema: route.evolveSchema, ...(deadLetters ? { deadLetters } : {}),
      ...(route.upsert ? { upsert: upsertOptions(route.upsert) } : {}),
      ...(fileSummary ? { sourceSummary: fileSummary } : {}),
      ...(reviverFor(route) ? { revive: reviverFor(route)! } : {}),
      events: {
        onCommit: async (info) => {
          metrics.batchCommitted(table, info);
          metrics.bufferedBytes.set({ table }, ingestor.bufferedBytes);
          metrics.windowMs.set({ table }, ingestor.windowMs);
          log.info({ table, reason: info.reason, records: info.records, deadLetters: info.deadLetters, staleDropped: info.trimmed, commitMs: Math.round(info.commitMs), attempts: info.attempts, ...(info.upserted ?? {}) }, 'batch committed');
          faultPoint('ingest.before-offset-commit');
          if (kafka && route.topic) await kafka.committed(route.topic, info.offsets);
        },
        onStale: (info) => log.warn({ table, ...info }, 'dropped records another writer had already committed'),
        onSchemaChange: (changes) => log.info({ table, changes }, 'schema evolved'),
        onStaged: () => { if (route.wap) metrics.wapStagedBatches.inc({ table }); },
        onFailure: (err) => fail(err),
        onWap: (r) => {
          metrics.wapGated(table, r);
          metrics.wapStagedBatches.set({ table }, 0);
          const fields = { table, branch: r.branch, auditMs: Math.round(r.auditMs), publishMs: Math.round(r.publishMs), checks: r.checks };
          if (r.outcome === 'published') log.info({ ...fields, publish: r.publishKind, snapshots: r.publishedSnapshots }, 'audit passed: batches published to main');
          else if (r.outcome === 'quarantined') log.warn({ ...fields, quarantineBranch: r.quarantineBranch, failedChecks: r.failedChecks }, `audit failed: batches quarantined on ${r.quarantineBranch} (${r.failedChecks.join(', ')}); main untouched`);
        },
      },
    });
    return { route, ingestor, table };
  }));
  const metricsPort = cfg.metrics ? await metrics.serve(cfg.metrics.port, cfg.metrics.host) : undefined;
  if (metricsPort !== undefined) log.info({ port: metricsPort }, 'metrics on /metrics');

  // Received counts are synced once a second instead of a metrics call per record.
  const reported = new Map<string, number>();
  const syncReceived = (): void => {
    for (const i of ingestors) {
      const n = i.ingestor.counts.received;
      metrics.recordsReceived.inc({ table: i.table }, n - (reported.get(i.table) ?? 0));
      reported.set(i.table, n);
      metrics.bufferedBytes.set({ table: i.table }, i.ingestor.bufferedBytes);
    }
  };
  const syncTimer = setInterval(syncReceived, 1000);
  syncTimer.unref();

  let stopped = false;
  let resolveDone!: () => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<void>((res, rej) => { resolveDone = res; rejectDone = rej; });
  const stop = async (): Promise<void> => {
    if (stopped) return done;
    stopped = true;
    log.info('stopping: committing open batches');
    try {
      if (kafka) await kafka.stop();
      else for (const i of ingestors) await i.ingestor.close();
      clearInterval(syncTimer);
      syncReceived();
      await metrics.close();
      log.info({ counts: Object.fromEntries(ingestors.map((i) => [i.table, i.ingestor.counts])) }, 'stopped');
      resolveDone();
    } catch (err) {
      log.error({ error: err instanceof Error ? err.message : String(err) }, 'stop failed');
      rejectDone(err);
    }
    return done;
  };
  /** A batch that failed for good (its S3/catalog retries spent) or a source that failed: no
   * later batch can be committed, so the pipeline stops and `floe ingest` exits non-zero for its
   * supervisor to restart it — it resumes from the offsets the table holds. Staying up would
   * keep a consumer in the group that commits nothing, with no error in the log. */
  function fail(err: unknown): void {
    if (stopped) return; // an orderly stop reports its own failure
    stopped = true;
    log.error({ error: err instanceof Error ? err.message : String(err) }, 'ingest failed, stopping: no later batch can be committed (a restart resumes from the offsets the table holds)');
    void (async () => {
      try {
        if (kafka) await kafka.abort();
      } catch (e) {
        log.warn({ error: e instanceof Error ? e.message : String(e) }, 'leaving the consumer group failed');
      } finally {
        clearInterval(syncTimer);
        await metrics.close().catch(() => undefined);
        rejectDone(err);
      }
    })();
  }

  if (cfg.source.type === 'kafka') {
    kafka = new KafkaSource({
      brokers: cfg.source.brokers, groupId: cfg.source.groupId, clientId: cfg.source.clientId, fromBeginning: cfg.source.fromBeginning, sessionTimeoutMs: cfg.source.sessionTimeoutMs,
      fetch: { fetchMaxWaitMs: cfg.source.fetchMaxWaitMs, fetchMinBytes: cfg.source.fetchMinBytes, fetchMaxBytes: cfg.source.fetchMaxBytes, maxPartitionFetchBytes: cfg.source.maxPartitionFetchBytes },
      routes: ingestors.map((i) => ({ topic: i.route.topic!, ingestor: i.ingestor, ...(i.route.capture ? { capture: i.route.capture } : {}) })),
      log: (level, msg, fields) => log[level](fields ?? {}, msg),
      onLag: (topic, partition, lag) => metrics.lag.set({ topic, partition: String(partition) }, Number(lag)),
      onError: (err) => fail(err),
    });
    await kafka.start();
    log.info({ brokers: cfg.source.brokers, groupId: cfg.source.groupId, topics: cfg.routes.map((r) => r.topic) }, 'consuming');
  } else {
    const { ingestor } = ingestors[0]!;
    const source = file;
    void (async () => {
      for await (const { text, start, end, line, invalidUtf8 } of lines!) {
        if (stopped) break;
        if (text.trim() === '') continue;
        let value: unknown;
        let decodeError: string | undefined;
        if (invalidUtf8) decodeError = `line ${line}: invalid UTF-8 (its bad bytes show as U+FFFD in the payload)`;
        else try { value = parseJsonExact(text); } catch (err) { decodeError = `line ${line}: invalid JSON (${err instanceof Error ? err.message : String(err)})`; }
        ingestor.offer({
          value, raw: text, bytes: text.length + 64, line,
          // A line's position is its first byte; the batch records the byte after its last line.
          ...(source ? { position: { sourceId: source.sourceId, partition: FILE_PARTITION, offset: start, next: end } } : {}),
          ...(decodeError ? { decodeError } : {}),
        });
        if (ingestor.full) await ingestor.drained();
      }
      await stop();
    })().finally(() => file?.close()).catch(async (err: unknown) => { log.error({ error: err instanceof Error ? err.message : String(err) }, 'ingest failed'); stopped = true; rejectDone(err); });
  }
  return { metrics, metricsPort, done, stop };
}
