// The `wap:` block of an ingest route: publish policies, the check file, and the audit branch's
// name (the rules of `floe branch create`), each refusal one line naming the key.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { batchesPerPublish, parseIngestConfig } from '../../../src/ingest/ingest-config.ts';

const config = (wap: object, route: object = {}): string => JSON.stringify({
  source: { type: 'ndjson', path: '/tmp/in.ndjson' },
  routes: [{ table: 'db.t', wap, ...route }],
});

describe('ingest config: wap', () => {
  test('publish policies; the check file is resolved next to the config', () => {
    const c = parseIngestConfig(config({ branch: 'audit', checks: 'checks.yaml', publish: 'every-3-batches' }), '/etc/floe/p.json');
    assert.deepEqual(c.routes[0]!.wap, { branch: 'audit', checks: '/etc/floe/checks.yaml', publish: 'every-3-batches' });
    assert.deepEqual(['every-batch', 'every-3-batches', 'manual'].map(batchesPerPublish), [1, 3, 0]);
    assert.equal(parseIngestConfig(config({ branch: 'audit/ünï code' , publish: 'manual' }), 'p.json').routes[0]!.wap?.publish, 'manual');
  });

  const bad: [string, object, object, RegExp][] = [
    ['every-0-batches', { branch: 'audit', checks: 'c.yaml', publish: 'every-0-batches' }, {}, /routes\.0\.wap\.publish: must be every-batch, every-N-batches/],
    ['no checks', { branch: 'audit' }, {}, /routes\.0\.wap\.checks: required unless publish is manual/],
    ['main', { branch: 'main', checks: 'c.yaml' }, {}, /routes\.0\.wap\.branch: the audit branch cannot be 'main'/],
    ['quarantine/', { branch: 'quarantine/audit', checks: 'c.yaml' }, {}, /routes\.0\.wap\.branch: branch name 'quarantine\/audit' is reserved/],
    ['blank-edged', { branch: 'audit ', checks: 'c.yaml' }, {}, /routes\.0\.wap\.branch: branch name "audit " starts or ends with a blank/],
    ['route branch', { branch: 'audit', checks: 'c.yaml' }, { branch: 'dev' }, /routes\.0\.branch: a wap route publishes to main/],
  ];
  for (const [what, wap, route, expected] of bad) {
    test(`refused, one line: ${what}`, () => {
      assert.throws(() => parseIngestConfig(config(wap, route), 'p.json'), (e: Error) => {
        assert.match(e.message, expected);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    });
  }
});
