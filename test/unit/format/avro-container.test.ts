// The hand-written Avro codec and container format, checked against hand-computed varints, a
// BigInt reference zigzag encoder, and avsc (an independent implementation) in both directions.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';

import avro from 'avsc';

import {
  AvroEncodingError,
  AvroWriter,
  compileAvroSchema,
  decodeAvroValue,
  encodeAvroValue,
} from '../../../src/format/avro/avro-binary.ts';
import type { AvroSchemaJson } from '../../../src/format/avro/avro-binary.ts';
import { readAvroContainer, writeAvroContainer } from '../../../src/format/avro/avro-container.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Reference zigzag varint, BigInt all the way (Avro spec "Binary Encoding"). */
function referenceLongBytes(value: bigint): string {
  let zigzag = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const out: number[] = [];
  do {
    let byte = Number(zigzag & 0x7fn);
    zigzag >>= 7n;
    if (zigzag > 0n) byte |= 0x80;
    out.push(byte);
  } while (zigzag > 0n);
  return hex(Uint8Array.from(out));
}

// avsc's long is a JS number by default; this registry makes it BigInt (avsc README recipe),
// so avsc can check values above 2^53.
const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buffer: Buffer) => buffer.readBigInt64LE(),
  toBuffer: (value: bigint) => {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64LE(value);
    return buffer;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (value: unknown) => typeof value === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});
const avscType = (schema: unknown): avro.Type =>
  avro.Type.forSchema(schema as avro.Schema, { registry: { long: bigintLong } } as unknown as Partial<avro.ForSchemaOptions>);

const everyTypeSchema = {
  type: 'record',
  name: 'everything',
  fields: [
    { name: 'n', type: 'null', 'field-id': 1 },
    { name: 'flag', type: 'boolean', 'field-id': 2 },
    { name: 'small', type: 'int', 'field-id': 3 },
    { name: 'big', type: 'long', 'field-id': 4 },
    { name: 'f32', type: 'float', 'field-id': 5 },
    { name: 'f64', type: 'double', 'field-id': 6 },
    { name: 'raw', type: 'bytes', 'field-id': 7 },
    { name: 'text', type: 'string', 'field-id': 8 },
    { name: 'id', type: { type: 'fixed', name: 'uuid_fixed', size: 16, logicalType: 'uuid' }, 'field-id': 9 },
    { name: 'kind', type: { type: 'enum', name: 'kind_enum', symbols: ['A', 'B'] }, 'field-id': 10 },
    { name: 'longs', type: { type: 'array', items: 'long', 'element-id': 12 }, 'field-id': 11 },
    { name: 'props', type: { type: 'map', values: 'string', 'key-id': 14, 'value-id': 15 }, 'field-id': 13 },
    {
      name: 'maybe',
      type: ['null', { type: 'record', name: 'r16', fields: [{ name: 'x', type: 'long', 'field-id': 17 }] }],
      default: null,
      'field-id': 16,
    },
    { name: 'other_id', type: ['null', 'uuid_fixed'], default: null, 'field-id': 18 },
    { name: 'either', type: ['string', 'long'], 'field-id': 19 },
  ],
} as const;

function everyTypeRecord(i: number): Record<string, unknown> {
  const id = new Uint8Array(16).fill(i & 0xff);
  return {
    n: null,
    flag: i % 2 === 0,
    small: i % 3 === 0 ? -2147483648 : 2147483647 - i,
    big: i % 2 === 0 ? 9007199254740993n + BigInt(i) : -9223372036854775808n + BigInt(i),
    f32: 1.5,
    f64: i % 4 === 0 ? -0 : Math.PI * i,
    raw: Uint8Array.of(0, 255, i & 0xff),
    text: `név ${i} 😀`,
    id,
    kind: i % 2 === 0 ? 'A' : 'B',
    longs: [0n, -1n, 9223372036854775807n, BigInt(i)],
    props: new Map([['k', `v${i}`], ['ü', '']]),
    maybe: i % 3 === 0 ? null : { x: -9007199254740993n },
    other_id: i % 2 === 0 ? id : null,
    either: i % 2 === 0 ? `s${i}` : BigInt(-i),
  };
}

