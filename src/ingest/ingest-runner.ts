// Runs an ingest pipeline from its config: one TableIngestor per route, the source (Kafka or
// NDJSON), metrics, JSON logs, and an orderly stop (SIGTERM/SIGINT: stop reading, commit the
// open batch with reason `shutdown`, leave the consumer group).
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import pino from 'pino';
import { faultPoint } from '../fault-points.ts';
import { parseJsonExact } from '../spec/json.ts';
import type { Catalog } from '../table/catalog.ts';
import { identifierToString, parseTableIdentifier } from '../table/identifier.ts';
import { DeadLetterTable } from './dead-letter-table.ts';
import type { IngestConfig } from './ingest-config.ts';
import { IngestMetrics } from './ingest-metrics.ts';
import { KafkaSource } from './kafka-source.ts';
import { DEFAULT_BATCHER_CONFIG, type BatcherConfig } from './micro-batcher.ts';
import { TableIngestor } from './table-ingestor.ts';

export interface RunningIngest {
  readonly metrics: IngestMetrics;
  readonly metricsPort: number | undefined;
  /** Resolves when the source ended (NDJSON) or the pipeline was stopped. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

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
  };
  const deadLetters = cfg.deadLetter ? await DeadLetterTable.open(catalog, parseTableIdentifier(cfg.deadLetter.table)) : undefined;
  let kafka: KafkaSource | undefined;

  const ingestors = await Promise.all(cfg.routes.map(async (route) => {
    const id = parseTableIdentifier(route.table);
    const table = identifierToString(id);
    const ingestor = await TableIngestor.open(catalog, id, {
      branch: route.branch, batcher, evolveSchema: route.evolveSchema, ...(deadLetters ? { deadLetters } : {}),
      events: {
        onCommit: async (info) => {
          metrics.batchCommitted(table, info);
          metrics.bufferedBytes.set({ table }, ingestor.bufferedBytes);
          metrics.windowMs.set({ table }, ingestor.windowMs);
          log.info({ table, reason: info.reason, records: info.records, deadLetters: info.deadLetters, staleDropped: info.trimmed, commitMs: Math.round(info.commitMs), attempts: info.attempts }, 'batch committed');
          faultPoint('ingest.before-offset-commit');
          if (kafka && route.topic) await kafka.committed(route.topic, info.offsets);
        },
        onStale: (info) => log.warn({ table, ...info }, 'dropped records another writer had already committed'),
        onSchemaChange: (changes) => log.info({ table, changes }, 'schema evolved'),
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

  if (cfg.source.type === 'kafka') {
    kafka = new KafkaSource({
      brokers: cfg.source.brokers, groupId: cfg.source.groupId, clientId: cfg.source.clientId, fromBeginning: cfg.source.fromBeginning,
      routes: ingestors.map((i) => ({ topic: i.route.topic!, ingestor: i.ingestor, ...(i.route.capture ? { capture: i.route.capture } : {}) })),
      log: (level, msg, fields) => log[level](fields ?? {}, msg),
      onLag: (topic, partition, lag) => metrics.lag.set({ topic, partition: String(partition) }, Number(lag)),
    });
    await kafka.start();
    log.info({ brokers: cfg.source.brokers, groupId: cfg.source.groupId, topics: cfg.routes.map((r) => r.topic) }, 'consuming');
  } else {
    const { ingestor } = ingestors[0]!;
    const path = cfg.source.path;
    void (async () => {
      const rl = createInterface({ input: path === '-' ? process.stdin : createReadStream(path, 'utf8'), crlfDelay: Infinity });
      let line = 0;
      for await (const text of rl) {
        line++;
        if (stopped) break;
        if (text.trim() === '') continue;
        let value: unknown;
        let decodeError: string | undefined;
        try { value = parseJsonExact(text); } catch (err) { decodeError = `line ${line}: invalid JSON (${err instanceof Error ? err.message : String(err)})`; }
        ingestor.offer({ value, raw: text, bytes: text.length + 64, line, ...(decodeError ? { decodeError } : {}) });
        if (ingestor.full) await ingestor.drained();
      }
      await stop();
    })().catch(async (err: unknown) => { log.error({ error: err instanceof Error ? err.message : String(err) }, 'ingest failed'); stopped = true; rejectDone(err); });
  }
  return { metrics, metricsPort, done, stop };
}
