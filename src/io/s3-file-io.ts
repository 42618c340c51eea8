// FileIO on S3 and S3-compatible servers (SeaweedFS, MinIO, Ceph) through @aws-sdk/client-s3.
// - Every create is conditional (`If-None-Match: *`): metadata, manifests and data files are never
//   overwritten; a retried PUT whose first answer was lost finds its own bytes and succeeds.
// - Large files stream through multipart upload with bounded memory (see s3-multipart-output.ts).
// - Reads of large files are ranged (RangedBlob); deletes are batched (DeleteObjects); listing is
//   paginated. Throttling (503 SlowDown), 5xx and connection resets are retried by the SDK with
//   exponential backoff and jitter between s3.retry.min-wait-ms and s3.retry.max-wait-ms.
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import {
  AbortMultipartUploadCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand,
  ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { AlreadyExistsError, FileIOError } from '../errors.ts';
import type { FileInfo, FileIO, OutputFile, RandomAccessBlob } from './file-io.ts';
import { RangedBlob } from './ranged-blob.ts';
import { attemptsOf, isNotFound, isPreconditionFailed, s3Error, statusOf } from './s3-errors.ts';
import { parseS3Uri, s3Uri, type S3Location } from './s3-location.ts';
import { createMultipartOutput } from './s3-multipart-output.ts';
import type { S3Settings } from './s3-settings.ts';
import { s3Stats } from './s3-stats.ts';

/**
 * A key as a listing returns it. Listings are asked for `EncodingType=url`: XML 1.0 cannot carry
 * every character a key may hold (a control character came back as U+FFFD, a key that does
 * not exist, so orphan removal "deleted" it and left the file). S3 then form-encodes keys
 * (space as `+`, `+` as %2B; SeaweedFS writes %20): decoded as form data. A server that ignores
 * the request says so by not echoing the encoding type, and its keys are taken as they are.
 */
export function listedKey(key: string, encodingType: string | undefined): string {
  if (encodingType?.toLowerCase() !== 'url') return key;
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key; // not encoded after all (a '%' without two hex digits): taken as it is
  }
}

export class S3FileIO implements FileIO {
  readonly client: S3Client;
  /** The endpoint as errors may show it (never credentials). */
  readonly endpointLabel: string;

  constructor(readonly settings: S3Settings, client?: S3Client) {
    this.client = client ?? new S3Client(s3ClientConfig(settings));
    this.endpointLabel = settings.endpoint ?? `AWS S3${settings.region ? ` (${settings.region})` : ''}`;
  }

  /** Runs one SDK call, counting its attempts, and maps its failure to a one-line FloeError. */
  async call<T>(op: string, uri: string, fn: () => Promise<T>): Promise<T> {
    try {
      const out = await fn();
      s3Stats.record(op, (out as { $metadata?: { attempts?: number } })?.$metadata?.attempts ?? 1, false);
      return out;
    } catch (err) {
      s3Stats.record(op, attemptsOf(err), true);
      throw Object.assign(s3Error(op, uri, err, this.endpointLabel), { sdkError: err });
    }
  }

