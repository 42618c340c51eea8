// Prometheus metrics an on-call person reads for an ingest pipeline, served over HTTP at
// /metrics: records in / committed / dead-lettered / dropped as stale, batches by flush
// reason, rows an upsert inserted / updated / deleted, commit latency, consumer lag and buffered bytes.
import { registerS3Metrics } from '../observability/s3-metrics.ts';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { serveMetrics, type MetricsServer } from '../observability/metrics-server.ts';
import { parquetWasmHeapBytes } from '../format/parquet-writer-properties.ts';
import { sharedEncoderPool } from '../workers/parquet-encoder-pool.ts';
import type { FlushReason } from './micro-batcher.ts';
import type { UpsertCounts } from './table-ingestor.ts';

/** An ingest pipeline's Prometheus metrics (`floe_ingest_*`), in their own registry. */
export class IngestMetrics {
  /** The registry holding them (serve it, or merge it into yours). */
  readonly registry = new Registry();
  readonly recordsReceived = new Counter({ name: 'floe_ingest_records_received_total', help: 'Records read from the source', labelNames: ['table'], registers: [this.registry] });
  readonly recordsCommitted = new Counter({ name: 'floe_ingest_records_committed_total', help: 'Records committed to the table', labelNames: ['table'], registers: [this.registry] });
  readonly recordsDeadLettered = new Counter({ name: 'floe_ingest_records_dead_lettered_total', help: 'Records sent to the dead-letter destination', labelNames: ['table'], registers: [this.registry] });
  readonly recordsStale = new Counter({ name: 'floe_ingest_records_stale_dropped_total', help: 'Records dropped because another writer had committed their offsets (after a rebalance)', labelNames: ['table'], registers: [this.registry] });
  readonly upsertedRows = new Counter({ name: 'floe_ingest_upserted_rows_total', help: 'Rows an upsert route inserted, updated (replaced) or deleted, by change; change="upserted": rows written without reading the table (write.upsert.enabled), insert or update unknown', labelNames: ['table', 'change'], registers: [this.registry] });
  readonly batches = new Counter({ name: 'floe_ingest_batches_total', help: 'Committed micro-batches by flush reason', labelNames: ['table', 'reason'], registers: [this.registry] });
  readonly commitSeconds = new Histogram({
    name: 'floe_ingest_commit_duration_seconds', help: 'Time to write and commit one micro-batch', labelNames: ['table'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry],
  });
  readonly commitConflicts = new Counter({ name: 'floe_ingest_commit_retries_total', help: 'Commit attempts that lost the race and were retried', labelNames: ['table'], registers: [this.registry] });
  readonly lag = new Gauge({ name: 'floe_ingest_consumer_lag', help: 'Messages behind the partition high watermark', labelNames: ['topic', 'partition'], registers: [this.registry] });
  readonly bufferedBytes = new Gauge({ name: 'floe_ingest_buffered_bytes', help: 'Bytes buffered or in flight, waiting to be committed', labelNames: ['table'], registers: [this.registry] });
  readonly windowMs = new Gauge({ name: 'floe_ingest_batch_window_ms', help: 'Current micro-batch time window (moves in adaptive mode)', labelNames: ['table'], registers: [this.registry] });
  readonly wapOutcomes = new Counter({ name: 'floe_ingest_wap_gates_total', help: 'Write-audit-publish: audit branch gates by outcome (published, quarantined)', labelNames: ['table', 'outcome'], registers: [this.registry] });
  readonly wapAuditSeconds = new Histogram({
    name: 'floe_ingest_wap_audit_duration_seconds', help: 'Write-audit-publish: time to audit the staged batches', labelNames: ['table'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry],
  });
  readonly wapPublishSeconds = new Histogram({
    name: 'floe_ingest_wap_publish_duration_seconds', help: 'Write-audit-publish: time to publish (or quarantine) the audited batches', labelNames: ['table'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry],
  });
  readonly wapStagedBatches = new Gauge({ name: 'floe_ingest_wap_staged_batches', help: 'Write-audit-publish: batches on the audit branch waiting for their audit', labelNames: ['table'], registers: [this.registry] });
  /** Memory the default process metrics (floe_process_resident_memory_bytes, floe_nodejs_heap_*,
   * floe_nodejs_external_memory_bytes) do not show: parquet-wasm's linear memory, which grows to
   * the largest file encoded and is never given back — on this thread, and in the encoder workers. */
  readonly wasmMemory = new Gauge({
    name: 'floe_ingest_wasm_memory_bytes', help: 'parquet-wasm linear memory (grows to the largest file encoded, never shrinks), by thread: main, or encoders (all encoder workers)',
    labelNames: ['thread'], registers: [this.registry],
    collect() {
      this.set({ thread: 'main' }, parquetWasmHeapBytes());
      this.set({ thread: 'encoders' }, sharedEncoderPool()?.wasmHeapBytes ?? 0);
    },
  });
  private server: MetricsServer | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'floe_' });
    registerS3Metrics(this.registry);
  }

  /** Counts a committed batch. */
  batchCommitted(table: string, o: { reason: FlushReason; records: number; deadLetters: number; trimmed: number; commitMs: number; attempts: number; upserted?: UpsertCounts }): void {
    if (o.upserted) {
      this.upsertedRows.inc({ table, change: 'inserted' }, o.upserted.inserted);
      this.upsertedRows.inc({ table, change: 'updated' }, o.upserted.updated);
      this.upsertedRows.inc({ table, change: 'deleted' }, o.upserted.deleted);
      const unread = o.upserted.upserted - o.upserted.inserted - o.upserted.updated;
      if (unread > 0) this.upsertedRows.inc({ table, change: 'upserted' }, unread);
    }
    this.recordsCommitted.inc({ table }, o.records);
    this.recordsDeadLettered.inc({ table }, o.deadLetters);
    this.recordsStale.inc({ table }, o.trimmed);
    this.batches.inc({ table, reason: o.reason });
    this.commitSeconds.observe({ table }, o.commitMs / 1000);
    if (o.attempts > 1) this.commitConflicts.inc({ table }, o.attempts - 1);
  }

  /** Counts a write-audit-publish gate. */
  wapGated(table: string, r: { outcome: string; auditMs: number; publishMs: number }): void {
    if (r.outcome === 'nothing') return;
    this.wapOutcomes.inc({ table, outcome: r.outcome });
    this.wapAuditSeconds.observe({ table }, r.auditMs / 1000);
    this.wapPublishSeconds.observe({ table }, r.publishMs / 1000);
  }

  /** Serves /metrics on the port (0 = any free port); resolves to the port. */
  async serve(port: number, host = '127.0.0.1'): Promise<number> {
    this.server = await serveMetrics(this.registry, port, host);
    return this.server.port;
  }

  /** Stops serving /metrics. */
  async close(): Promise<void> {
    await this.server?.close();
  }
}
