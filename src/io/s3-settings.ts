// S3 settings under Iceberg's own property names (Java's S3FileIOProperties), taken from the
// catalog's properties (a REST server's config, `--conf`), then FLOE_-prefixed environment
// variables (`s3.endpoint` ← FLOE_S3_ENDPOINT), then the AWS SDK's own chain (AWS_REGION,
// AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL_S3, profiles, instance roles). Secrets never leave this
// object: `describeS3Settings` is what logs, errors and `describe` may show.
import { ValidationError } from '../errors.ts';

export interface S3Settings {
  /** `s3.endpoint`: an S3-compatible server (SeaweedFS, MinIO); default AWS. */
  readonly endpoint?: string;
  /** `s3.path-style-access`: `http://host/bucket/key` instead of `http://bucket.host/key`. */
  readonly pathStyleAccess: boolean;
  /** `s3.region` / `client.region`. */
  readonly region?: string;
  /** `s3.access-key-id` + `s3.secret-access-key` (+ `s3.session-token`); else the SDK's chain. */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly sessionToken?: string;
  /** `s3.multipart.part-size-bytes` (Java default 32 MiB; at least 5 MiB, S3's minimum). */
  readonly partSizeBytes: number;
  /** `s3.multipart.threshold`: files from this many part sizes up are uploaded in parts (Java default 1.5). */
  readonly multipartThreshold: number;
  /** `s3.multipart.num-threads`: parts uploading at once per file (memory = part size × (this + 1)). */
  readonly uploadConcurrency: number;
  /** `s3.delete.batch-size` (keys per DeleteObjects call, at most 1,000). */
  readonly deleteBatchSize: number;
  /** `s3.retry.num-retries`, `s3.retry.min-wait-ms`, `s3.retry.max-wait-ms` (Java defaults 5, 2 s, 20 s). */
  readonly retries: number;
  readonly retryMinWaitMs: number;
  readonly retryMaxWaitMs: number;
  /** `s3.checksum-enabled`: `true` sends CRC checksums with every upload (AWS's WHEN_SUPPORTED);
   * default false, checksums only where S3 requires them (WHEN_REQUIRED), which every
   * S3-compatible server accepts. */
  readonly checksumEnabled: boolean;
}

const MIB = 1024 * 1024;

/** Every property this module reads, with the environment variable that can set it. */
export const S3_PROPERTIES = [
  's3.endpoint', 's3.path-style-access', 's3.region', 'client.region', 's3.access-key-id',
  's3.secret-access-key', 's3.session-token', 's3.multipart.part-size-bytes', 's3.multipart.threshold', 's3.multipart.num-threads',
  's3.delete.batch-size', 's3.retry.num-retries', 's3.retry.min-wait-ms', 's3.retry.max-wait-ms',
  's3.checksum-enabled',
] as const;

const SECRET = new Set(['s3.secret-access-key', 's3.session-token']);

export function envNameOf(property: string): string {
  return `FLOE_${property.toUpperCase().replace(/[.-]/g, '_')}`;
}

/** Properties from the environment (FLOE_S3_ENDPOINT …), for those the caller did not set. */
export function s3PropertiesFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of S3_PROPERTIES) {
    const v = env[envNameOf(p)];
    if (v !== undefined && v !== '') out[p] = v;
  }
  return out;
}

