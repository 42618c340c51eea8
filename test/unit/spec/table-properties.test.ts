// Table properties: names and defaults hard-checked against Iceberg's own (values looked up in
// Java apache/iceberg core/src/main/java/org/apache/iceberg/TableProperties.java and pyiceberg
// 0.12.0 pyiceberg/table/__init__.py `class TableProperties`), the typed readers, and a scan
// that no property name is spelled as a raw string outside src/spec/table-properties.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '../../../src/errors.ts';
import * as P from '../../../src/spec/table-properties.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('table property defaults equal Iceberg\'s', () => {
  // [property, name, default] as written in Java's TableProperties (and pyiceberg where it has it).
  const iceberg: Array<[P.TableProperty<unknown>, string, unknown]> = [
    [P.COMMIT_NUM_RETRIES, 'commit.retry.num-retries', 4],                         // COMMIT_NUM_RETRIES_DEFAULT = 4
    [P.COMMIT_MIN_RETRY_WAIT_MS, 'commit.retry.min-wait-ms', 100],                  // = 100
    [P.COMMIT_MAX_RETRY_WAIT_MS, 'commit.retry.max-wait-ms', 60000],                // = 60 * 1000
    [P.COMMIT_TOTAL_RETRY_TIME_MS, 'commit.retry.total-timeout-ms', 1800000],       // = 30 * 60 * 1000
    [P.MANIFEST_MERGE_ENABLED, 'commit.manifest-merge.enabled', true],              // Java: true (pyiceberg: False)
    [P.MANIFEST_MIN_MERGE_COUNT, 'commit.manifest.min-count-to-merge', 100],        // = 100
    [P.MANIFEST_TARGET_SIZE_BYTES, 'commit.manifest.target-size-bytes', 8388608],   // = 8 MB
    [P.WRITE_TARGET_FILE_SIZE_BYTES, 'write.target-file-size-bytes', 536870912],    // = 512 MB
    [P.PARQUET_ROW_GROUP_SIZE_BYTES, 'write.parquet.row-group-size-bytes', 134217728], // = 128 MB
    [P.DELETE_PARQUET_ROW_GROUP_SIZE_BYTES, 'write.delete.parquet.row-group-size-bytes', 134217728],
    [P.PARQUET_COMPRESSION, 'write.parquet.compression-codec', 'zstd'],             // PARQUET_COMPRESSION_DEFAULT_SINCE_1_4_0; pyiceberg "zstd"
    [P.DELETE_PARQUET_COMPRESSION, 'write.delete.parquet.compression-codec', 'zstd'],
    [P.DEFAULT_WRITE_METRICS_MODE, 'write.metadata.metrics.default', 'truncate(16)'],
    [P.METADATA_PREVIOUS_VERSIONS_MAX, 'write.metadata.previous-versions-max', 100],
    [P.WRITE_AUDIT_PUBLISH_ENABLED, 'write.wap.enabled', false],                    // Java: "false"
    [P.UPSERT_ENABLED, 'write.upsert.enabled', false],
    [P.MAX_SNAPSHOT_AGE_MS, 'history.expire.max-snapshot-age-ms', 432000000],      // = 5 days
    [P.MIN_SNAPSHOTS_TO_KEEP, 'history.expire.min-snapshots-to-keep', 1],
    [P.FORMAT_VERSION, 'format-version', 2],                                        // pyiceberg DEFAULT_FORMAT_VERSION = 2
  ];
  for (const [p, name, dflt] of iceberg) {
    test(`${name} = ${String(dflt)}`, () => {
      assert.equal(p.name, name);
      assert.equal(p.default, dflt);
    });
  }

  test('metrics column prefix and the reserved keys are Java\'s', () => {
    assert.equal(P.METRICS_MODE_COLUMN_CONF_PREFIX, 'write.metadata.metrics.column.');
    assert.equal(P.metricsModeColumnProperty('a.b').name, 'write.metadata.metrics.column.a.b');
    assert.deepEqual([...P.RESERVED_PROPERTIES].sort(), [
      'current-schema', 'current-snapshot-id', 'current-snapshot-summary', 'current-snapshot-timestamp-ms',
      'default-partition-spec', 'default-sort-order', 'format-version', 'snapshot-count', 'uuid',
    ]);
  });

  test('deliberate differences: row-level modes default to merge-on-read (Iceberg: copy-on-write), ref age to the largest exact number (Java: Long.MAX_VALUE)', () => {
    assert.deepEqual([P.MERGE_MODE, P.UPDATE_MODE, P.DELETE_MODE].map((p) => [p.name, p.default]), [
      ['write.merge.mode', 'merge-on-read'], ['write.update.mode', 'merge-on-read'], ['write.delete.mode', 'merge-on-read'],
    ]);
    assert.equal(P.MAX_REF_AGE_MS.name, 'history.expire.max-ref-age-ms');
    assert.equal(P.MAX_REF_AGE_MS.default, Number.MAX_SAFE_INTEGER);
  });
});

