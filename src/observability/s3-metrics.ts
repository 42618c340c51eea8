// floe_s3_* metrics on a service's /metrics, read from the process-wide S3 counters at scrape
// time: calls, SDK retries (throttling, 5xx, resets) and failures per S3 operation, bytes moved,
// and multipart uploads aborted.
import { Counter, type Registry } from 'prom-client';
import { s3Stats } from '../io/s3-stats.ts';

export function registerS3Metrics(registry: Registry): void {
  const perOp = (name: string, help: string, pick: (s: { requests: number; retries: number; failures: number }) => number): void => {
    new Counter({
      name, help, labelNames: ['operation'], registers: [registry],
      collect() {
        this.reset();
        for (const [operation, s] of s3Stats.ops) this.inc({ operation }, pick(s));
      },
    });
  };
  perOp('floe_s3_requests_total', 'S3 calls by operation (PutObject, UploadPart, GetObject, …), each counted once however often it was retried', (s) => s.requests);
  perOp('floe_s3_retries_total', 'S3 attempts retried by the SDK after throttling (503 SlowDown), 5xx or a connection reset, by operation', (s) => s.retries);
  perOp('floe_s3_failures_total', 'S3 calls that failed after their retries, by operation', (s) => s.failures);
  const total = (name: string, help: string, read: () => number): void => {
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read()); } });
  };
  total('floe_s3_uploaded_bytes_total', 'Bytes uploaded to S3 (PutObject and multipart parts)', () => s3Stats.bytesUploaded);
  total('floe_s3_downloaded_bytes_total', 'Bytes read from S3 (whole objects and ranges)', () => s3Stats.bytesDownloaded);
  total('floe_s3_multipart_aborted_total', 'Multipart uploads aborted (failed files, and stale uploads a killed writer left)', () => s3Stats.multipartAborted);
}
