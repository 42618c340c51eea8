/**
 * `floe/ingest`: streaming ingest from Kafka or NDJSON into Iceberg tables, in micro-batches,
 * exactly once (each commit records its source offsets). {@link startIngest} runs a whole
 * pipeline from a config, as `floe ingest` does; {@link TableIngestor} is the building block for
 * feeding records from a source of your own.
 * @module floe/ingest
 */
export { startIngest } from '../src/ingest/ingest-runner.ts';
export type { RunningIngest } from '../src/ingest/ingest-runner.ts';
export { ingestConfigFrom, loadIngestConfig, parseIngestConfig } from '../src/ingest/ingest-config.ts';
export type { IngestConfig, IngestConfigInput } from '../src/ingest/ingest-config.ts';
export { TableIngestor } from '../src/ingest/table-ingestor.ts';
export type {
  DeadLetter, DeadLetterSink, IngestEvents, SourcePosition, SourceRecord, TableIngestorOptions, UpsertCounts,
} from '../src/ingest/table-ingestor.ts';
export { DEFAULT_BATCHER_CONFIG } from '../src/ingest/micro-batcher.ts';
export type { BatcherConfig, FlushReason } from '../src/ingest/micro-batcher.ts';
export type { IngestMetrics } from '../src/ingest/ingest-metrics.ts';
export type { UpsertMergeOptions } from '../src/ingest/exactly-once-merge.ts';
export type { WapBatchOptions, WapGate, WapGateResult } from '../src/ingest/wap-batches.ts';
export type { OffsetRange } from '../src/ingest/source-offsets.ts';