  /** Like `call`, but hands back the SDK's own error for the caller to inspect (404, 412). */
  async callRaw<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      const out = await fn();
      s3Stats.record(op, (out as { $metadata?: { attempts?: number } })?.$metadata?.attempts ?? 1, false);
      return out;
    } catch (err) {
      s3Stats.record(op, attemptsOf(err), !isNotFound(err) && !isPreconditionFailed(err));
      throw err;
    }
  }

  async read(uri: string): Promise<Uint8Array> {
    const { bucket, key } = parseS3Uri(uri);
    return this.call('GetObject', uri, async () => {
      const res = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = await res.Body!.transformToByteArray();
      s3Stats.bytesDownloaded += bytes.length;
      return Object.assign(bytes, { $metadata: res.$metadata });
    }).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  }

  async readRange(uri: string, start: number, endExclusive: number, ifMatch?: string): Promise<Uint8Array> {
    const { bucket, key } = parseS3Uri(uri);
    return this.call('GetObject', uri, async () => {
      const changed = (): FileIOError => new FileIOError(`cannot read ${uri}: the object changed since it was opened (replaced while being read: ETag ${ifMatch} no longer matches)`);
      let res;
      try {
        res = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${endExclusive - 1}`, ...(ifMatch ? { IfMatch: ifMatch } : {}) }));
      } catch (err) {
        // If-Match failed: the object was replaced after openBlob sized it (its bytes would mix two files).
        if (ifMatch && isPreconditionFailed(err)) throw changed();
        throw err;
      }
      // A server that ignores If-Match still names the object it served.
      if (ifMatch && res.ETag && res.ETag !== ifMatch) {
        await res.Body?.transformToByteArray().catch(() => undefined);
        throw changed();
      }
      const bytes = await res.Body!.transformToByteArray();
      s3Stats.bytesDownloaded += bytes.length;
      return Object.assign(bytes, { $metadata: res.$metadata });
    }).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  }

  async writeNew(uri: string, bytes: Uint8Array): Promise<void> {
    // Above s3.multipart.threshold × part size (Java's 1.5) a file goes up in parts: a failed
    // part is retried alone instead of the whole file.
    if (bytes.length >= this.settings.partSizeBytes * this.settings.multipartThreshold) {
      const out = createMultipartOutput(this, parseS3Uri(uri), uri);
      try {
        for (let off = 0; off < bytes.length; off += this.settings.partSizeBytes) {
          await out.write(bytes.subarray(off, Math.min(bytes.length, off + this.settings.partSizeBytes)));
        }
      } catch (err) {
        await out.abort();
        throw err;
      }
      await out.close();
      return;
    }
    await this.putIfAbsent(parseS3Uri(uri), uri, bytes);
  }

  /** PutObject with `If-None-Match: *`. A 412 after a retried attempt may be our own first
   * attempt that landed with its answer lost: the object is read back and compared. */
  async putIfAbsent(loc: S3Location, uri: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.callRaw('PutObject', () => this.client.send(new PutObjectCommand({
        Bucket: loc.bucket, Key: loc.key, Body: bytes, ContentLength: bytes.length, IfNoneMatch: '*',
      })));
      s3Stats.bytesUploaded += bytes.length;
    } catch (err) {
      if (isPreconditionFailed(err)) {
        if (attemptsOf(err) > 1 && await this.holds(uri, bytes)) return;
        throw new AlreadyExistsError(`file already exists: ${uri}`);
      }
      throw s3Error('PutObject', uri, err, this.endpointLabel);
    }
  }

  /** Whether the object at `uri` holds exactly `bytes`. */
  private async holds(uri: string, bytes: Uint8Array): Promise<boolean> {
    try {
      const there = await this.read(uri);
      return Buffer.from(there.buffer, there.byteOffset, there.byteLength).equals(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch {
      return false;
    }
  }

  /** No existence check up front: the conditional PutObject or multipart completion refuses an
   * existing object at close (a HEAD per data file would only add a round trip to every write). */
  async createNew(uri: string): Promise<OutputFile> {
    return createMultipartOutput(this, parseS3Uri(uri), uri);
  }

  /** Size and ETag of an object, or undefined when it does not exist. */
  async head(uri: string): Promise<{ size: number; etag?: string; modifiedMs: number } | undefined> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      const res = await this.callRaw('HeadObject', () => this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
      return { size: Number(res.ContentLength ?? 0), ...(res.ETag ? { etag: res.ETag } : {}), modifiedMs: res.LastModified?.getTime() ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw s3Error('HeadObject', uri, err, this.endpointLabel);
    }
  }

  async openBlob(uri: string): Promise<RandomAccessBlob> {
    const h = await this.head(uri);
    if (!h) throw s3Error('open', uri, { name: 'NotFound', $metadata: { httpStatusCode: 404 } }, this.endpointLabel);
    // If-Match pins every range to the object we sized: a replaced object fails loudly.
    return new RangedBlob((s, e) => this.readRange(uri, s, e, h.etag), 0, h.size, uri);
  }

  async exists(uri: string): Promise<boolean> {
    return (await this.head(uri)) !== undefined;
  }

  async delete(uri: string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      await this.callRaw('DeleteObject', () => this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
    } catch (err) {
      if (isNotFound(err)) return;
      throw s3Error('DeleteObject', uri, err, this.endpointLabel);
    }
  }

  async deleteMany(uris: readonly string[]): Promise<string[]> {
    const failed: string[] = [];
    const byBucket = new Map<string, string[]>();
    for (const uri of uris) {
      let loc: S3Location;
      try { loc = parseS3Uri(uri); } catch { failed.push(uri); continue; }
      const list = byBucket.get(loc.bucket);
      if (list) list.push(uri);
      else byBucket.set(loc.bucket, [uri]);
    }
    for (const [bucket, list] of byBucket) {
      for (let i = 0; i < list.length; i += this.settings.deleteBatchSize) {
        const batch = list.slice(i, i + this.settings.deleteBatchSize);
        const keyToUri = new Map(batch.map((u) => [parseS3Uri(u).key, u] as const));
        try {
          const res = await this.callRaw('DeleteObjects', () => this.client.send(new DeleteObjectsCommand({
            Bucket: bucket, Delete: { Objects: [...keyToUri.keys()].map((Key) => ({ Key })), Quiet: true },
          })));
          for (const e of res.Errors ?? []) {
            if (e.Code === 'NoSuchKey') continue;
            failed.push(keyToUri.get(e.Key ?? '') ?? `s3://${bucket}/${e.Key}`);
          }
        } catch (err) {
          // A request the server refuses as a whole (400: MalformedXML for a key XML 1.0 cannot
          // carry, such as one with a control character) must not spare the other keys of the
          // batch: they go one by one (DeleteObject takes any key in its URL).
          if (statusOf(err) !== 400) { failed.push(...batch); continue; }
          for (const uri of batch) {
            try { await this.delete(uri); } catch { failed.push(uri); }
          }
        }
      }
    }
    return failed;
  }

  async list(prefix: string): Promise<FileInfo[]> {
    const loc = parseS3Uri(prefix);
    // A prefix names a folder: `t` must not list `t2/…`.
    const keyPrefix = loc.key === '' || loc.key.endsWith('/') ? loc.key : `${loc.key}/`;
    const out: FileInfo[] = [];
    let token: string | undefined;
    do {
      const res = await this.call('ListObjectsV2', prefix, () => this.client.send(new ListObjectsV2Command({
        Bucket: loc.bucket, Prefix: keyPrefix, EncodingType: 'url', ...(token ? { ContinuationToken: token } : {}),
      })).catch((err: unknown) => {
        // A prefix with nothing under it lists empty: a 404 names a wrong server or bucket, not
        // a missing file (as NotFound it read as "file not found: <folder>/").
        if (isNotFound(err)) throw new FileIOError(`cannot ListObjectsV2 ${prefix}: ${this.endpointLabel} answered 404 ${(err as { name?: string }).name ?? ''} to a listing (check s3.endpoint and the bucket)`);
        throw err;
      }));
      for (const o of res.Contents ?? []) {
        const key = o.Key === undefined ? undefined : listedKey(o.Key, res.EncodingType);
        if (!key || key.endsWith('/')) continue; // folder markers some tools create
        out.push({ uri: s3Uri(loc, key), size: Number(o.Size ?? 0), modifiedMs: o.LastModified?.getTime() ?? 0 });
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async abortStaleUploads(prefix: string, olderThanMs: number): Promise<number> {
    const loc = parseS3Uri(prefix);
    const keyPrefix = loc.key === '' || loc.key.endsWith('/') ? loc.key : `${loc.key}/`;
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const res = await this.call('ListMultipartUploads', prefix, () => this.client.send(new ListMultipartUploadsCommand({
        Bucket: loc.bucket, Prefix: keyPrefix, EncodingType: 'url',
        ...(keyMarker ? { KeyMarker: keyMarker } : {}), ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
      })));
      for (const u of res.Uploads ?? []) {
        if (!u.Key || !u.UploadId || (u.Initiated?.getTime() ?? 0) >= olderThanMs) continue;
        await this.abortUpload(loc.bucket, listedKey(u.Key, res.EncodingType), u.UploadId);
        aborted += 1;
      }
      keyMarker = res.IsTruncated && res.NextKeyMarker ? listedKey(res.NextKeyMarker, res.EncodingType) : undefined;
      uploadIdMarker = res.IsTruncated ? res.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return aborted;
  }

  async abortUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    try {
      await this.callRaw('AbortMultipartUpload', () => this.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })));
      s3Stats.multipartAborted += 1;
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchUpload') return;
      throw s3Error('AbortMultipartUpload', `s3://${bucket}/${key}`, err, this.endpointLabel);
    }
  }

  destroy(): void { this.client.destroy(); }
}

