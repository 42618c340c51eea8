// Schemas (JSON form, fresh ids in Java's assignFreshIds order, identifier-field rules) and
// the `day(ts),bucket(16,id)` partition expressions the CLI takes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../../src/errors.ts';
import { parsePartitionExpression, partitionSpecToJson } from '../../../src/spec/partition-spec.ts';
import { type Schema, schemaFromJson, schemaToJson } from '../../../src/spec/schema.ts';
import type { IcebergType, NestedField } from '../../../src/spec/types.ts';

function assertValidation(fn: () => unknown, ...parts: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected ValidationError, got ${String(e)}`);
    assert.equal(e.kind, 'validation');
    for (const p of parts) assert.match(e.message, p);
    return true;
  });
}

/** Every field id with its dotted name, depth first. */
function idsByName(s: Schema): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (t: IcebergType, name: string, id: number): void => {
    out[name] = id;
    if (t.kind === 'struct') for (const f of t.fields) walk(f.type, `${name}.${f.name}`, f.id);
    else if (t.kind === 'list') walk(t.element, `${name}.element`, t.elementId);
    else if (t.kind === 'map') { walk(t.key, `${name}.key`, t.keyId); walk(t.value, `${name}.value`, t.valueId); }
  };
  for (const f of s.fields) walk(f.type, f.name, f.id);
  return out;
}

const NESTED = {
  type: 'struct',
  fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'location', required: false, type: { type: 'struct', fields: [
      { name: 'lat', required: true, type: 'double' },
      { name: 'lon', required: true, type: 'double' },
    ] } },
    { name: 'tags', required: false, type: { type: 'list', 'element-required': true, element: 'string' } },
    { name: 'props', required: false, type: { type: 'map', key: 'string', 'value-required': false, value: { type: 'struct', fields: [
      { name: 'a', required: false, type: 'int' },
    ] } } },
    { name: 'events', required: false, type: { type: 'list', 'element-required': false, element: { type: 'struct', fields: [
      { name: 'x', required: true, type: 'int' },
      { name: 'y', required: false, type: { type: 'list', 'element-required': false, element: 'int' } },
    ] } } },
    { name: 'name', required: false, type: 'string' },
  ],
};

describe('schemaFromJson with assignIds', () => {
  test('ids depth-first: a struct\'s fields before their children (Java assignFreshIds)', () => {
    const s = schemaFromJson(NESTED, { assignIds: true });
    assert.deepEqual(idsByName(s), {
      id: 1, location: 2, tags: 3, props: 4, events: 5, name: 6,
      'location.lat': 7, 'location.lon': 8,
      'tags.element': 9,
      'props.key': 10, 'props.value': 11, 'props.value.a': 12,
      'events.element': 13, 'events.element.x': 14, 'events.element.y': 15, 'events.element.y.element': 16,
    });
    assert.equal(s.highestFieldId, 16);
    assert.equal(s.schemaId, 0);
    assert.equal(s.findColumnName(12), 'props.value.a');
    assert.equal(s.findFieldByName('location.lon')?.id, 8);
    assert.deepEqual(s.ancestorIds(16), [15, 13, 5]);
    assert.equal(s.isOutsideRepeated(8), true);
    assert.equal(s.isOutsideRepeated(14), false);
    assert.deepEqual(s.leafIds(), [1, 7, 8, 9, 10, 12, 14, 16, 6]);
  });

  test('ids written in the JSON are ignored', () => {
    const s = schemaFromJson({ type: 'struct', fields: [
      { id: 50, name: 'a', required: true, type: 'int' },
      { id: 7, name: 'b', required: false, type: { type: 'list', 'element-id': 99, 'element-required': true, element: 'int' } },
    ] }, { assignIds: true, schemaId: 3 });
    assert.deepEqual(idsByName(s), { a: 1, b: 2, 'b.element': 3 });
    assert.equal(s.schemaId, 3);
  });

  test('identifier-field-ids follow the fields to their fresh ids', () => {
    const s = schemaFromJson({ type: 'struct', 'identifier-field-ids': [20, 31], fields: [
      { id: 10, name: 'x', required: false, type: 'string' },
      { id: 20, name: 'id', required: true, type: 'long' },
      { id: 30, name: 'key', required: true, type: { type: 'struct', fields: [{ id: 31, name: 'part', required: true, type: 'string' }] } },
    ] }, { assignIds: true });
    assert.deepEqual(s.identifierFieldIds, [2, 4]);
    assertValidation(() => schemaFromJson({ type: 'struct', 'identifier-field-ids': [9], fields: [
      { id: 1, name: 'id', required: true, type: 'long' },
    ] }, { assignIds: true }), /identifier-field-ids names unknown field id 9/);
  });

  test('without assignIds, every id is required', () => {
    assertValidation(() => schemaFromJson({ type: 'struct', fields: [{ name: 'a', required: true, type: 'int' }] }), /field 'a' has no id/);
    assertValidation(() => schemaFromJson({ type: 'struct', fields: [
      { id: 1, name: 'a', required: true, type: { type: 'list', 'element-required': true, element: 'int' } },
    ] }), /list 'a' element has no id/);
    assertValidation(() => schemaFromJson({ type: 'struct', fields: [
      { id: 1, name: 's', required: true, type: { type: 'struct', fields: [{ name: 'inner', required: true, type: 'int' }] } },
    ] }), /field 's\.inner' has no id/);
  });

  test('a malformed document names the path', () => {
    assertValidation(() => schemaFromJson({ type: 'struct', fields: [{ name: 'a', type: 'int' }] }), /^invalid schema: field "a": missing "required" \(true or false\)$/);
    assertValidation(() => schemaFromJson({ type: 'record', fields: [] }), /^invalid schema: the schema's "type" must be "struct", got "record"$/);
    assertValidation(() => schemaFromJson({ type: 'struct', fields: [{ id: 1, name: '', required: true, type: 'int' }] }), /^invalid schema: field #1 of the schema: "name" must be a non-empty string, got ""$/);
  });
});

describe('identifier fields', () => {
  const withIdentifier = (field: Record<string, unknown>, ids: number[] = [1]): Schema =>
    schemaFromJson({ type: 'struct', 'identifier-field-ids': ids, fields: [field] });

  test('a required primitive is accepted, also inside a required struct', () => {
    assert.deepEqual(withIdentifier({ id: 1, name: 'id', required: true, type: 'long' }).identifierFieldIds, [1]);
    const s = withIdentifier({ id: 1, name: 'k', required: true, type: { type: 'struct', fields: [{ id: 2, name: 'p', required: true, type: 'string' }] } }, [2]);
    assert.deepEqual(s.identifierFieldIds, [2]);
  });

  test('optional → ValidationError', () => {
    assertValidation(() => withIdentifier({ id: 1, name: 'id', required: false, type: 'long' }), /identifier field 'id' must be required/);
  });

  test('float and double → ValidationError', () => {
    assertValidation(() => withIdentifier({ id: 1, name: 'f', required: true, type: 'float' }), /identifier field 'f' cannot be float/);
    assertValidation(() => withIdentifier({ id: 1, name: 'd', required: true, type: 'double' }), /identifier field 'd' cannot be double/);
  });

  test('inside a list, a map or an optional struct → ValidationError', () => {
    assertValidation(() => withIdentifier({ id: 1, name: 'l', required: true, type: { type: 'list', 'element-id': 2, 'element-required': true, element: 'long' } }, [2]),
      /identifier field 'l\.element' cannot be nested in a list, map or optional struct/);
    assertValidation(() => withIdentifier({ id: 1, name: 'l', required: true, type: { type: 'list', 'element-id': 2, 'element-required': true, element: {
      type: 'struct', fields: [{ id: 3, name: 'x', required: true, type: 'long' }] } } }, [3]),
    /identifier field 'l\.element\.x' cannot be nested/);
    assertValidation(() => withIdentifier({ id: 1, name: 'm', required: true, type: { type: 'map', 'key-id': 2, key: 'string', 'value-id': 3, 'value-required': true, value: 'long' } }, [2]),
      /identifier field 'm\.key' cannot be nested/);
    assertValidation(() => withIdentifier({ id: 1, name: 's', required: false, type: { type: 'struct', fields: [{ id: 2, name: 'p', required: true, type: 'string' }] } }, [2]),
      /identifier field 's\.p' cannot be nested/);
  });

  test('a nested type or a missing id → ValidationError', () => {
    assertValidation(() => withIdentifier({ id: 1, name: 's', required: true, type: { type: 'struct', fields: [{ id: 2, name: 'p', required: true, type: 'string' }] } }, [1]),
      /identifier field 's' must be a primitive type/);
    assertValidation(() => withIdentifier({ id: 1, name: 'id', required: true, type: 'long' }, [5]), /identifier field id 5 does not exist/);
  });
});

describe('duplicates', () => {
  test('duplicate field ids, at top level and nested', () => {
    assertValidation(() => schemaFromJson({ type: 'struct', fields: [
      { id: 1, name: 'a', required: true, type: 'int' },
      { id: 1, name: 'b', required: true, type: 'int' },
    ] }), /duplicate field id 1 \('b'\)/);
    assertValidation(() => schemaFromJson({ type: 'struct', fields: [
      { id: 1, name: 'a', required: true, type: 'int' },
      { id: 2, name: 'l', required: true, type: { type: 'list', 'element-id': 1, 'element-required': true, element: 'int' } },
    ] }), /duplicate field id 1 \('l\.element'\)/);
  });

  test('duplicate column names, at top level and inside a struct', () => {
    assertValidation(() => schemaFromJson({ type: 'struct', fields: [
      { name: 'a', required: true, type: 'int' },
      { name: 'a', required: false, type: 'string' },
    ] }, { assignIds: true }), /duplicate column name 'a'/);
    assertValidation(() => schemaFromJson({ type: 'struct', fields: [
      { name: 's', required: true, type: { type: 'struct', fields: [
        { name: 'x', required: true, type: 'int' },
        { name: 'x', required: true, type: 'string' },
      ] } },
    ] }, { assignIds: true }), /duplicate column name 's\.x'/);
  });

  test('the same name in different structs is fine', () => {
    const s = schemaFromJson({ type: 'struct', fields: [
      { name: 'x', required: true, type: 'int' },
      { name: 's', required: true, type: { type: 'struct', fields: [{ name: 'x', required: true, type: 'int' }] } },
    ] }, { assignIds: true });
    assert.equal(s.findFieldByName('s.x')?.id, 3);
    assert.equal(s.findFieldByName('x')?.id, 1);
  });
});

describe('schemaToJson', () => {
  test('exact JSON for a nested schema', () => {
    const s = schemaFromJson({ type: 'struct', 'identifier-field-ids': [1], fields: [
      { id: 1, name: 'id', required: true, type: 'long', doc: 'primary key' },
      { name: 'tags', required: false, type: { type: 'list', 'element-required': false, element: 'string' } },
      { name: 'm', required: true, type: { type: 'map', key: 'string', 'value-required': true, value: 'decimal(10, 2)' } },
    ] }, { assignIds: true, schemaId: 4 });
    assert.deepEqual(schemaToJson(s), {
      type: 'struct',
      'schema-id': 4,
      'identifier-field-ids': [1],
      fields: [
        { id: 1, name: 'id', required: true, type: 'long', doc: 'primary key' },
        { id: 2, name: 'tags', required: false, type: { type: 'list', 'element-id': 4, element: 'string', 'element-required': false } },
        { id: 3, name: 'm', required: true, type: { type: 'map', 'key-id': 5, key: 'string', 'value-id': 6, value: 'decimal(10,2)', 'value-required': true } },
      ],
    });
  });

  test('round trip: schemaFromJson(schemaToJson(s)) deep-equals s', () => {
    const s = schemaFromJson(NESTED, { assignIds: true, schemaId: 2 });
    const json = schemaToJson(s);
    const back = schemaFromJson(json);
    assert.deepEqual(back, s);
    assert.deepEqual(schemaToJson(back), json);
    assert.equal('identifier-field-ids' in json, false);
  });

  test('every primitive type string round-trips', () => {
    const types = [
      'boolean', 'int', 'long', 'float', 'double', 'date', 'time', 'timestamp', 'timestamptz',
      'string', 'uuid', 'binary', 'decimal(10,2)', 'decimal(38,0)', 'decimal(1,1)', 'fixed[16]', 'fixed[1]',
    ];
    const s = schemaFromJson({ type: 'struct', fields: types.map((t, i) => ({ name: `c${i}`, required: false, type: t })) }, { assignIds: true });
    const fields = (schemaToJson(s).fields as { type: string }[]).map((f) => f.type);
    assert.deepEqual(fields, types);
    const kinds = s.fields.map((f: NestedField) => f.type);
    assert.deepEqual(kinds.slice(12), [
      { kind: 'decimal', precision: 10, scale: 2 }, { kind: 'decimal', precision: 38, scale: 0 },
      { kind: 'decimal', precision: 1, scale: 1 }, { kind: 'fixed', length: 16 }, { kind: 'fixed', length: 1 },
    ]);
    assert.deepEqual(kinds.slice(0, 12), types.slice(0, 12).map((kind) => ({ kind })));
    // Spaces inside the parentheses are accepted and normalised away.
    const spaced = schemaFromJson({ type: 'struct', fields: [{ name: 'd', required: true, type: 'decimal( 9 , 3 )' }] }, { assignIds: true });
    assert.equal((schemaToJson(spaced).fields as { type: string }[])[0]!.type, 'decimal(9,3)');
  });

  test('unknown or out-of-range type strings are rejected naming the field', () => {
    for (const t of ['varchar', 'Long', 'decimal(39,0)', 'decimal(5,6)', 'decimal(0,0)', 'fixed[0]', 'fixed', 'timestamp_ns', 'list<int>']) {
      assertValidation(() => schemaFromJson({ type: 'struct', fields: [{ name: 'col', required: true, type: t }] }, { assignIds: true }),
        new RegExp(`field "col": (unknown type|type) "${t.replace(/[()[\]<>]/g, '\\$&')}"`));
    }
    assertValidation(() => schemaFromJson({ type: 'struct', fields: [
      { name: 's', required: true, type: { type: 'struct', fields: [{ name: 'inner', required: true, type: 'int64' }] } },
    ] }, { assignIds: true }), /field "s\.inner": unknown type "int64" \(Iceberg calls it long\)/);
  });
});

describe('parsePartitionExpression', () => {
  const schema = schemaFromJson({ type: 'struct', fields: [
    { name: 'id', required: true, type: 'long' },
    { name: 'ts', required: true, type: 'timestamptz' },
    { name: 'name', required: false, type: 'string' },
    { name: 'region', required: false, type: 'string' },
    { name: 'day', required: false, type: 'date' },
    { name: 'loc', required: false, type: { type: 'struct', fields: [{ name: 'country', required: false, type: 'string' }] } },
    { name: 'tags', required: false, type: { type: 'list', 'element-required': true, element: 'string' } },
    { name: 'score', required: false, type: 'double' },
  ] }, { assignIds: true });
  const id = (n: string): number => schema.findFieldByName(n)!.id;

  test('day(ts),bucket(16,id),truncate(4,name),region', () => {
    const spec = parsePartitionExpression('day(ts),bucket(16,id),truncate(4,name),region', schema);
    assert.deepEqual(spec, {
      specId: 0,
      fields: [
        { sourceId: id('ts'), fieldId: 1000, name: 'ts_day', transform: { kind: 'day' } },
        { sourceId: id('id'), fieldId: 1001, name: 'id_bucket_16', transform: { kind: 'bucket', n: 16 } },
        { sourceId: id('name'), fieldId: 1002, name: 'name_trunc_4', transform: { kind: 'truncate', width: 4 } },
        { sourceId: id('region'), fieldId: 1003, name: 'region', transform: { kind: 'identity' } },
      ],
    });
    assert.deepEqual(partitionSpecToJson(spec), {
      'spec-id': 0,
      fields: [
        { name: 'ts_day', transform: 'day', 'source-id': 2, 'field-id': 1000 },
        { name: 'id_bucket_16', transform: 'bucket[16]', 'source-id': 1, 'field-id': 1001 },
        { name: 'name_trunc_4', transform: 'truncate[4]', 'source-id': 3, 'field-id': 1002 },
        { name: 'region', transform: 'identity', 'source-id': 4, 'field-id': 1003 },
      ],
    });
  });

  test('spaces, case, other time transforms, identity(), void, nested columns', () => {
    const spec = parsePartitionExpression(' YEAR(ts) , month( ts ), hour(ts), bucket( 8 , name ), identity(region), void(id), loc.country, year(day) ', schema);
    assert.deepEqual(spec.fields.map((f) => [f.name, f.fieldId, f.sourceId, f.transform]), [
      ['ts_year', 1000, id('ts'), { kind: 'year' }],
      ['ts_month', 1001, id('ts'), { kind: 'month' }],
      ['ts_hour', 1002, id('ts'), { kind: 'hour' }],
      ['name_bucket_8', 1003, id('name'), { kind: 'bucket', n: 8 }],
      ['region', 1004, id('region'), { kind: 'identity' }],
      ['id_null', 1005, id('id'), { kind: 'void' }],
      ['loc_country', 1006, id('loc.country'), { kind: 'identity' }],
      ['day_year', 1007, id('day'), { kind: 'year' }],
    ]);
  });

  test('ids continue after lastPartitionId, spec id is kept', () => {
    const spec = parsePartitionExpression('region', schema, 3, 1004);
    assert.deepEqual(spec, { specId: 3, fields: [{ sourceId: id('region'), fieldId: 1005, name: 'region', transform: { kind: 'identity' } }] });
    assert.deepEqual(parsePartitionExpression('', schema), { specId: 0, fields: [] });
  });

  test('an unknown column', () => {
    assertValidation(() => parsePartitionExpression('day(ts),bucket(16,nope)', schema), /partition term 'bucket\(16,nope\)': no column 'nope' in the schema/);
    assertValidation(() => parsePartitionExpression('missing', schema), /no column 'missing'/);
  });

  test('an unknown transform', () => {
    assertValidation(() => parsePartitionExpression('days(ts)', schema), /partition term 'days\(ts\)': unknown transform 'days'/);
    assertValidation(() => parsePartitionExpression('zorder(id)', schema), /unknown transform 'zorder'/);
    assertValidation(() => parsePartitionExpression('day(4, ts)', schema), /unknown transform 'day'/);
    assertValidation(() => parsePartitionExpression('bucket[16](id)', schema), /is not like day\(ts\)/);
    assertValidation(() => parsePartitionExpression('id + 1', schema), /partition term 'id \+ 1' is not like/);
  });

  test('a transform that does not apply to the column type', () => {
    assertValidation(() => parsePartitionExpression('day(name)', schema), /transform day cannot apply to column 'name' of type string/);
    assertValidation(() => parsePartitionExpression('hour(day)', schema), /transform hour cannot apply to column 'day' of type date/);
    assertValidation(() => parsePartitionExpression('truncate(4,ts)', schema), /transform truncate\[4\] cannot apply to column 'ts' of type timestamptz/);
    assertValidation(() => parsePartitionExpression('bucket(4,score)', schema), /transform bucket\[4\] cannot apply to column 'score' of type double/);
    assertValidation(() => parsePartitionExpression('tags', schema), /cannot apply to column 'tags' of type list/);
    assertValidation(() => parsePartitionExpression('loc', schema), /cannot apply to column 'loc' of type struct/);
  });

  test('a missing or zero width', () => {
    assertValidation(() => parsePartitionExpression('bucket(id)', schema), /partition term 'bucket\(id\)': bucket needs a width, e\.g\. bucket\(16, id\)/);
    assertValidation(() => parsePartitionExpression('truncate(name)', schema), /truncate needs a width/);
    assertValidation(() => parsePartitionExpression('bucket(0,id)', schema), /bucket\(0,id\)/, /between 1 and 2147483647/);
  });

  test('the same partition field twice', () => {
    assertValidation(() => parsePartitionExpression('region,identity(region)', schema), /repeats partition field 'region'/);
  });
});
