// scanColumns against floe's own writer: random records of every primitive type (and a struct)
// are written with DataFileWriter and read back by field id, in small and big-file mode and in
// batches of any size; every value must equal what the writer's parser made of the input —
// longs beyond 2^53, decimals, microsecond timestamps and uuids exactly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { InvalidMetadataError, UnsupportedError } from '../../../src/errors.ts';
import { MemoryFileIO } from '../../../src/io/memory-file-io.ts';
import { scanColumns, type BatchColumns } from '../../../src/reader/data-file-reader.ts';
import type { DataFile } from '../../../src/spec/data-file.ts';
import { schemaFromJson, type Schema } from '../../../src/spec/schema.ts';
import { isPrimitive, type PrimitiveType, type PrimitiveValue } from '../../../src/spec/types.ts';
import { DataFileWriter } from '../../../src/writer/data-file-writer.ts';
import { parsePrimitiveValue } from '../../../src/writer/value-parsers.ts';

const SCHEMA = schemaFromJson({
  type: 'struct',
  fields: [
    { name: 'b', required: false, type: 'boolean' },
    { name: 'i', required: false, type: 'int' },
    { name: 'l', required: true, type: 'long' },
    { name: 'f', required: false, type: 'float' },
    { name: 'd', required: false, type: 'double' },
    { name: 'dec_small', required: false, type: 'decimal(9,2)' },
    { name: 'dec_big', required: false, type: 'decimal(38,10)' },
    { name: 'day', required: false, type: 'date' },
    { name: 'tod', required: false, type: 'time' },
    { name: 'ts', required: false, type: 'timestamp' },
    { name: 'tstz', required: false, type: 'timestamptz' },
    { name: 's', required: false, type: 'string' },
    { name: 'u', required: false, type: 'uuid' },
    { name: 'fx', required: false, type: 'fixed[3]' },
    { name: 'bin', required: false, type: 'binary' },
    {
      name: 'loc', required: false, type: {
        type: 'struct', fields: [
          { name: 'lat', required: false, type: 'double' },
          { name: 'seq', required: true, type: 'long' },
        ],
      },
    },
  ],
}, { assignIds: true });

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
const decimalText = (unscaled: bigint, scale: number): string => {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
};
const timeText = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 999_999 }))
  .map(([h, m, s, us]) => `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(us, 6)}`);
const dateText = fc.tuple(fc.integer({ min: 1000, max: 2999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }))
  .map(([y, m, d]) => `${y}-${pad(m, 2)}-${pad(d, 2)}`);
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(a, { nil: null, freq: 5 });

const record = fc.record({
  b: opt(fc.boolean()),
  i: opt(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
  l: fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n),
  f: opt(fc.float()),
  d: opt(fc.double()),
  dec_small: opt(fc.bigInt(-(10n ** 9n) + 1n, 10n ** 9n - 1n).map((u) => decimalText(u, 2))),
  dec_big: opt(fc.bigInt(-(10n ** 38n) + 1n, 10n ** 38n - 1n).map((u) => decimalText(u, 10))),
  day: opt(fc.oneof(fc.integer({ min: -800_000, max: 800_000 }), dateText)),
  tod: opt(timeText),
  ts: opt(fc.tuple(dateText, timeText).map(([d, t]) => `${d}T${t}`)),
  tstz: opt(fc.tuple(dateText, timeText, fc.constantFrom('Z', '+05:30', '-08:00')).map(([d, t, z]) => `${d}T${t}${z}`)),
  s: opt(fc.string({ unit: 'binary', maxLength: 12 })),
  u: opt(fc.uuid()),
  fx: opt(fc.uint8Array({ minLength: 3, maxLength: 3 })),
  bin: opt(fc.uint8Array({ maxLength: 10 })),
  loc: opt(fc.record({ lat: opt(fc.double()), seq: fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n) })),
});

