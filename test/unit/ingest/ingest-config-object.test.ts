// ingestConfigFrom: a config given as an object (what an application passing settings in code
// does) is validated like a config file, with the same defaults and the same one-line refusals.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ValidationError } from '../../../src/errors.ts';
import { ingestConfigFrom, parseIngestConfig, type IngestConfigInput } from '../../../src/ingest/ingest-config.ts';

describe('ingestConfigFrom', () => {
  const input: IngestConfigInput = {
    source: { type: 'kafka', brokers: ['127.0.0.1:9092'], groupId: 'sink' },
    routes: [{ topic: 'orders', table: 'shop.orders' }],
  };

  test('applies the defaults a config file gets', () => {
    const cfg = ingestConfigFrom(input);
    assert.deepEqual(cfg, parseIngestConfig(JSON.stringify(input), 'p.json'));
    assert.equal(cfg.source.type === 'kafka' && cfg.source.fetchMaxWaitMs, 500);
    assert.equal(cfg.source.type === 'kafka' && cfg.source.clientId, 'floe');
    assert.deepEqual(cfg.batch, { windowMs: 10_000, maxRecords: 100_000, maxBytes: 128 * 1024 * 1024 });
    assert.equal(cfg.routes[0]!.branch, 'main');
    assert.equal(cfg.routes[0]!.evolveSchema, false);
  });

  test('a relative check file is resolved against the directory of `file`', () => {
    const wapInput: IngestConfigInput = { ...input, routes: [{ topic: 'orders', table: 'shop.orders', wap: { branch: 'audit', checks: 'checks.yaml' } }] };
    assert.equal(ingestConfigFrom(wapInput, '/etc/floe/app').routes[0]!.wap?.checks, '/etc/floe/checks.yaml');
    assert.equal(ingestConfigFrom(wapInput).routes[0]!.wap?.checks, path.resolve('checks.yaml'));
  });

  test('refuses a bad setting in one line naming the key path and the source name', () => {
    const bad = { ...input, routes: [{ table: 'shop.orders' }] };
    assert.throws(() => ingestConfigFrom(bad, 'app settings'), (e: Error) => {
      assert.ok(e instanceof ValidationError);
      assert.match(e.message, /^config app settings: routes\.0\.topic: a Kafka route needs a topic$/);
      return true;
    });
  });
});
