// `floe/ingest`: micro-batching ingest from Kafka or NDJSON into Iceberg tables.
export { TableIngestor } from '../src/ingest/table-ingestor.ts';
