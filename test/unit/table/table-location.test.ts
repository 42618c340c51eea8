// The pure location rules: one spelling per place, overlap by whole path segments, and which
// table a file belongs to when folders nest (catalogs made before overlaps were refused).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../../src/errors.ts';
import {
  comparableLocation, isWithinLocation, locationsOverlap, ownedByAnotherTable, validateTableLocation,
} from '../../../src/table/table-location.ts';

describe('table locations', () => {
  test('file:/, file:///, file://localhost/, bare paths, repeated and trailing slashes, dot segments: one spelling', () => {
    for (const s of ['file:/w/t', 'file:///w/t', 'file://localhost/w/t', '/w/t', '/w/t/', '//w//t//', 'file:///w/x/../t', '/w/./t']) {
      assert.equal(comparableLocation(s), '/w/t', s);
    }
    assert.equal(comparableLocation('s3://bucket/w//t/'), 's3://bucket/w/t');
    assert.equal(comparableLocation('/'), '/');
  });

  test('overlap is by whole segments, in both directions, across spellings', () => {
    assert.ok(locationsOverlap('file:///w/a/b', '/w/a/b/'));
    assert.ok(locationsOverlap('file:/w/a/b', 'file:///w/a/b/data/x'));
    assert.ok(locationsOverlap('/w/a/b/data/x', 'file:/w/a/b'));
    assert.ok(!locationsOverlap('/w/a/b', '/w/a/bc'));
    assert.ok(!locationsOverlap('/w/a/b2', '/w/a/b'));
    assert.ok(!locationsOverlap('s3://x/w/a', '/w/a'));
    assert.ok(isWithinLocation('/w/a', '/'));
  });

  test('validateTableLocation on S3: a valid bucket, no empty segments (Hadoop readers collapse //)', () => {
    assert.equal(validateTableLocation('s3://bucket/wh/t/'), 's3://bucket/wh/t');
    assert.equal(validateTableLocation('s3a://bucket/wh/a b%/t'), 's3a://bucket/wh/a b%/t');
    for (const bad of ['s3://bucket/wh//t', 's3://bucket//wh', 's3:///wh/t', 's3://Bucket/wh/t', 's3://b/wh/t']) {
      assert.throws(() => validateTableLocation(bad), ValidationError, bad);
    }
    assert.equal(validateTableLocation('file:///w//t'), 'file:///w//t', 'a local path with // names the same folder');
  });

  test('s3://, s3a://, s3n:// (any case) of one bucket name the same objects: they overlap; a shared string prefix (t vs t2) does not', () => {
    assert.equal(comparableLocation('s3a://b/wh/t/'), 's3://b/wh/t');
    assert.equal(comparableLocation('S3N://b/wh/t'), 's3://b/wh/t');
    assert.ok(locationsOverlap('s3://b/wh/t', 's3a://b/wh/t/sub'));
    assert.ok(locationsOverlap('s3n://b/wh/t/sub', 's3://b/wh/t'));
    assert.ok(locationsOverlap('S3://b/wh/t', 's3://b/wh/t'));
    assert.ok(isWithinLocation('s3a://b/wh/t/data/x.parquet', 's3://b/wh/t'));
    assert.ok(!locationsOverlap('s3://b/wh/t', 's3a://b/wh/t2'));
    assert.ok(!locationsOverlap('s3://b/wh/t', 's3://other/wh/t'));
    assert.ok(!locationsOverlap('s3://b/wh/t', 'gs://b/wh/t'));
    const others = [{ identifier: 'ns.inner', location: 's3a://b/wh/t/sub', metadataLocation: 's3a://b/wh/t/sub/metadata/v1.json' }];
    assert.equal(ownedByAnotherTable('s3://b/wh/t/sub/data/f.parquet', 's3://b/wh/t', others)?.identifier, 'ns.inner');
  });

  test('a file in our folder is ours unless a table nested in our folder holds it', () => {
    const others = [
      { identifier: 'a.b.data.x', location: 'file:///w/a/b/data/x', metadataLocation: '' },
      { identifier: 'a', location: 'file:///w/a', metadataLocation: '' },
    ];
    assert.equal(ownedByAnotherTable('file:///w/a/b/data/x/data/f.parquet', 'file:///w/a/b', others)?.identifier, 'a.b.data.x');
    assert.equal(ownedByAnotherTable('file:///w/a/b/data/f.parquet', 'file:///w/a/b', others), undefined);
    // Outside our folder, inside another's: theirs.
    assert.equal(ownedByAnotherTable('file:///w/a/data/g.parquet', 'file:///w/a/b', others)?.identifier, 'a');
    // A table at our very location claims every file.
    assert.ok(ownedByAnotherTable('/w/t/data/f', '/w/t', [{ identifier: 'twin', location: 'file:/w/t/', metadataLocation: '' }]));
  });

  test('validateTableLocation: trims trailing slashes, refuses relative, root and dot-segment locations', () => {
    assert.equal(validateTableLocation('file:///w/t/'), 'file:///w/t');
    assert.equal(validateTableLocation('/w/t//'), '/w/t');
    assert.equal(validateTableLocation('s3://bucket/t/'), 's3://bucket/t');
    for (const bad of ['relative/t', '', '/', 'file:///', 'file:/', '/w/../t', 'file:///w/./t', 's3://bucket/']) {
      assert.throws(() => validateTableLocation(bad), ValidationError, bad);
    }
  });
});
