import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../../src/errors.ts';
import { RangedBlob } from '../../../src/io/ranged-blob.ts';
import { backoffMs, s3ClientConfig } from '../../../src/io/s3-file-io.ts';
import { isS3Uri, parseS3Uri } from '../../../src/io/s3-location.ts';
import { describeS3Settings, envNameOf, redactProperties, s3PropertiesFromEnv, s3Settings } from '../../../src/io/s3-settings.ts';

describe('S3 locations', () => {
  it('splits s3://, s3a:// and s3n:// the same way and keeps the key literal', () => {
    for (const scheme of ['s3', 's3a', 's3n']) {
      assert.deepEqual(parseS3Uri(`${scheme}://bucket-1/wh/db/t/data/a%20b=1/f.parquet`), { scheme, bucket: 'bucket-1', key: 'wh/db/t/data/a%20b=1/f.parquet' });
    }
    assert.equal(parseS3Uri('s3://bucket').key, '');
    assert.ok(isS3Uri('S3A://b/k') && !isS3Uri('file:///tmp/x') && !isS3Uri('/tmp/x'));
  });
  it('refuses a bucket name S3 would refuse, naming it', () => {
    assert.throws(() => parseS3Uri('s3://Bad_Bucket/k'), /'Bad_Bucket' is not a valid S3 bucket name/);
    assert.throws(() => parseS3Uri('gs://b/k'), /not an S3 location/);
  });
});

describe('S3 settings (Iceberg property names)', () => {
  it('reads Iceberg names with Java S3FileIO defaults', () => {
    const s = s3Settings({ 's3.endpoint': 'http://127.0.0.1:8333/', 's3.path-style-access': 'true', 'client.region': 'eu-west-1' });
    assert.equal(s.endpoint, 'http://127.0.0.1:8333');
    assert.equal(s.pathStyleAccess, true);
    assert.equal(s.region, 'eu-west-1');
    assert.equal(s.partSizeBytes, 32 * 1024 * 1024);
    assert.equal(s.deleteBatchSize, 1000);
    assert.equal(s.retries, 5);
    assert.equal(s.retryMinWaitMs, 2000);
    assert.equal(s.retryMaxWaitMs, 20000);
  });
  it('names the property of a bad value', () => {
    assert.throws(() => s3Settings({ 's3.multipart.part-size-bytes': '1000' }), (e: unknown) => e instanceof ValidationError && /s3\.multipart\.part-size-bytes: '1000'/.test(e.message));
    assert.throws(() => s3Settings({ 's3.delete.batch-size': '5000' }), /s3\.delete\.batch-size/);
    assert.throws(() => s3Settings({ 's3.path-style-access': 'yes' }), /s3\.path-style-access: 'yes' is not true or false/);
    assert.throws(() => s3Settings({ 's3.endpoint': 'localhost:8333' }), /s3\.endpoint: 'localhost:8333' must start with http/);
    assert.throws(() => s3Settings({ 's3.access-key-id': 'k' }), /set both s3\.access-key-id and s3\.secret-access-key/);
  });
  it('refuses an endpoint with a path (often the bucket) or a query, naming the address to give; never echoes a password from an unparsable URL', () => {
    assert.throws(() => s3Settings({ 's3.endpoint': 'http://127.0.0.1:8333/mybucket' }), (e: unknown) => e instanceof ValidationError
      && /has a path \('\/mybucket'\); give the server's address only \(http:\/\/127\.0\.0\.1:8333\)/.test(e.message));
    assert.throws(() => s3Settings({ 's3.endpoint': 'http://h:1/?X-Amz-Security-Token=tok3n' }), (e: unknown) => e instanceof ValidationError
      && /query or fragment/.test(e.message) && !e.message.includes('tok3n'));
    assert.throws(() => s3Settings({ 's3.endpoint': 'http://user:hunter2@host:port' }), (e: unknown) => e instanceof ValidationError
      && /is not a URL/.test(e.message) && !e.message.includes('hunter2'));
    assert.equal(s3Settings({ 's3.endpoint': 'https://s3.example.com:443/' }).endpoint, 'https://s3.example.com:443');
  });

  it('never shows a secret, neither in the endpoint error nor in describe or redacted properties', () => {
    assert.throws(() => s3Settings({ 's3.endpoint': 'http://user:hunter2@host:1' }), (e: unknown) => !(e as Error).message.includes('hunter2'));
    const shown = JSON.stringify(describeS3Settings(s3Settings({ 's3.access-key-id': 'AKIAEXAMPLEKEY', 's3.secret-access-key': 'hunter2', 's3.session-token': 'tok' })));
    assert.ok(!shown.includes('hunter2') && !shown.includes('AKIAEXAMPLEKEY'), shown);
    assert.deepEqual(redactProperties({ 's3.secret-access-key': 'hunter2', 's3.session-token': 't', 's3.endpoint': 'e' }), { 's3.secret-access-key': '***', 's3.session-token': '***', 's3.endpoint': 'e' });
  });
  it('takes FLOE_S3_* environment variables under the property names', () => {
    assert.equal(envNameOf('s3.path-style-access'), 'FLOE_S3_PATH_STYLE_ACCESS');
    assert.deepEqual(s3PropertiesFromEnv({ FLOE_S3_ENDPOINT: 'http://x:1', FLOE_S3_RETRY_NUM_RETRIES: '2', OTHER: 'y' }), { 's3.endpoint': 'http://x:1', 's3.retry.num-retries': '2' });
  });
  it('configures the SDK: checksums only when required, retries = num-retries + 1 attempts', () => {
    const cfg = s3ClientConfig(s3Settings({ 's3.endpoint': 'http://h:1', 's3.access-key-id': 'k', 's3.secret-access-key': 's' }));
    assert.equal(cfg.requestChecksumCalculation, 'WHEN_REQUIRED');
    assert.equal(cfg.responseChecksumValidation, 'WHEN_REQUIRED');
    assert.equal(s3ClientConfig(s3Settings({ 's3.checksum-enabled': 'true' })).requestChecksumCalculation, 'WHEN_SUPPORTED');
  });
  it('backs off with jitter between the min and max waits', () => {
    const s = s3Settings({ 's3.retry.min-wait-ms': '100', 's3.retry.max-wait-ms': '1000' });
    assert.equal(backoffMs(s, 1, () => 0), 50);
    assert.equal(backoffMs(s, 1, () => 1), 100);
    assert.equal(backoffMs(s, 3, () => 1), 400);
    assert.equal(backoffMs(s, 10, () => 1), 1000);
  });
});

describe('RangedBlob', () => {
  it('serves Blob slices by reading only the asked range', async () => {
    const data = new Uint8Array(100).map((_, i) => i);
    const reads: [number, number][] = [];
    const blob = new RangedBlob(async (s, e) => { reads.push([s, e]); return data.slice(s, e); }, 0, data.length);
    assert.deepEqual(new Uint8Array(await blob.slice(-8).arrayBuffer()), data.slice(92));
    assert.deepEqual(new Uint8Array(await blob.slice(10, 20).slice(2, 4).arrayBuffer()), data.slice(12, 14));
    assert.equal(blob.slice(90, 200).size, 10);
    assert.equal((await blob.slice(50, 40).arrayBuffer()).byteLength, 0);
    assert.deepEqual(reads, [[92, 100], [12, 14]]);
  });
});
