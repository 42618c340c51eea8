// The test S3 server (scripts/s3.sh, SeaweedFS) and the fault proxy (test/support/s3-fault-proxy.ts)
// do what floe's S3 tests rely on: objects round-trip (whole and ranged), If-None-Match: * refuses
// an existing key with 412 (PutObject and CompleteMultipartUpload), a wrong secret gets 403,
// multipart uploads list and abort, DeleteObjects deletes; through the proxy, signed requests
// still verify, and injected 503 SlowDown / 500 / mid-body resets / held answers are retried by
// the SDK, with the proxy's counters showing each injected fault.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { S3FaultProxy, isPutObject, isUploadPart, isGetObject } from '../support/s3-fault-proxy.ts';
import { S3_SCRIPT, emptyAndDeleteBucket, ensureS3, freshBucket, s3Client, s3Unavailable, type S3Server } from '../support/s3.ts';

const execFileP = promisify(execFile);
const skip = await s3Unavailable();
const MiB = 1024 * 1024;
// A 500 ms request timeout that fails the attempt: this SDK's node handler only logs a warning
// when requestTimeout passes unless throwOnRequestTimeout is set.
const IMPATIENT = { maxAttempts: 2, requestHandler: { requestTimeout: 500, throwOnRequestTimeout: true } } as const;

/** The HTTP status and S3 error code a rejected promise carries. */
async function s3Error(p: Promise<unknown>): Promise<{ status: number | undefined; code: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof S3ServiceException) return { status: err.$metadata.httpStatusCode, code: err.name };
    throw err;
  }
  throw new Error('expected the S3 request to fail, it succeeded');
}

async function getBytes(client: S3Client, Bucket: string, Key: string, Range?: string): Promise<Buffer> {
  const res = await client.send(new GetObjectCommand({ Bucket, Key, ...(Range ? { Range } : {}) }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

/** Create → parts → complete, with If-None-Match: * on the completion. */
async function multipartPut(client: S3Client, Bucket: string, Key: string, parts: Buffer[]): Promise<void> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const done: { ETag: string; PartNumber: number }[] = [];
  for (const [i, Body] of parts.entries()) {
    const { ETag } = await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body }));
    done.push({ ETag: ETag!, PartNumber: i + 1 });
  }
  await client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: done } }));
}