describe('Avro binary encoding', () => {
  it('writes longs as zigzag varints, exact across the whole int64 range', () => {
    const codec = compileAvroSchema('long');
    const known: [bigint, string][] = [
      [0n, '00'], [-1n, '01'], [1n, '02'], [-64n, '7f'], [64n, '8001'],
      [9223372036854775807n, 'feffffffffffffffff01'],
      [-9223372036854775808n, 'ffffffffffffffffff01'],
    ];
    for (const [value, expected] of known) {
      assert.equal(hex(encodeAvroValue(codec, value)), expected, `encode ${value}`);
      assert.equal(decodeAvroValue(codec, Buffer.from(expected, 'hex')), value, `decode ${expected}`);
    }
    const edges = [2n ** 52n, 2n ** 53n, 2n ** 49n, 2n ** 56n, 2n ** 62n];
    const values = edges.flatMap((e) => [e - 1n, e, e + 1n, -e - 1n, -e, -e + 1n]);
    values.push(9007199254740993n, -9007199254740993n, 1234567890123456789n, -987654321987654321n);
    for (const value of values) {
      const bytes = encodeAvroValue(codec, value);
      assert.equal(hex(bytes), referenceLongBytes(value), `encode ${value}`);
      assert.equal(decodeAvroValue(codec, bytes), value, `decode ${value}`);
    }
  });

  it('writes ints as zigzag varints', () => {
    const codec = compileAvroSchema('int');
    for (const [value, expected] of [[0, '00'], [-1, '01'], [63, '7e'], [-2147483648, 'ffffffff0f'], [2147483647, 'feffffff0f']] as const) {
      assert.equal(hex(encodeAvroValue(codec, value)), expected);
      assert.equal(decodeAvroValue(codec, Buffer.from(expected, 'hex')), value);
    }
  });

  it('produces the same bytes as avsc for every supported type', () => {
    const ours = compileAvroSchema(everyTypeSchema as unknown as AvroSchemaJson);
    const theirs = avscType(everyTypeSchema);
    for (let i = 0; i < 12; i++) {
      const record = everyTypeRecord(i);
      const avscValue = {
        ...record,
        raw: Buffer.from(record.raw as Uint8Array),
        id: Buffer.from(record.id as Uint8Array),
        other_id: record.other_id === null ? null : Buffer.from(record.other_id as Uint8Array),
        props: Object.fromEntries(record.props as Map<string, string>),
      };
      const expected = theirs.toBuffer(avscValue);
      const actual = encodeAvroValue(ours, record);
      assert.equal(hex(actual), expected.toString('hex'), `record ${i}`);
      assert.deepEqual(decodeAvroValue(ours, actual), record, `record ${i} decodes back`);
    }
  });

  it('names the field path when a value does not fit the schema', () => {
    const codec = compileAvroSchema(everyTypeSchema as unknown as AvroSchemaJson);
    const record = { ...everyTypeRecord(1), longs: [1n, 2] };
    assert.throws(
      () => encodeAvroValue(codec, record),
      (error: unknown) => error instanceof AvroEncodingError && /longs\.\[1\]: expected bigint/.test(error.message),
    );
    const missing: Record<string, unknown> = { ...everyTypeRecord(1) };
    delete missing.text;
    assert.throws(() => encodeAvroValue(codec, missing), /text: .*missing required field/);
  });

  it('resolves named types referenced by name, as Java writes repeated fixed types', () => {
    const schema = {
      type: 'record',
      name: 'r102',
      fields: [
        { name: 'a', type: ['null', { type: 'fixed', name: 'decimal_9_2', size: 4, logicalType: 'decimal', precision: 9, scale: 2 }], default: null, 'field-id': 1000 },
        { name: 'b', type: ['null', 'decimal_9_2'], default: null, 'field-id': 1001 },
      ],
    };
    const codec = compileAvroSchema(schema);
    const value = { a: Uint8Array.of(0, 0, 0, 1), b: Uint8Array.of(255, 255, 255, 255) };
    assert.deepEqual(decodeAvroValue(codec, encodeAvroValue(codec, value)), value);
  });
});