/** Full-jitter exponential backoff between the min and max waits (Java S3FileIO's shape). */
export function backoffMs(settings: S3Settings, retry: number, random = Math.random): number {
  const ceiling = Math.min(settings.retryMaxWaitMs, settings.retryMinWaitMs * 2 ** Math.max(0, retry - 1));
  return Math.round(settings.retryMinWaitMs / 2 + random() * (ceiling - settings.retryMinWaitMs / 2));
}

export function s3ClientConfig(s: S3Settings): S3ClientConfig {
  // floe supports Node 20 with the SDK version its lockfile pins; the SDK's notice that future
  // versions will need Node 22 is noise on every CLI run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return {
    region: s.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    forcePathStyle: s.pathStyleAccess,
    ...(s.accessKeyId && s.secretAccessKey
      ? { credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, ...(s.sessionToken ? { sessionToken: s.sessionToken } : {}) } }
      : {}),
    retryStrategy: new ConfiguredRetryStrategy(s.retries + 1, (attempt: number) => backoffMs(s, attempt)),
    // Checksums only where S3 requires them unless s3.checksum-enabled: S3-compatible servers
    // reject or mishandle the newer flexible-checksum trailers.
    requestChecksumCalculation: s.checksumEnabled ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
    responseChecksumValidation: s.checksumEnabled ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
    // A request that exceeds its timeout fails (and is retried); without throwOnRequestTimeout
    // the SDK only logs a warning and waits on.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000, throwOnRequestTimeout: true },
  };
}

