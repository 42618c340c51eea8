// One error hierarchy: every error floe throws is a FloeError (kind + retryable). A scan of the
// sources fails on a bare `new Error(` / `new TypeError(` / `new RangeError(` or a class that
// `extends Error` outside src/errors.ts (a short allow-list says why each exception must stay);
// then the classes that used to stand apart are checked by throwing them for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DecodingError, FileIOError, FloeError, InternalError, InvalidMetadataError, ValidationError, ValueTypeError,
} from '../../src/errors.ts';
import { AvroDecodingError, AvroEncodingError } from '../../src/format/avro/avro-binary.ts';
import { readAvroContainer, writeAvroContainer } from '../../src/format/avro/avro-container.ts';
import { readManifestList } from '../../src/format/manifest-reader.ts';
import { writeManifest } from '../../src/format/manifest-writer.ts';
import { encodeSingleValue } from '../../src/spec/single-value.ts';
import { applyTransform, parseTransform } from '../../src/spec/transforms.ts';
import { MemoryFileIO } from '../../src/io/memory-file-io.ts';
import { manifestEntries } from '../../src/transaction/table-manifests.ts';
import { namingParquetFile } from '../../src/reader/parquet-read-errors.ts';
import { RangedBlob } from '../../src/io/ranged-blob.ts';
import { ValueError } from '../../src/writer/value-parsers.ts';
import { PartitionValueError } from '../../src/writer/data-file-writer.ts';
import { ManifestContent, type ManifestFile } from '../../src/spec/data-file.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIRS = ['src', 'catalog', 'compaction', 'bin', 'api'];

/** [file, the exact code that stays, why]. Each entry must still match (no stale entries). */
const ALLOWED: ReadonlyArray<readonly [string, string, string]> = [
  ['src/spec/json.ts', 'return new SyntaxError(',
    'parseJsonExact throws JSON.parse\'s own SyntaxError for malformed text; the overflow refusal is the same class so callers (metadata readers) wrap one kind'],
  ['src/transaction/commit-with-retry.ts', 'err instanceof Error ? err : new Error(String(err))',
    'normalises a non-Error value thrown by a caller\'s hook so its message can be read; floe never creates it as its own error'],
];