describe('typed readers', () => {
  const meta = { properties: { 'write.target-file-size-bytes': '1000', 'write.wap.enabled': 'TRUE', 'write.parquet.compression-codec': 'snappy' } };

  test('read from metadata or a bare map; defaults when unset', () => {
    assert.equal(P.intProperty(meta, P.WRITE_TARGET_FILE_SIZE_BYTES), 1000);
    assert.equal(P.intProperty(meta.properties, P.WRITE_TARGET_FILE_SIZE_BYTES), 1000);
    assert.equal(P.intProperty({}, P.WRITE_TARGET_FILE_SIZE_BYTES), 536870912);
    assert.equal(P.intProperty({}, P.WRITE_TARGET_FILE_SIZE_BYTES, 7), 7);
    assert.equal(P.boolProperty(meta, P.WRITE_AUDIT_PUBLISH_ENABLED), true);
    assert.equal(P.boolProperty({ 'write.wap.enabled': 'yes' }, P.WRITE_AUDIT_PUBLISH_ENABLED), false);
    assert.equal(P.boolProperty({}, P.MANIFEST_MERGE_ENABLED), true);
    assert.equal(P.stringProperty(meta, P.PARQUET_COMPRESSION), 'snappy');
    assert.equal(P.stringProperty({}, P.metricsModeColumnProperty('x')), undefined);
  });

  test('a table property named "properties" is still read from a bare map', () => {
    assert.equal(P.stringProperty({ properties: 'x', 'write.parquet.compression-codec': 'gzip' }, P.PARQUET_COMPRESSION), 'gzip');
  });

  test('delete-file properties fall back to the data-file ones, then to the default', () => {
    assert.equal(P.stringProperty(meta, P.DELETE_PARQUET_COMPRESSION), 'snappy');
    assert.equal(P.stringProperty({ ...meta.properties, 'write.delete.parquet.compression-codec': 'gzip' }, P.DELETE_PARQUET_COMPRESSION), 'gzip');
    assert.equal(P.stringProperty({}, P.DELETE_PARQUET_COMPRESSION), 'zstd');
    assert.equal(P.intProperty({ 'write.parquet.row-group-size-bytes': '42' }, P.DELETE_PARQUET_ROW_GROUP_SIZE_BYTES), 42);
  });

  test('a non-numeric value is a ValidationError naming the property', () => {
    assert.throws(() => P.intProperty({ 'commit.retry.num-retries': 'four' }, P.COMMIT_NUM_RETRIES),
      (e: unknown) => e instanceof ValidationError && e.message === 'table property commit.retry.num-retries=four is not a number');
  });
});

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...await sourceFiles(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

test('no property name is spelled as a string literal outside src/spec/table-properties.ts', async () => {
  const names = (Object.values(P) as unknown[]).filter((v): v is P.TableProperty<unknown> => typeof v === 'object' && v !== null && 'name' in v).map((p) => p.name)
    // `format-version` is also a field of the metadata JSON and a manifest Avro header key.
    .filter((n) => n !== P.FORMAT_VERSION.name);
  names.push(P.METRICS_MODE_COLUMN_CONF_PREFIX, P.WAP_AUDIT_PROPERTY_PREFIX);
  assert.ok(names.length > 20);
  const offenders: string[] = [];
  for (const dir of ['src', 'catalog', 'compaction', 'bin', 'api']) {
    const files = await sourceFiles(path.join(ROOT, dir)).catch(() => []);
    for (const file of files) {
      if (file.endsWith(path.join('spec', 'table-properties.ts'))) continue;
      const lines = (await readFile(file, 'utf8')).split('\n');
      lines.forEach((line, i) => {
        const code = line.replace(/^\s*(\/\/|\*|\/\*).*$/, '');
        for (const n of names) {
          for (const q of ["'", '"', '`']) {
            if (code.includes(`${q}${n}${q}`) || (n.endsWith('.') && code.includes(`${q}${n}`))) offenders.push(`${path.relative(ROOT, file)}:${i + 1}: ${n}`);
          }
        }
      });
    }
  }
  assert.deepEqual(offenders, []);
});
