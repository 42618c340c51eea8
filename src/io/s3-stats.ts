// Process-wide S3 counters, read by the metrics endpoints (floe_s3_*): how many calls each
// operation made, how many of them the SDK had to retry (throttling, 5xx, resets) and how many
// failed for good. An on-call person sees a throttled bucket here before ingest falls behind.

export interface S3OpStats { requests: number; retries: number; failures: number }

class S3Stats {
  readonly ops = new Map<string, S3OpStats>();
  bytesUploaded = 0;
  bytesDownloaded = 0;
  multipartAborted = 0;

  record(op: string, attempts: number, failed: boolean): void {
    let s = this.ops.get(op);
    if (!s) {
      s = { requests: 0, retries: 0, failures: 0 };
      this.ops.set(op, s);
    }
    s.requests += 1;
    s.retries += Math.max(0, attempts - 1);
    if (failed) s.failures += 1;
  }

  get retries(): number {
    let n = 0;
    for (const s of this.ops.values()) n += s.retries;
    return n;
  }
}

export const s3Stats = new S3Stats();