const BARE = /\bnew (Error|TypeError|RangeError|SyntaxError|ReferenceError|EvalError|AggregateError)\(|\bextends (Error|TypeError|RangeError|SyntaxError)\b|\bthrow ['"`]/;

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...await sourceFiles(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

test('no bare Error, TypeError, RangeError or `extends Error` outside src/errors.ts', async () => {
  const offenders: string[] = [];
  const used = new Set<number>();
  for (const dir of DIRS) {
    for (const file of await sourceFiles(path.join(ROOT, dir))) {
      const rel = path.relative(ROOT, file).split(path.sep).join('/');
      if (rel === 'src/errors.ts') continue;
      (await readFile(file, 'utf8')).split('\n').forEach((line, i) => {
        if (/^\s*(\/\/|\*|\/\*)/.test(line) || !BARE.test(line)) return;
        const allowed = ALLOWED.findIndex(([f, code]) => f === rel && line.includes(code));
        if (allowed >= 0) used.add(allowed);
        else offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  assert.deepEqual(offenders, []);
  assert.deepEqual(ALLOWED.filter((_, i) => !used.has(i)).map(([f, code]) => `${f}: ${code}`), [], 'stale allow-list entries');
});

test('the scan sees what it should: its pattern matches each bare form', () => {
  for (const line of ["throw new Error('x')", 'throw new TypeError(`x`)', 'return new RangeError(m)', 'class A extends Error {}', "throw 'x'"]) {
    assert.ok(BARE.test(line), line);
  }
  for (const line of ["throw new ValidationError('x')", 'class A extends FloeError {}', 'new FileIOError(m)']) {
    assert.ok(!BARE.test(line), line);
  }
});

test('transforms: a bad transform is a ValidationError, a value of the wrong form a ValueTypeError', () => {
  assert.throws(() => parseTransform('bucket[0]'), (e: unknown) => e instanceof ValidationError && e.kind === 'validation' && e.message.includes("'bucket[0]'"));
  assert.throws(() => parseTransform('shuffle'), (e: unknown) => e instanceof ValidationError && e.message === "Unknown partition transform 'shuffle'");
  assert.throws(() => applyTransform({ kind: 'bucket', n: 4 }, { kind: 'long' }, 34),
    (e: unknown) => e instanceof ValueTypeError && e instanceof FloeError && e.message === 'A long value must be a bigint, got number');
  assert.throws(() => encodeSingleValue({ kind: 'int' }, 2 ** 31),
    (e: unknown) => e instanceof ValidationError && !(e instanceof ValueTypeError) && e.message === 'int value must be a 32-bit integer, got 2147483648');
});

test('Avro: encoding errors are ValidationErrors naming the field path, decoding errors DecodingErrors', () => {
  const schema = { type: 'record', name: 'r', fields: [{ name: 'n', type: 'long' }] };
  assert.throws(() => writeAvroContainer({ schema, records: [{ n: 'x' }], codec: 'null' }),
    (e: unknown) => e instanceof AvroEncodingError && e instanceof ValidationError && e.message === "Avro record 0: n: expected bigint for Avro long, got string");
  assert.throws(() => readAvroContainer(new Uint8Array([1, 2, 3, 4])),
    (e: unknown) => e instanceof AvroDecodingError && e instanceof DecodingError && e.kind === 'invalid-metadata' && !e.retryable);
  assert.throws(() => writeAvroContainer({ schema, records: [], codec: 'snappy' as 'null' }),
    (e: unknown) => e instanceof FloeError && e.kind === 'unsupported');
});

test('manifests: a writer refusal is a ValidationError; undecodable bytes name the file once read through the table', async () => {
  assert.throws(() => writeManifest({ path: 'm.avro', entries: [] } as unknown as Parameters<typeof writeManifest>[0]),
    (e: unknown) => e instanceof ValidationError && e.message === 'manifest m.avro would be empty');
  assert.throws(() => readManifestList(new Uint8Array([0x4f, 0x62, 0x6a, 0x01, 0])), (e: unknown) => e instanceof DecodingError);

  const io = new MemoryFileIO();
  const file = 'memory://t/metadata/bad-m0.avro';
  await io.writeNew(file, new Uint8Array([9, 9, 9, 9]));
  const manifest = { manifestPath: file, manifestLength: 4, content: ManifestContent.Data } as unknown as ManifestFile;
  await assert.rejects(manifestEntries(io, manifest),
    (e: unknown) => e instanceof InvalidMetadataError && e.file === file && e.message.startsWith(`invalid metadata file ${file}: cannot read manifest: `));
});

test('a DecodingError met while reading Parquet still gets the file named', async () => {
  await assert.rejects(namingParquetFile('s3://b/f.parquet', () => { throw new DecodingError('bad bytes'); }),
    (e: unknown) => e instanceof InvalidMetadataError && e.file === 's3://b/f.parquet' && e.message === 'invalid metadata file s3://b/f.parquet: cannot read Parquet data: bad bytes');
  const own = new ValidationError('keep me');
  await assert.rejects(namingParquetFile('f', () => { throw own; }), (e: unknown) => e === own);
});

test('value and partition errors of the writer are ValidationErrors; InternalError says it is a bug', () => {
  assert.ok(new ValueError('x') instanceof ValidationError);
  const p = new PartitionValueError('ts', 'not a timestamp');
  assert.ok(p instanceof ValidationError);
  assert.deepEqual([p.field, p.reason, p.message], ['ts', 'not a timestamp', 'not a timestamp']);
  const i = new InternalError('unreachable plan 7');
  assert.deepEqual([i.kind, i.retryable, i.message], ['internal', false, 'internal error (a floe bug): unreachable plan 7']);
});

test('a short ranged read is a FileIOError naming the object (it is no longer wrapped by namingParquetFile)', async () => {
  const blob = new RangedBlob(async (s, e) => new Uint8Array(Math.max(0, e - s - 1)), 0, 100, 's3://b/t/data/f.parquet');
  await assert.rejects(blob.slice(90).arrayBuffer(), (e: unknown) => e instanceof FileIOError
    && e.message === 'cannot read s3://b/t/data/f.parquet: ranged read of bytes 90-100 returned 9 of 10 bytes');
});