describe('S3 server from scripts/s3.sh', { skip }, () => {
  let server: S3Server;
  let client: S3Client;
  let bucket = '';

  before(async () => {
    server = await ensureS3();
    client = s3Client(server);
    bucket = await freshBucket(server, 's3-server-test');
  });

  after(async () => {
    if (bucket) await emptyAndDeleteBucket(server, bucket);
    client?.destroy();
  });

  test('status says up; the default bucket `floe` exists', async () => {
    const { stdout } = await execFileP('bash', [S3_SCRIPT, 'status']);
    assert.match(stdout, new RegExp(`s3 up on ${server.endpoint}`));
    await client.send(new ListObjectsV2Command({ Bucket: 'floe', MaxKeys: 1 }));
  });

  test('an object round-trips whole and by byte range', async () => {
    const body = randomBytes(100_000);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'rt/a.bin', Body: body }));
    assert.deepEqual(await getBytes(client, bucket, 'rt/a.bin'), body);
    assert.deepEqual(await getBytes(client, bucket, 'rt/a.bin', 'bytes=1000-1999'), body.subarray(1000, 2000));
    // The suffix form: a Parquet reader's first read (footer length + magic).
    assert.deepEqual(await getBytes(client, bucket, 'rt/a.bin', 'bytes=-8'), body.subarray(body.length - 8));
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'rt/a.bin' }));
    assert.equal(head.ContentLength, body.length);
  });

  test('PutObject with If-None-Match: * refuses an existing key with 412 and keeps the first body', async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'inm/x', Body: 'first', IfNoneMatch: '*' }));
    const err = await s3Error(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'inm/x', Body: 'second', IfNoneMatch: '*' })));
    assert.deepEqual(err, { status: 412, code: 'PreconditionFailed' });
    assert.equal((await getBytes(client, bucket, 'inm/x')).toString(), 'first');
  });

  test('a wrong secret gets 403', async () => {
    const bad = s3Client({ ...server, secretAccessKey: `${server.secretAccessKey}-wrong` });
    try {
      const err = await s3Error(bad.send(new PutObjectCommand({ Bucket: bucket, Key: 'denied', Body: 'x' })));
      assert.equal(err.status, 403);
      assert.equal(err.code, 'SignatureDoesNotMatch');
    } finally {
      bad.destroy();
    }
    const missing = await s3Error(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'denied' })));
    assert.equal(missing.status, 404);
  });

  test('multipart: completion with If-None-Match: * writes once, then 412; uploads list and abort', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(1234)];
    await multipartPut(client, bucket, 'mp/one', parts);
    assert.deepEqual(await getBytes(client, bucket, 'mp/one'), Buffer.concat(parts));

    // A second upload to the same key: its parts upload fine, its completion is refused.
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp/one' }));
    const { ETag } = await client.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp/one', UploadId, PartNumber: 1, Body: 'other' }));
    const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.deepEqual((listed.Uploads ?? []).map((u) => [u.Key, u.UploadId]), [['mp/one', UploadId]]);
    const err = await s3Error(client.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: 'mp/one', UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: [{ ETag: ETag!, PartNumber: 1 }] },
    })));
    assert.deepEqual(err, { status: 412, code: 'PreconditionFailed' });
    assert.deepEqual(await getBytes(client, bucket, 'mp/one'), Buffer.concat(parts));

    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mp/one', UploadId }));
    const after = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.deepEqual(after.Uploads ?? [], []);
  });

  test('DeleteObjects deletes the listed keys and only those', async () => {
    for (const k of ['del/a', 'del/b', 'del/c']) await client.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: k }));
    const res = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'del/a' }, { Key: 'del/c' }, { Key: 'del/never-there' }] } }));
    assert.deepEqual(res.Errors ?? [], []);
    const left = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'del/' }));
    assert.deepEqual((left.Contents ?? []).map((o) => o.Key), ['del/b']);
  });

  test("the SDK's default checksum mode (WHEN_SUPPORTED: CRC32 on every upload) works too", async () => {
    const dflt = s3Client(server, { requestChecksumCalculation: 'WHEN_SUPPORTED', responseChecksumValidation: 'WHEN_SUPPORTED' });
    try {
      const body = randomBytes(3 * MiB);
      await dflt.send(new PutObjectCommand({ Bucket: bucket, Key: 'ck/put', Body: body }));
      assert.deepEqual(await getBytes(dflt, bucket, 'ck/put'), body);
      const parts = [randomBytes(5 * MiB), randomBytes(10)];
      await multipartPut(dflt, bucket, 'ck/mp', parts);
      assert.deepEqual(await getBytes(dflt, bucket, 'ck/mp'), Buffer.concat(parts));
      await dflt.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'ck/put' }, { Key: 'ck/mp' }] } }));
    } finally {
      dflt.destroy();
    }
  });

  describe('through the fault proxy', () => {
    let proxy: S3FaultProxy;
    let viaProxy: S3Client;

    before(async () => {
      proxy = await S3FaultProxy.start(server.endpoint);
      // Short backoff: retries are what these tests look at, not the waiting.
      viaProxy = s3Client({ ...server, endpoint: proxy.endpoint }, { maxAttempts: 4, retryMode: 'standard' });
    });

    after(async () => {
      viaProxy?.destroy();
      await proxy?.close();
    });

    test('signed requests verify through the proxy (Host kept as signed)', async () => {
      await viaProxy.send(new PutObjectCommand({ Bucket: bucket, Key: 'px/plain', Body: 'via proxy' }));
      assert.equal((await getBytes(viaProxy, bucket, 'px/plain')).toString(), 'via proxy');
      assert.equal(proxy.counters.requests, 2);
      assert.equal(proxy.counters.forwarded, 2);
    });

    test('two 503 SlowDown answers to PutObject: the SDK retries and the third attempt lands', async () => {
      const before = proxy.seen(isPutObject);
      proxy.slowDown(2, isPutObject);
      const body = randomBytes(64 * 1024);
      await viaProxy.send(new PutObjectCommand({ Bucket: bucket, Key: 'px/slow', Body: body, IfNoneMatch: '*' }));
      assert.equal(proxy.counters.faults.slowDown, 2);
      assert.equal(proxy.seen(isPutObject) - before, 3);
      assert.equal(proxy.pendingFaults, 0);
      assert.deepEqual(await getBytes(client, bucket, 'px/slow'), body);
    });

    test('a 503 SlowDown seen by the SDK once retries run out carries the S3 error code', async () => {
      proxy.slowDown(4, isGetObject);
      const err = await s3Error(getBytes(viaProxy, bucket, 'px/slow'));
      assert.deepEqual(err, { status: 503, code: 'SlowDown' });
      assert.equal(proxy.counters.faults.slowDown, 6);
    });

    test('a connection reset mid-body: the retry (Buffer body) lands the whole object, the cut attempt stored nothing', async () => {
      const body = randomBytes(2 * MiB);
      const before = proxy.seen(isPutObject);
      proxy.resetMidBody(1, isPutObject);
      // If-None-Match: * would answer 412 to the retry had the cut attempt stored anything.
      await viaProxy.send(new PutObjectCommand({ Bucket: bucket, Key: 'px/reset', Body: body, IfNoneMatch: '*' }));
      assert.equal(proxy.counters.faults.resetMidBody, 1);
      assert.equal(proxy.seen(isPutObject) - before, 2);
      assert.deepEqual(await getBytes(client, bucket, 'px/reset'), body);
    });

    test('a 500 InternalError, then a reset mid-body, on UploadPart: the SDK retries the part and the upload completes', async () => {
      const parts = [randomBytes(5 * MiB), randomBytes(99)];
      const before = proxy.seen(isUploadPart);
      const resetsBefore = proxy.counters.faults.resetMidBody;
      proxy.internalError(1, isUploadPart).resetMidBody(1, isUploadPart);
      await multipartPut(viaProxy, bucket, 'px/mp', parts);
      assert.equal(proxy.counters.faults.internalError, 1);
      assert.equal(proxy.counters.faults.resetMidBody - resetsBefore, 1);
      assert.equal(proxy.seen(isUploadPart) - before, 4);
      assert.deepEqual(await getBytes(client, bucket, 'px/mp'), Buffer.concat(parts));
    });

    test('an answer held past the client timeout: the write landed anyway, so the retry with If-None-Match gets 412', async () => {
      const impatient = s3Client({ ...server, endpoint: proxy.endpoint }, IMPATIENT);
      try {
        proxy.delay(2_000, isPutObject, { count: 1 });
        const err = await s3Error(impatient.send(new PutObjectCommand({ Bucket: bucket, Key: 'px/held', Body: 'landed', IfNoneMatch: '*' })));
        // The first attempt timed out client-side after the server stored the object; the SDK's
        // retry then meets the object. A FileIO must treat this 412 as "maybe mine" (compare).
        assert.deepEqual(err, { status: 412, code: 'PreconditionFailed' });
        assert.equal(proxy.counters.faults.delay, 1);
        assert.equal((await getBytes(client, bucket, 'px/held')).toString(), 'landed');
      } finally {
        impatient.destroy();
      }
    });

    test('a request held before forwarding past the timeout is retried and succeeds', async () => {
      const impatient = s3Client({ ...server, endpoint: proxy.endpoint }, IMPATIENT);
      try {
        const faultsBefore = proxy.counters.faults.delay;
        const getsBefore = proxy.seen(isGetObject);
        proxy.delay(2_000, isGetObject, { count: 1, phase: 'request' });
        const t0 = performance.now();
        assert.equal((await getBytes(impatient, bucket, 'px/held')).toString(), 'landed');
        assert.equal(proxy.counters.faults.delay - faultsBefore, 1);
        assert.equal(proxy.seen(isGetObject) - getsBefore, 2);
        // Answered by the second attempt, not by the first one waiting out the hold.
        assert.ok(performance.now() - t0 < 2_000, 'the GET waited for the held attempt instead of retrying');
      } finally {
        impatient.destroy();
      }
    });
  });
});
