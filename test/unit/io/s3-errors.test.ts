// One-line errors from the SDK's: a TLS handshake against a plain-HTTP server says what to fix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FileIOError } from '../../../src/errors.ts';
import { s3Error } from '../../../src/io/s3-errors.ts';

describe('s3Error', () => {
  it('an https endpoint in front of a plain-HTTP server: one line naming s3.endpoint, not OpenSSL internals', () => {
    const sdk = Object.assign(new Error('write EPROTO 809C692DB27F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n'), { code: 'EPROTO', $metadata: { attempts: 3 } });
    const e = s3Error('ListObjectsV2', 's3://b/wh/t/', sdk, 'https://127.0.0.1:18333');
    assert.ok(e instanceof FileIOError);
    assert.equal(e.message, 'cannot ListObjectsV2 s3://b/wh/t/: TLS with https://127.0.0.1:18333 failed (is the server plain HTTP? then s3.endpoint must start with http://)');
  });

  it('a key too long (a long identity-partition value) says what limit it met and what to do', () => {
    const sdk = Object.assign(new Error('Your key is too long.'), { name: 'KeyTooLongError', $metadata: { httpStatusCode: 400 } });
    const e = s3Error('PutObject', 's3://b/t/data/k=yyy/f.parquet', sdk, 'http://h:1');
    assert.equal(e.message, 'cannot PutObject s3://b/t/data/k=yyy/f.parquet: the key is longer than http://h:1 allows (S3: 1,024 bytes; a long partition value makes a long key: partition by truncate(N, column) instead)');
    assert.equal(e.retryable, false);
  });
});

describe('S3FileIO.list', () => {
  it('a 404 to a listing (a wrong server or bucket) is a FileIOError naming s3.endpoint, not "file not found: <folder>/"', async () => {
    const { S3FileIO } = await import('../../../src/io/s3-file-io.ts');
    const { s3Settings } = await import('../../../src/io/s3-settings.ts');
    const client = { send: async () => { throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }); } };
    const io = new S3FileIO(s3Settings({ 's3.endpoint': 'http://127.0.0.1:1' }), client as never);
    await assert.rejects(io.list('s3://bkt/wh/t/'), (e: Error) => e instanceof FileIOError && e.message === 'cannot ListObjectsV2 s3://bkt/wh/t/: http://127.0.0.1:1 answered 404 NoSuchKey to a listing (check s3.endpoint and the bucket)');
  });
});

describe('S3FileIO.openBlob', () => {
  it('a server that ignores If-Match and serves a replaced object: the ETag it names fails the read, naming the file', async () => {
    const { S3FileIO } = await import('../../../src/io/s3-file-io.ts');
    const { s3Settings } = await import('../../../src/io/s3-settings.ts');
    const body = (n: number) => ({ transformToByteArray: async () => new Uint8Array(n) });
    const client = { send: async (cmd: { constructor: { name: string } }) => cmd.constructor.name === 'HeadObjectCommand'
      ? { ContentLength: 100, ETag: '"v1"', $metadata: {} }
      : { ETag: '"v2"', Body: body(10), $metadata: {} } };
    const io = new S3FileIO(s3Settings({ 's3.endpoint': 'http://127.0.0.1:1' }), client as never);
    const blob = await io.openBlob('s3://bkt/t/data/f.parquet');
    await assert.rejects(blob.slice(0, 10).arrayBuffer(), (e: Error) => e instanceof FileIOError
      && e.message === 'cannot read s3://bkt/t/data/f.parquet: the object changed since it was opened (replaced while being read: ETag "v1" no longer matches)');
  });
});