/** What the writer stores for `input` at the dotted path of a leaf. */
function expected(schema: Schema, id: number, input: Record<string, unknown>): PrimitiveValue | null {
  let v: unknown = input;
  for (const part of schema.findColumnName(id)!.split('.')) v = v === null || v === undefined ? undefined : (v as Record<string, unknown>)[part];
  if (v === null || v === undefined) return null;
  return parsePrimitiveValue(schema.findField(id)!.type as PrimitiveType, v);
}

function sameValue(a: PrimitiveValue | null, b: PrimitiveValue | null): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
  return Object.is(a, b); // -0 and NaN kept apart / equal as stored
}

async function writeOne(io: MemoryFileIO, schema: Schema, records: readonly unknown[]): Promise<DataFile> {
  const files = await new DataFileWriter({ schema, spec: { specId: 0, fields: [] }, properties: {}, location: 'mem://wh/t', io }).write(records);
  assert.equal(files.length, 1);
  return files[0]!;
}

async function readAll(io: MemoryFileIO, file: DataFile, ids: readonly number[], opts: Parameters<typeof scanColumns>[4] = {}): Promise<(PrimitiveValue | null)[][]> {
  const rows: (PrimitiveValue | null)[][] = [];
  let expectPosition = 0;
  await scanColumns(io, file, ids, (first, n, column: BatchColumns) => {
    assert.equal(first, expectPosition, 'batches arrive in row order without gaps');
    expectPosition += n;
    const cols = ids.map((id) => column(id));
    for (let i = 0; i < n; i++) rows.push(cols.map((c) => c(i)));
  }, opts);
  return rows;
}

test('every primitive type (and struct members) reads back exactly as the writer parsed it', async () => {
  const leafIds = SCHEMA.leafIds();
  assert.ok(leafIds.every((id) => isPrimitive(SCHEMA.findField(id)!.type)));
  await fc.assert(fc.asyncProperty(
    fc.array(record, { minLength: 1, maxLength: 120 }), fc.integer({ min: 1, max: 50 }), fc.boolean(), fc.shuffledSubarray(leafIds, { minLength: 1 }),
    async (records, batchSize, streamed, ids) => {
      const io = new MemoryFileIO();
      const file = await writeOne(io, SCHEMA, records);
      const rows = await readAll(io, file, ids, { batchSize, ...(streamed ? { readWholeBelowBytes: 0 } : {}) });
      assert.equal(rows.length, records.length);
      rows.forEach((row, r) => { ids.forEach((id, c) => {
        const want = expected(SCHEMA, id, records[r]!);
        if (!sameValue(row[c]!, want)) assert.fail(`row ${r} field ${SCHEMA.findColumnName(id)}: read ${String(row[c])}, wrote ${String(want)}`);
      }); });
    },
  ), { seed: 20261127, numRuns: 40 });
});

test('values beyond 2^53, pre-epoch timestamps and the extreme decimals are exact', async () => {
  const io = new MemoryFileIO();
  const records = [
    { l: 2n ** 63n - 1n, ts: '1900-01-01T00:00:00.000001', dec_big: '9999999999999999999999999999.9999999999', loc: { seq: -(2n ** 63n), lat: -0 } },
    { l: -(2n ** 63n), ts: '1969-12-31T23:59:59.999999', dec_big: '-9999999999999999999999999999.9999999999', loc: null },
    { l: 9007199254740993n, ts: null, dec_big: '0.0000000001', loc: { seq: 1n, lat: null } },
  ];
  const file = await writeOne(io, SCHEMA, records);
  const id = (name: string): number => SCHEMA.findFieldByName(name)!.id;
  const rows = await readAll(io, file, [id('l'), id('ts'), id('dec_big'), id('loc.seq'), id('loc.lat')]);
  assert.deepStrictEqual(rows.map((r) => r.slice(0, 4)), [
    [2n ** 63n - 1n, -2208988799999999n, 99999999999999999999999999999999999999n, -(2n ** 63n)],
    [-(2n ** 63n), -1n, -99999999999999999999999999999999999999n, null],
    [9007199254740993n, null, 1n, 1n],
  ]);
  assert.ok(Object.is(rows[0]![4], -0), 'a -0.0 inside a struct stays -0.0');
  assert.equal(rows[1]![4], null, 'a member of a null struct is null');
  assert.equal(rows[2]![4], null);
});