export function s3Settings(props: Readonly<Record<string, string | undefined>>): S3Settings {
  const int = (name: string, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = props[name];
    if (raw === undefined || raw === '') return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new ValidationError(`${name}: '${raw}' is not an integer from ${min} to ${max}`);
    return n;
  };
  const num = (name: string, dflt: number, min: number): number => {
    const raw = props[name];
    if (raw === undefined || raw === '') return dflt;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new ValidationError(`${name}: '${raw}' is not a number of at least ${min}`);
    return n;
  };
  const bool = (name: string, dflt: boolean): boolean => {
    const raw = props[name]?.toLowerCase();
    if (raw === undefined || raw === '') return dflt;
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw new ValidationError(`${name}: '${props[name]}' is not true or false`);
  };
  const endpoint = props['s3.endpoint'];
  if (endpoint !== undefined && endpoint !== '') {
    // Shown without anything before an '@' (a password typed into the URL) nor a query.
    const shown = endpoint.replace(/\/\/[^/@]*@/, '//…@').replace(/[?#].*$/, '?…');
    let url: URL;
    try { url = new URL(endpoint); } catch { throw new ValidationError(`s3.endpoint: '${shown}' is not a URL (e.g. http://127.0.0.1:8333)`); }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ValidationError(`s3.endpoint: '${shown}' must start with http:// or https://`);
    if (url.username || url.password) throw new ValidationError(`s3.endpoint: put credentials in s3.access-key-id / s3.secret-access-key, not in the URL`);
    // A query would be sent with no request and printed in every error (a token pasted there
    // leaks); a path (often the bucket, typed into the endpoint) is put before every bucket by
    // the SDK: http://host/b + s3://b/key asks for bucket 'b' the key 'b/key' — errors that
    // never name the mistake.
    if (url.search || url.hash) throw new ValidationError(`s3.endpoint: '${shown}' has a query or fragment; give the server's address only (e.g. ${url.origin})`);
    if (url.pathname !== '/' && url.pathname !== '') {
      throw new ValidationError(`s3.endpoint: '${shown}' has a path ('${url.pathname}'); give the server's address only (${url.origin}): the bucket comes from the location (s3://bucket/…)`);
    }
  }
  const accessKeyId = props['s3.access-key-id'] || undefined;
  const secretAccessKey = props['s3.secret-access-key'] || undefined;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ValidationError(`S3 credentials: set both s3.access-key-id and s3.secret-access-key (or neither, for the AWS credential chain)`);
  }
  const minWait = int('s3.retry.min-wait-ms', 2000, 0);
  return {
    ...(endpoint ? { endpoint: endpoint.replace(/\/+$/, '') } : {}),
    pathStyleAccess: bool('s3.path-style-access', false),
    ...((props['s3.region'] || props['client.region']) ? { region: (props['s3.region'] || props['client.region'])! } : {}),
    ...(accessKeyId ? { accessKeyId } : {}),
    ...(secretAccessKey ? { secretAccessKey } : {}),
    ...(props['s3.session-token'] ? { sessionToken: props['s3.session-token'] } : {}),
    partSizeBytes: int('s3.multipart.part-size-bytes', 32 * MIB, 5 * MIB, 5 * 1024 * MIB),
    multipartThreshold: num('s3.multipart.threshold', 1.5, 1),
    uploadConcurrency: int('s3.multipart.num-threads', 2, 1, 64),
    deleteBatchSize: int('s3.delete.batch-size', 1000, 1, 1000),
    retries: int('s3.retry.num-retries', 5, 0, 100),
    retryMinWaitMs: minWait,
    retryMaxWaitMs: Math.max(minWait, int('s3.retry.max-wait-ms', 20_000, 0)),
    checksumEnabled: bool('s3.checksum-enabled', false),
  };
}

/** The settings as logs and `describe` may show them: secrets replaced, the key id shortened. */
export function describeS3Settings(s: S3Settings): Record<string, string> {
  return {
    's3.endpoint': s.endpoint ?? '(AWS)',
    's3.path-style-access': String(s.pathStyleAccess),
    's3.region': s.region ?? '(AWS chain)',
    's3.access-key-id': s.accessKeyId ? `${s.accessKeyId.slice(0, 4)}…` : '(AWS chain)',
    's3.secret-access-key': s.secretAccessKey ? '***' : '(AWS chain)',
  };
}

/** Catalog properties with every secret value masked (for `describe` and logs). */
export function redactProperties(props: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) out[k] = SECRET.has(k) || /secret|token|password|credential/i.test(k) ? '***' : v;
  return out;
}
