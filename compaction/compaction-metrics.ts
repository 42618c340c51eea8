// Prometheus metrics of the compaction service: what an on-call person needs to see that
// compaction keeps up (files and bytes rewritten, last success per table) and why it may not
// (failed runs, commit conflicts, retries, duration).
import { registerS3Metrics } from '../src/observability/s3-metrics.ts';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CompactReport } from './compact-table.ts';

export class CompactionMetrics {
  readonly registry = new Registry();
  readonly runs = new Counter({ name: 'floe_compaction_runs_total', help: 'Compaction runs by result (ok, failed, nothing-to-do)', labelNames: ['table', 'result'], registers: [this.registry] });
  readonly filesRewritten = new Counter({ name: 'floe_compaction_files_rewritten_total', help: 'Data files replaced by compaction', labelNames: ['table'], registers: [this.registry] });
  readonly bytesRewritten = new Counter({ name: 'floe_compaction_bytes_rewritten_total', help: 'Bytes of data files replaced by compaction', labelNames: ['table'], registers: [this.registry] });
  readonly filesAdded = new Counter({ name: 'floe_compaction_files_added_total', help: 'Data files written by compaction', labelNames: ['table'], registers: [this.registry] });
  readonly bytesAdded = new Counter({ name: 'floe_compaction_bytes_added_total', help: 'Bytes of data files written by compaction', labelNames: ['table'], registers: [this.registry] });
  readonly commits = new Counter({ name: 'floe_compaction_commits_total', help: 'Replace snapshots committed', labelNames: ['table'], registers: [this.registry] });
  readonly conflicts = new Counter({ name: 'floe_compaction_commit_conflicts_total', help: 'Commit attempts that met a concurrent commit and were re-based (retries)', labelNames: ['table'], registers: [this.registry] });
  readonly failedGroups = new Counter({ name: 'floe_compaction_failed_groups_total', help: 'File groups whose commit was refused (e.g. inputs removed concurrently)', labelNames: ['table'], registers: [this.registry] });
  readonly duration = new Histogram({
    name: 'floe_compaction_duration_seconds', help: 'Duration of one table compaction run', labelNames: ['table'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600], registers: [this.registry],
  });
  readonly lastSuccess = new Gauge({ name: 'floe_compaction_last_success_timestamp_seconds', help: 'When the table was last compacted successfully', labelNames: ['table'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'floe_' });
    registerS3Metrics(this.registry);
  }

  recordRun(r: CompactReport): void {
    const table = r.table;
    this.runs.inc({ table, result: r.plan.groups.length === 0 ? 'nothing-to-do' : 'ok' });
    this.filesRewritten.inc({ table }, r.rewrittenFiles);
    this.bytesRewritten.inc({ table }, r.rewrittenBytes);
    this.filesAdded.inc({ table }, r.addedFiles);
    this.bytesAdded.inc({ table }, r.addedBytes);
    this.commits.inc({ table }, r.commits);
    this.conflicts.inc({ table }, r.conflicts);
    this.failedGroups.inc({ table }, r.failedGroups);
    this.duration.observe({ table }, r.durationMs / 1000);
    this.lastSuccess.set({ table }, Date.now() / 1000);
  }

  recordFailure(table: string): void {
    this.runs.inc({ table, result: 'failed' });
  }
}
