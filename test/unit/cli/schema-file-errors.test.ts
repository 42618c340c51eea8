// `floe table create --schema FILE` with the mistakes people make in a hand-written schema:
// each is one line naming the file, the field by its path and what is wrong — not a
// validator's path into the document (`fields.0.required: Invalid input: expected boolean`).
// Nothing is created.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openCatalog } from '../../../catalog/index.ts';
import { runCli } from '../../../src/cli/main.ts';

for (const k of ['FLOE_WAREHOUSE', 'FLOE_CATALOG', 'FLOE_CATALOG_NAME']) delete process.env[k];

const id = { name: 'id', required: true, type: 'long' };
const CASES: readonly { what: string; fields: unknown; says: string }[] = [
  { what: 'missing required', fields: [id, { name: 'amount', type: 'decimal(10,2)' }], says: 'field "amount": missing "required" (true or false)' },
  { what: 'required as a string', fields: [{ name: 'amount', required: 'yes', type: 'double' }], says: 'field "amount": "required" must be true or false, got "yes"' },
  { what: 'a SQL type name', fields: [id, { name: 'note', required: false, type: 'varchar' }], says: 'field "note": unknown type "varchar" (Iceberg calls it string)' },
  { what: 'a capitalised type name', fields: [{ name: 'n', required: false, type: 'Long' }], says: 'field "n": unknown type "Long" (type names are lower case: "long")' },
  { what: 'an unknown type name', fields: [{ name: 'n', required: false, type: 'money' }], says: 'field "n": unknown type "money" (Iceberg types: boolean, int, long,' },
  { what: 'a decimal out of range', fields: [{ name: 'd', required: false, type: 'decimal(40,2)' }], says: 'field "d": type "decimal(40,2)" is not a valid decimal (precision 1-38' },
  { what: 'a field without a name', fields: [id, { required: true, type: 'long' }], says: 'field #2 of the schema: missing "name"' },
  { what: 'a field without a type', fields: [{ name: 'ts', required: true }], says: 'field "ts": missing "type" (boolean, int, long,' },
  { what: 'a nested struct field without required', fields: [{ name: 'address', required: false, type: { type: 'struct', fields: [{ name: 'city', type: 'string' }] } }], says: 'field "address.city": missing "required" (true or false)' },
  { what: 'a list without element-required', fields: [{ name: 'tags', required: false, type: { type: 'list', element: 'string' } }], says: 'field "tags": list missing "element-required" (true or false)' },
  { what: 'a list element of an unknown type', fields: [{ name: 'tags', required: false, type: { type: 'list', 'element-required': true, element: 'text' } }], says: 'field "tags.element": unknown type "text" (Iceberg calls it string)' },
  { what: 'a map without value', fields: [{ name: 'attrs', required: false, type: { type: 'map', key: 'string', 'value-required': false } }], says: 'field "attrs.value": missing "value" (boolean, int,' },
  { what: 'an unknown nested type', fields: [{ name: 'x', required: false, type: { type: 'array', items: 'int' } }], says: 'field "x": a nested type\'s "type" must be "struct", "list" or "map", got "array"' },
  { what: 'fields not a list', fields: { id: 'long' }, says: 'the schema: "fields" must be a list of fields, got {"id":"long"}' },
];

describe('floe table create --schema: malformed schema files', () => {
  test('each mistake is one line naming the file and the field; no table is created', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'floe-schema-errors-'));
    try {
      const floe = async (...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> => {
        const out: string[] = [];
        const err: string[] = [];
        const code = await runCli(['--warehouse', dir, ...args], {
          openCatalog: (o) => openCatalog({ warehouse: o.warehouse, name: o.name }), stdout: (l) => out.push(l), stderr: (l) => err.push(l),
        });
        return { code, out, err };
      };
      assert.equal((await floe('namespace', 'create', 'db')).code, 0);
      for (const [i, c] of CASES.entries()) {
        const file = path.join(dir, `schema-${i}.json`);
        await writeFile(file, JSON.stringify({ type: 'struct', fields: c.fields }));
        const r = await floe('table', 'create', 'db.t', '--schema', file);
        assert.equal(r.code, 1, c.what);
        assert.deepEqual(r.out, [], c.what);
        assert.equal(r.err.length, 1, `${c.what}: ${JSON.stringify(r.err)}`);
        assert.ok(r.err[0]!.startsWith(`floe: invalid schema file ${file}: ${c.says}`), `${c.what}:\n  got      ${r.err[0]}\n  expected floe: invalid schema file ${file}: ${c.says}`);
      }
      const notStruct = path.join(dir, 'record.json');
      await writeFile(notStruct, JSON.stringify({ type: 'record', name: 'x', fields: [id] }));
      assert.deepEqual((await floe('table', 'create', 'db.t', '--schema', notStruct)).err,
        [`floe: invalid schema file ${notStruct}: the schema's "type" must be "struct", got "record"`]);
      assert.deepEqual((await floe('table', 'list', 'db')).out, []);
      // And a good one still works.
      const good = path.join(dir, 'good.json');
      await writeFile(good, JSON.stringify({ type: 'struct', fields: [id, { name: 'tags', required: false, type: { type: 'list', 'element-required': false, element: 'string' } }] }));
      assert.equal((await floe('table', 'create', 'db.t', '--schema', good)).code, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
