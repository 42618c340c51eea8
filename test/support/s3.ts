// Test access to scripts/s3.sh: a SeaweedFS S3 server on loopback with one access key, started
// once per process and left running for the next test file (stop it with `npm run s3:down`; on
// CI scripts/test.sh stops it). Under CI=true a server that cannot be started is a failure,
// never a skip; outside CI too, unless FLOE_SKIP_S3=1, when s3Unavailable() returns the reason.
//
// Every test works in its own bucket (freshBucket), so test files can share the server.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  AbortMultipartUploadCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';

const execFileP = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const S3_SCRIPT = path.join(REPO_ROOT, 'scripts/s3.sh');

export interface S3Server {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

let started: Promise<S3Server> | undefined;

/** Starts the server with `scripts/s3.sh up` (once per process). */
export function ensureS3(): Promise<S3Server> {
  started ??= start();
  return started;
}

async function start(): Promise<S3Server> {
  let stdout: string;
  try {
    // The first run builds SeaweedFS from source (~10 minutes on 2 cores): give it time.
    ({ stdout } = await execFileP('bash', [S3_SCRIPT, 'up'], { timeout: 40 * 60_000, maxBuffer: 16 << 20 }));
  } catch (err) {
    const e = err as { code?: unknown; signal?: unknown; stdout?: string; stderr?: string; message: string };
    const detail = (e.stderr || e.stdout || e.message).trim().split('\n').slice(-15).join('\n');
    throw new Error(`scripts/s3.sh up failed (exit ${String(e.code ?? e.signal)}):\n${detail}`);
  }
  return parseUpLine(stdout);
}

/** Reads the last line `s3 up on <endpoint> access-key <k> secret-key <s> region <r>`. */
export function parseUpLine(stdout: string): S3Server {
  const m = /s3 up on (\S+) access-key (\S+) secret-key (\S+) region (\S+)/.exec(stdout);
  if (!m?.[1] || !m[2] || !m[3] || !m[4]) throw new Error(`scripts/s3.sh up printed no address:\n${stdout}`);
  return { endpoint: m[1], accessKeyId: m[2], secretAccessKey: m[3], region: m[4] };
}

/**
 * Whether S3 tests can run: undefined once the server is up. A server that cannot be started
 * throws, except outside CI with FLOE_SKIP_S3=1, where the reason is returned for
 * `describe(..., { skip })`.
 */
export async function s3Unavailable(): Promise<string | undefined> {
  try {
    await ensureS3();
    return undefined;
  } catch (err) {
    if (process.env.CI !== 'true' && process.env.FLOE_SKIP_S3 === '1') {
      return `S3 server unavailable (FLOE_SKIP_S3=1): ${(err as Error).message.split('\n').slice(-1)[0]}`;
    }
    throw err;
  }
}

/**
 * An S3Client for the server (or for a proxy in front of it: pass `endpoint`). Path-style
 * addressing (SeaweedFS has no virtual-host buckets here) and checksums only where an API
 * requires them (`requestChecksumCalculation: 'WHEN_REQUIRED'`, the mode floe's S3 FileIO uses).
 */
export function s3Client(server: S3Server, overrides: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...overrides,
  });
}

/** Creates a bucket no other test (nor an earlier run) uses; returns its name. */
export async function freshBucket(server: S3Server, prefix: string): Promise<string> {
  // Bucket names: 3-63 chars of lower-case letters, digits and '-'.
  const clean = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'floe';
  const name = `${clean}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const client = s3Client(server);
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    client.destroy();
  }
  return name;
}

/** Aborts the bucket's pending multipart uploads, deletes every object, then the bucket. */
export async function emptyAndDeleteBucket(server: S3Server, bucket: string): Promise<void> {
  const client = s3Client(server);
  try {
    for (;;) {
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      for (const u of uploads.Uploads ?? []) {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
      }
      if (!uploads.IsTruncated) break;
    }
    for (;;) {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
      if (keys.length > 0) {
        // DeleteObjects requires a checksum (Content-MD5 or x-amz-checksum-*): WHEN_REQUIRED sends one.
        const res = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
        if (res.Errors?.length) throw new Error(`emptying bucket ${bucket}: ${res.Errors.length} keys not deleted, first ${res.Errors[0]?.Key}: ${res.Errors[0]?.Code}`);
      }
      if (!page.IsTruncated) break;
    }
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}
