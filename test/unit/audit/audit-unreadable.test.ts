// A data file of the audited branch that is missing or does not decode: the audit fails with one
// line naming that file (as the table's metadata spells it) and the snapshot, and the gate of
// write-audit-publish neither publishes nor quarantines — main, the branch and the table's
// refs stay as they were.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { parseAuditChecks, runAudit } from '../../../src/audit/index.ts';
import { FileIOError } from '../../../src/errors.ts';
import { uriToPath } from '../../../src/io/local-file-io.ts';
import { schemaFromJson } from '../../../src/spec/schema.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { auditAndPublish } from '../../../src/wap/audit-and-publish.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

const SCHEMA = schemaFromJson({ type: 'struct', fields: [
  { name: 'id', required: true, type: 'long' },
  { name: 'v', required: false, type: 'string' },
] }, { assignIds: true });
const ID = { namespace: ['db'], name: 't' };

describe('audit of a branch whose data file is missing or corrupt', () => {
  let wh: TestWarehouse;
  let file: string;
  beforeEach(async () => {
    wh = await testWarehouse();
    await wh.catalog.createNamespace(['db']);
    await wh.catalog.createTable(ID, { schema: SCHEMA });
    await appendRecords(wh.catalog, ID, [{ id: 1, v: 'main' }]);
    const data = `${(await wh.catalog.loadTable(ID)).metadata.location}/data`;
    const before = new Set(readdirSync(uriToPath(data)));
    await appendRecords(wh.catalog, ID, [{ id: 2, v: 'a' }, { id: 3, v: 'b' }], { branch: 'audit' });
    const added = readdirSync(uriToPath(data)).filter((f) => !before.has(f));
    assert.equal(added.length, 1);
    file = `${data}/${added[0]}`;
  });
  afterEach(async () => { await wh.cleanup(); });

  const damage: [string, (p: string) => void][] = [
    ['missing', (p) => rmSync(p)],
    ['truncated', (p) => writeFileSync(p, readFileSync(p).subarray(0, 64))],
  ];
  for (const [what, harm] of damage) {
    test(`${what}: one line naming the file; nothing published or quarantined`, async () => {
      harm(uriToPath(file));
      const checks = await parseAuditChecks({ checks: [{ type: 'not_null', column: 'v' }, { type: 'sql', sql: 'SELECT * FROM rows WHERE id < 0' }] }, 'checks.yaml');
      const before = await wh.catalog.loadTable(ID);
      const head = before.metadata.refs.audit!.snapshotId;
      const expected = (e: Error): boolean => {
        assert.ok(e instanceof FileIOError, `${e.name}: ${e.message}`);
        assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
        assert.ok(e.message.includes(`data file ${file} of snapshot ${head} cannot be read`), e.message);
        return true;
      };
      await assert.rejects(runAudit(wh.catalog, ID, { branch: 'audit', checks, snapshotId: head }), expected);
      await assert.rejects(auditAndPublish(wh.catalog, ID, { branch: 'audit', checks, quarantineConflicts: true }), expected);
      const after = await wh.catalog.loadTable(ID);
      assert.equal(after.metadataLocation, before.metadataLocation, 'no commit: neither published nor quarantined');
    });
  }
});
