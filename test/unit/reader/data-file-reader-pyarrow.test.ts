// scanColumns on Parquet written by another writer (pyarrow): Arrow units floe never writes —
// millisecond and nanosecond timestamps, time32, dictionary-encoded and large strings, decimals
// stored as INT32/INT64 — come back in floe's value forms (µs bigint, days, unscaled bigint).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { LocalFileIO, pathToUri } from '../../../src/io/local-file-io.ts';
import { UnsupportedError } from '../../../src/errors.ts';
import { scanColumns } from '../../../src/reader/data-file-reader.ts';
import { FileContent, type DataFile } from '../../../src/spec/data-file.ts';
import type { PrimitiveValue } from '../../../src/spec/types.ts';
import { VENV_PYTHON } from '../../support/readers.ts';

// Each column: field id, pyarrow type, values; expected values are what floe's parsers give.
const SCRIPT = String.raw`
import sys, datetime, decimal, pyarrow as pa, pyarrow.parquet as pq
cols = [
  (1, "ts_ms", pa.timestamp("ms"), [datetime.datetime(1969,12,31,23,59,59,999000), datetime.datetime(2024,2,29,12,0,0,123000), None]),
  (2, "ts_ns", pa.timestamp("ns", tz="UTC"), [-1001, 1700000000123456789, None]),
  (3, "t_ms", pa.time32("ms"), [datetime.time(0,0,0,1000), datetime.time(23,59,59,999000), None]),
  (4, "t_ns", pa.time64("ns"), [1999, 86399999999999, None]),
  (5, "day", pa.date32(), [datetime.date(1969,12,31), datetime.date(2024,2,29), None]),
  (6, "dict", pa.dictionary(pa.int32(), pa.string()), ["b", "a", None]),
  (7, "large", pa.large_string(), ["x" * 3, "héllo", None]),
  (8, "dec_i32", pa.decimal128(5, 2), [decimal.Decimal("-999.99"), decimal.Decimal("1.05"), None]),
  (9, "dec_i64", pa.decimal128(18, 3), [decimal.Decimal("-123456789012345.678"), decimal.Decimal("0.001"), None]),
  (10, "lbin", pa.large_binary(), [b"\x00\xff", b"", None]),
  (11, "i16", pa.int16(), [-32768, 7, None]),
  (12, "f32", pa.float32(), [1.5, -0.0, None]),
  (13, "b", pa.bool_(), [True, False, None]),
]
fields = [pa.field(n, t, nullable=True, metadata={b"PARQUET:field_id": str(i).encode()}) for i, n, t, _ in cols]
arrays = []
for i, n, t, v in cols:
    if pa.types.is_dictionary(t):
        arrays.append(pa.array(v).dictionary_encode())
    else:
        arrays.append(pa.array(v, t))
table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
pq.write_table(table, sys.argv[1], row_group_size=2, store_schema=True, use_dictionary=True)
`;

const EXPECTED: Record<number, (PrimitiveValue | null)[]> = {
  1: [-1000n, 1709208000123000n, null],
  2: [-2n, 1700000000123456n, null], // -1001 ns floors to -2 µs
  3: [1000n, 86399999000n, null],
  4: [1n, 86399999999n, null],
  5: [-1, 19782, null],
  6: ['b', 'a', null],
  7: ['xxx', 'héllo', null],
  8: [-99999n, 105n, null],
  9: [-123456789012345678n, 1n, null],
  10: [Uint8Array.of(0, 255), new Uint8Array(0), null],
  11: [-32768, 7, null],
  12: [1.5, -0, null],
  13: [true, false, null],
};

test('values of other writers\' Arrow types read as floe values', { skip: !existsSync(VENV_PYTHON) && `no Python venv at ${VENV_PYTHON} (set FLOE_VENV)` }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'floe-scan-'));
  try {
    const file = path.join(dir, 'pyarrow.parquet');
    execFileSync(VENV_PYTHON, ['-c', SCRIPT, file]);
    const dataFile: DataFile = {
      content: FileContent.Data, filePath: pathToUri(file), fileFormat: 'parquet', specId: 0, partition: [],
      recordCount: 3n, fileSizeInBytes: BigInt(statSync(file).size),
    };
    const ids = Object.keys(EXPECTED).map(Number);
    for (const readWholeBelowBytes of [undefined, 0]) {
      const got = new Map<number, (PrimitiveValue | null)[]>(ids.map((id) => [id, []]));
      await scanColumns(new LocalFileIO(), dataFile, ids, (_first, n, col) => {
        for (const id of ids) for (let i = 0; i < n; i++) got.get(id)!.push(col(id)(i));
      }, { batchSize: 2, ...(readWholeBelowBytes === undefined ? {} : { readWholeBelowBytes }) });
      for (const id of ids) {
        const want = EXPECTED[id]!;
        const have = got.get(id)!;
        assert.equal(have.length, want.length);
        want.forEach((w, i) => {
          const h = have[i]!;
          const same = w instanceof Uint8Array ? h instanceof Uint8Array && Buffer.from(h).equals(Buffer.from(w)) : Object.is(h, w);
          assert.ok(same, `field ${id} row ${i}: read ${String(h)}, expected ${String(w)}`);
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file without any field ids is refused, naming the file (its columns would all read as null)', { skip: !existsSync(VENV_PYTHON) && `no Python venv at ${VENV_PYTHON} (set FLOE_VENV)` }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'floe-scan-'));
  try {
    const file = path.join(dir, 'no-ids.parquet');
    execFileSync(VENV_PYTHON, ['-c', 'import sys, pyarrow as pa, pyarrow.parquet as pq; pq.write_table(pa.table({"id": [1, 2]}), sys.argv[1])', file]);
    const dataFile: DataFile = {
      content: FileContent.Data, filePath: pathToUri(file), fileFormat: 'parquet', specId: 0, partition: [],
      recordCount: 2n, fileSizeInBytes: BigInt(statSync(file).size),
    };
    await assert.rejects(scanColumns(new LocalFileIO(), dataFile, [1], () => {}), (e) => e instanceof UnsupportedError && e.message.includes('no-ids.parquet'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