describe('Avro object container files', () => {
  const records = Array.from({ length: 50 }, (_, i) => everyTypeRecord(i));

  it('stores the schema JSON verbatim (field-id and element-id survive) and reads it back', () => {
    const schemaText = JSON.stringify(everyTypeSchema);
    for (const codec of ['null', 'deflate'] as const) {
      const bytes = writeAvroContainer({
        schema: everyTypeSchema,
        metadata: { 'format-version': '2', schema: '{"type":"struct"}' },
        records,
        codec,
        recordsPerBlock: 7,
      });
      assert.equal(hex(bytes.subarray(0, 4)), '4f626a01', 'magic Obj\\x01');
      const read = readAvroContainer(bytes);
      assert.equal(read.schemaJson, schemaText);
      assert.equal(read.metadata['avro.schema'], schemaText);
      assert.match(read.metadata['avro.schema'] as string, /"field-id":4/);
      assert.match(read.metadata['avro.schema'] as string, /"element-id":12/);
      assert.equal(read.codec, codec);
      assert.equal(read.metadata['avro.codec'], codec);
      assert.equal(read.metadata['format-version'], '2');
      assert.equal(read.metadata.schema, '{"type":"struct"}');
      assert.deepEqual(read.records, records);
    }
  });

  it('deflate output is raw RFC 1951 that avsc reads, longs above 2^53 included', async () => {
    const bytes = writeAvroContainer({ schema: everyTypeSchema, records, codec: 'deflate', recordsPerBlock: 16 });
    const decoded: unknown[] = [];
    let headerSchema: unknown;
    const decoder = new avro.streams.BlockDecoder({
      parseHook: (schema: avro.Schema) => {
        headerSchema = schema;
        return avscType(schema);
      },
    });
    await new Promise<void>((resolve, reject) => {
      decoder.on('data', (record: unknown) => decoded.push(record));
      decoder.on('end', resolve);
      decoder.on('error', reject);
      Readable.from([Buffer.from(bytes)]).pipe(decoder);
    });
    assert.deepEqual(headerSchema, JSON.parse(JSON.stringify(everyTypeSchema)));
    assert.equal(decoded.length, records.length);
    decoded.forEach((value, i) => {
      const record = value as Record<string, unknown>;
      const expected = records[i] as Record<string, unknown>;
      assert.equal(record.big, expected.big);
      assert.deepEqual(record.longs, expected.longs);
      assert.equal(record.text, expected.text);
    });
  });

  it('reads deflate files written by avsc', async () => {
    const encoder = new avro.streams.BlockEncoder(avscType(everyTypeSchema), { codec: 'deflate', blockSize: 200 });
    const chunks: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      encoder.on('data', (chunk: Buffer) => chunks.push(chunk));
      encoder.on('end', resolve);
      encoder.on('error', reject);
    });
    const avscRecords = Array.from({ length: 30 }, (_, i) => ({
      ...everyTypeRecord(i),
      raw: Buffer.from([1, 2, i]),
      id: Buffer.alloc(16, i),
      props: { k: `v${i}` },
      maybe: null,
      other_id: null,
      either: BigInt(i) * 9007199254740993n,
    }));
    for (const record of avscRecords) encoder.write(record);
    encoder.end();
    await done;
    const read = readAvroContainer(new Uint8Array(Buffer.concat(chunks)));
    assert.equal(read.codec, 'deflate');
    assert.equal(read.records.length, 30);
    read.records.forEach((value, i) => {
      const record = value as Record<string, unknown>;
      assert.equal(record.big, (avscRecords[i] as Record<string, unknown>).big);
      assert.equal(record.either, BigInt(i) * 9007199254740993n);
      assert.deepEqual(record.raw, Uint8Array.of(1, 2, i));
      assert.deepEqual(record.props, new Map([['k', `v${i}`]]));
    });
  });

  it('refuses codecs it cannot read, naming the codec', () => {
    const header = new AvroWriter();
    header.writeFixed(Uint8Array.of(0x4f, 0x62, 0x6a, 0x01));
    header.writeSafeLong(2);
    header.writeString('avro.schema');
    header.writeBytes(Buffer.from('"long"'));
    header.writeString('avro.codec');
    header.writeBytes(Buffer.from('snappy'));
    header.writeSafeLong(0);
    header.writeFixed(new Uint8Array(16));
    assert.throws(() => readAvroContainer(header.toBytes()), /unsupported Avro codec "snappy"/);
    assert.throws(
      () => writeAvroContainer({ schema: '"long"', records: [], codec: 'zstandard' as 'null' }),
      /unsupported Avro codec "zstandard"/,
    );
  });

  it('detects a corrupt sync marker and reserved metadata keys', () => {
    const bytes = writeAvroContainer({ schema: '"long"', records: [1n, 2n], codec: 'null' });
    const corrupt = bytes.slice();
    corrupt[corrupt.length - 1] = (corrupt[corrupt.length - 1] as number) ^ 0xff;
    assert.throws(() => readAvroContainer(corrupt), /sync marker mismatch/);
    assert.throws(() => writeAvroContainer({ schema: '"long"', metadata: { 'avro.codec': 'x' }, records: [], codec: 'null' }), /reserved/);
  });

  it('writes a header-only file for zero records', () => {
    const read = readAvroContainer(writeAvroContainer({ schema: '"long"', records: [], codec: 'deflate' }));
    assert.deepEqual(read.records, []);
  });
});

describe('Avro records with hostile field names', () => {
  it('decodes a field named __proto__ as data and never evaluates names as code', () => {
    const schema = {
      type: 'record',
      name: 'odd',
      fields: [
        { name: '__proto__', type: 'int' },
        { name: '"]; throw new Error("injected"); //', type: 'string' },
      ],
    };
    const codec = compileAvroSchema(schema);
    const value = JSON.parse('{"__proto__": 5, "\\"]; throw new Error(\\"injected\\"); //": "ok"}') as Record<string, unknown>;
    const decoded = decodeAvroValue(codec, encodeAvroValue(codec, value)) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value, 5);
    assert.equal(decoded['"]; throw new Error("injected"); //'], 'ok');
  });
});
