// Prometheus counters for write-audit-publish, registered like the ingest metrics (one registry
// per owner): the ingest runner passes its registry so they are served with the rest on
// /metrics; the CLI uses a registry of its own.
import { Counter, Registry } from 'prom-client';

/** How a publish moved main: `fast-forward`, `reapplied` on a moved main, or `nothing`. */
export type PublishKind = 'fast-forward' | 'reapplied' | 'nothing';

export class WapMetrics {
  readonly quarantinedBatches: Counter<'table'>;
  readonly publishedBatches: Counter<'table' | 'kind'>;

  constructor(readonly registry: Registry = new Registry()) {
    this.quarantinedBatches = new Counter({ name: 'floe_wap_quarantined_batches_total', help: 'Audit branches moved to quarantine (their batch failed its audit and was not published)', labelNames: ['table'], registers: [registry] });
    this.publishedBatches = new Counter({ name: 'floe_wap_published_batches_total', help: 'Branch publishes to main by kind: fast-forward, reapplied (main had moved), nothing (nothing new on the branch)', labelNames: ['table', 'kind'], registers: [registry] });
  }
}

let defaultMetrics: WapMetrics | undefined;
/** The process-wide metrics used when a caller passes none. */
export function wapMetrics(): WapMetrics {
  defaultMetrics ??= new WapMetrics();
  return defaultMetrics;
}
