// The Kafka source's fetch settings (Kafka's Java names, camelCase) and batch.caughtUpFlushMs:
// defaults, the kafkajs options they become, and the values refused with the key named.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseIngestConfig } from '../../../src/ingest/ingest-config.ts';
import { DEFAULT_KAFKA_FETCH, kafkajsFetchOptions } from '../../../src/ingest/kafka-source.ts';

const kafka = (source: object, batch?: object) => JSON.stringify({
  source: { type: 'kafka', brokers: ['127.0.0.1:9092'], groupId: 'g', ...source },
  routes: [{ topic: 't', table: 'db.t' }],
  ...(batch ? { batch } : {}),
});

describe('ingest config: Kafka fetch settings', () => {
  test('defaults: fetch.max.wait.ms 500, fetch.min.bytes 1, fetch.max.bytes 10 MiB, max.partition.fetch.bytes 4 MiB', () => {
    const s = parseIngestConfig(kafka({}), 'c.json').source;
    assert.equal(s.type, 'kafka');
    if (s.type !== 'kafka') return;
    assert.deepEqual({ fetchMaxWaitMs: s.fetchMaxWaitMs, fetchMinBytes: s.fetchMinBytes, fetchMaxBytes: s.fetchMaxBytes, maxPartitionFetchBytes: s.maxPartitionFetchBytes },
      { fetchMaxWaitMs: 500, fetchMinBytes: 1, fetchMaxBytes: 10 * 1024 * 1024, maxPartitionFetchBytes: 4 * 1024 * 1024 });
    assert.deepEqual(DEFAULT_KAFKA_FETCH, { fetchMaxWaitMs: 500, fetchMinBytes: 1, fetchMaxBytes: 10 * 1024 * 1024, maxPartitionFetchBytes: 4 * 1024 * 1024 });
  });

  test('set values reach the kafkajs consumer options under kafkajs names', () => {
    const s = parseIngestConfig('source: {type: kafka, brokers: [b:9092], groupId: g, fetchMaxWaitMs: 100, fetchMinBytes: 65536, fetchMaxBytes: 52428800, maxPartitionFetchBytes: 1048576}\nroutes: [{topic: t, table: db.t}]\n', 'c.yaml').source;
    if (s.type !== 'kafka') throw new Error('kafka source expected');
    assert.deepEqual(kafkajsFetchOptions(s), { maxWaitTimeInMs: 100, minBytes: 65536, maxBytes: 52428800, maxBytesPerPartition: 1048576 });
    assert.deepEqual(kafkajsFetchOptions(), { maxWaitTimeInMs: 500, minBytes: 1, maxBytes: 10 * 1024 * 1024, maxBytesPerPartition: 4 * 1024 * 1024 });
    // fetch.max.wait.ms 0 is allowed (answer at once), as in Kafka.
    const zero = parseIngestConfig(kafka({ fetchMaxWaitMs: 0 }), 'c.json').source;
    assert.equal(zero.type === 'kafka' && zero.fetchMaxWaitMs, 0);
  });

  const refused: [string, object, RegExp][] = [
    ['a negative wait', { fetchMaxWaitMs: -1 }, /^ValidationError: config c\.json: source\.fetchMaxWaitMs: /],
    ['a fractional wait', { fetchMaxWaitMs: 1.5 }, /^ValidationError: config c\.json: source\.fetchMaxWaitMs: /],
    ['zero fetch.max.bytes', { fetchMaxBytes: 0 }, /^ValidationError: config c\.json: source\.fetchMaxBytes: /],
    ['zero max.partition.fetch.bytes', { maxPartitionFetchBytes: 0 }, /^ValidationError: config c\.json: source\.maxPartitionFetchBytes: /],
    ['fetch.min.bytes above fetch.max.bytes', { fetchMinBytes: 2048, fetchMaxBytes: 1024 }, /^ValidationError: config c\.json: source\.fetchMinBytes: must not exceed fetchMaxBytes \(1024\)/],
    ["the Java spelling (a typo'd key is never ignored)", { 'fetch.max.wait.ms': 100 }, /^ValidationError: config c\.json: source: .*fetch\.max\.wait\.ms/],
  ];
  for (const [what, source, message] of refused) {
    test(`refuses ${what}`, () => { assert.throws(() => parseIngestConfig(kafka(source), 'c.json'), message); });
  }
});

describe('ingest config: batch.caughtUpFlushMs', () => {
  test('absent by default (the batcher then uses half the window); 0 and any positive integer accepted', () => {
    assert.equal(parseIngestConfig(kafka({}), 'c.json').batch.caughtUpFlushMs, undefined);
    assert.equal(parseIngestConfig(kafka({}, { windowMs: 10_000, caughtUpFlushMs: 0 }), 'c.json').batch.caughtUpFlushMs, 0);
    assert.equal(parseIngestConfig(kafka({}, { windowMs: 10_000, caughtUpFlushMs: 2500 }), 'c.json').batch.caughtUpFlushMs, 2500);
  });
  test('refuses a negative value with the key named', () => {
    assert.throws(() => parseIngestConfig(kafka({}, { caughtUpFlushMs: -5 }), 'c.json'), /^ValidationError: config c\.json: batch\.caughtUpFlushMs: /);
  });
});