test('columns are matched by field id: a renamed column is found, one added later reads as null', async () => {
  const io = new MemoryFileIO();
  const old = schemaFromJson({ type: 'struct', fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'name', required: false, type: 'string' },
  ] });
  const file = await writeOne(io, old, [{ id: 1n, name: 'a' }, { id: 2n, name: null }, { id: 3n, name: 'c' }]);
  // The table now calls field 2 'label' and has a field 3 the file never had.
  const renamed = schemaFromJson({ type: 'struct', fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'label', required: false, type: 'string' },
    { id: 3, name: 'added', required: false, type: 'int' },
  ] });
  assert.deepStrictEqual(await readAll(io, file, [2, 3, 1], { schema: renamed }), [['a', null, 1n], [null, null, 2n], ['c', null, 3n]]);
  // Only absent columns asked for: rows are still counted and positioned.
  assert.deepStrictEqual(await readAll(io, file, [3], { batchSize: 2 }), [[null], [null], [null]]);
});

test('an int column read as a promoted long field comes back as bigint', async () => {
  const io = new MemoryFileIO();
  const file = await writeOne(io, schemaFromJson({ type: 'struct', fields: [{ id: 1, name: 'n', required: true, type: 'int' }] }), [{ n: 5 }, { n: -7 }]);
  const promoted = schemaFromJson({ type: 'struct', fields: [{ id: 1, name: 'n', required: true, type: 'long' }] });
  assert.deepStrictEqual(await readAll(io, file, [1], { schema: promoted }), [[5n], [-7n]]);
  assert.deepStrictEqual(await readAll(io, file, [1]), [[5], [-7]]);
});

test('list elements cannot be read by row; a corrupt file and a wrong record count name the file', async () => {
  const io = new MemoryFileIO();
  const schema = schemaFromJson({ type: 'struct', fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'tags', required: false, type: { type: 'list', 'element-id': 3, 'element-required': false, element: 'string' } },
  ] });
  const file = await writeOne(io, schema, [{ id: 1n, tags: ['x'] }]);
  await assert.rejects(readAll(io, file, [3]), (e) => e instanceof UnsupportedError && e.message.includes(file.filePath));
  await assert.rejects(readAll(io, { ...file, recordCount: 2n }, [1]), (e) => e instanceof InvalidMetadataError && e.message.includes(file.filePath) && /1 rows .* says 2/.test(e.message));
  const bytes = await io.read(file.filePath);
  const broken = bytes.slice();
  broken.fill(7, 4, bytes.length - 200);
  await io.writeNew('mem://wh/t/data/broken.parquet', broken);
  await assert.rejects(readAll(io, { ...file, filePath: 'mem://wh/t/data/broken.parquet' }, [1]),
    (e) => e instanceof InvalidMetadataError && e.message.includes('broken.parquet'));
});

test('big files are streamed from a Blob, never read whole; a callback error comes back unchanged', async () => {
  const io = new MemoryFileIO();
  const file = await writeOne(io, SCHEMA, Array.from({ length: 50 }, (_, i) => ({ l: BigInt(i) })));
  const streamingIO = new (class extends MemoryFileIO {
    override async read(uri: string): Promise<Uint8Array> { throw new Error(`read whole: ${uri}`); }
    override openBlob(uri: string): Promise<Blob> { return io.openBlob(uri); }
  })();
  const lId = SCHEMA.findFieldByName('l')!.id;
  const seen: bigint[] = [];
  const rows = await scanColumns(streamingIO, file, [lId], (_first, n, col) => {
    for (let i = 0; i < n; i++) seen.push(col(lId)(i) as bigint);
  }, { readWholeBelowBytes: 0, batchSize: 16 });
  assert.equal(rows, 50);
  assert.deepStrictEqual(seen, Array.from({ length: 50 }, (_, i) => BigInt(i)));
  const mine = new Error('stop here');
  await assert.rejects(scanColumns(io, file, [lId], async () => { throw mine; }), (e) => e === mine);
});
