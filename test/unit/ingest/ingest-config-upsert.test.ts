// The `upsert` key of an ingest route: defaults, strictness, and the combinations refused with a
// one-line message naming the key.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseIngestConfig } from '../../../src/ingest/ingest-config.ts';

const kafka = (route: object) => JSON.stringify({
  source: { type: 'kafka', brokers: ['127.0.0.1:9092'], groupId: 'g' },
  routes: [{ topic: 't', table: 'db.t', ...route }],
});

describe('ingest config: upsert', () => {
  test('defaults to the plain format; no upsert key means append', () => {
    assert.deepEqual(parseIngestConfig(kafka({ upsert: {} }), 'c.json').routes[0]!.upsert, { format: 'plain' });
    assert.equal(parseIngestConfig(kafka({}), 'c.json').routes[0]!.upsert, undefined);
    const full = parseIngestConfig(kafka({ upsert: { format: 'plain', opField: 'op', orderBy: 'meta.seq', mode: 'copy-on-write' } }), 'c.json');
    assert.deepEqual(full.routes[0]!.upsert, { format: 'plain', opField: 'op', orderBy: 'meta.seq', mode: 'copy-on-write' });
  });

  test('YAML works the same', () => {
    const cfg = parseIngestConfig('source: {type: ndjson, path: in.ndjson}\nroutes:\n  - table: db.t\n    upsert:\n      format: debezium\n      orderBy: source.lsn\n', 'c.yaml');
    assert.deepEqual(cfg.routes[0]!.upsert, { format: 'debezium', orderBy: 'source.lsn' });
  });

  const refused: [string, object, RegExp][] = [
    ['an unknown key', { upsert: { format: 'plain', key: 'id' } }, /^config c\.json: routes\.0\.upsert: .*key/],
    ['an unknown format', { upsert: { format: 'avro' } }, /^config c\.json: routes\.0\.upsert\.format: /],
    ['an unknown mode', { upsert: { mode: 'merge' } }, /^config c\.json: routes\.0\.upsert\.mode: /],
    ['an order path with an empty step', { upsert: { orderBy: 'source..lsn' } }, /routes\.0\.upsert\.orderBy: must be a dotted field path/],
    ['evolveSchema with upsert', { upsert: {}, evolveSchema: true }, /routes\.0\.evolveSchema: evolveSchema cannot be combined with upsert yet: evolution would take the change envelope's fields/],
    ['an op field with Debezium', { upsert: { format: 'debezium', opField: 'op' } }, /routes\.0\.upsert\.opField: opField applies to the plain format only/],
    ['capture with Debezium', { upsert: { format: 'debezium' }, capture: { offset: 'o' } }, /routes\.0\.capture: capture is not supported with Debezium upserts/],
  ];
  for (const [what, route, message] of refused) {
    test(`refuses ${what} in one line naming the key`, () => {
      assert.throws(() => parseIngestConfig(kafka(route), 'c.json'), (err: Error) => {
        assert.equal(err.name, 'ValidationError');
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      });
    });
  }

  test('capture with plain upserts is allowed (the row is the record)', () => {
    assert.deepEqual(parseIngestConfig(kafka({ upsert: {}, capture: { offset: 'o' } }), 'c.json').routes[0]!.capture, { offset: 'o' });
  });
});
