// Table metadata v2: exact JSON round trips (64-bit ids above 2^53), the reader's errors
// (file + field path), Java's invariant checks, applyUpdates' logs, and file numbering.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CommitConflictError, InvalidMetadataError, UnsupportedError, ValidationError } from '../../../src/errors.ts';
import { Schema } from '../../../src/spec/schema.ts';
import {
  newMetadataFileLocation, newTableMetadata, parseTableMetadata, serializeTableMetadata, validateMetadata,
  type Snapshot, type TableMetadata,
} from '../../../src/spec/table-metadata.ts';
import { applyUpdates, type TableUpdate } from '../../../src/spec/table-updates.ts';

const FILE = 'file:///warehouse/db/t/metadata/00003-6f1c1c1e-0000-4000-8000-000000000000.metadata.json';
const LOCATION = 'file:///warehouse/db/t';
const UUID = '9c12d441-03fe-4693-9a96-a0705ddf69c1';
const MAX_LONG = 9223372036854775807n;
const ABOVE_2_53 = 9007199254740993n; // 2^53 + 1: the first integer a double cannot hold
const T0 = 1_700_000_000_000;

const schema = new Schema(0, [
  { id: 1, name: 'id', required: true, type: { kind: 'long' } },
  { id: 2, name: 'ts', required: false, type: { kind: 'timestamptz' } },
  {
    id: 3, name: 'tags', required: false,
    type: { kind: 'list', elementId: 4, elementRequired: true, element: { kind: 'string' } },
  },
], [1]);

function snapshot(snapshotId: bigint, sequenceNumber: bigint, parent: bigint | null, timestampMs = T0): Snapshot {
  return {
    snapshotId, parentSnapshotId: parent, sequenceNumber, timestampMs,
    manifestList: `${LOCATION}/metadata/snap-${snapshotId}-1-a.avro`,
    summary: { operation: 'append', 'added-records': '10' }, schemaId: 0,
  };
}

const branchTo = (snapshotId: bigint, refName = 'main'): TableUpdate => ({ action: 'set-snapshot-ref', refName, type: 'branch', snapshotId });

function emptyTable(properties: Record<string, string> = {}): TableMetadata {
  return newTableMetadata({
    location: LOCATION, schema, properties, nowMs: T0, tableUuid: UUID,
    spec: { specId: 0, fields: [{ sourceId: 2, fieldId: 1000, name: 'ts_day', transform: { kind: 'day' } }] },
  });
}

/** A table with two snapshots whose ids and sequence numbers do not fit in a double. */
function bigTable(): TableMetadata {
  let m = emptyTable({ 'write.target-file-size-bytes': '1024' });
  m = applyUpdates(m, null, [{ action: 'add-snapshot', snapshot: snapshot(ABOVE_2_53, ABOVE_2_53, null) }, branchTo(ABOVE_2_53)], T0 + 1);
  m = applyUpdates(m, `${LOCATION}/metadata/00001-a.metadata.json`, [
    { action: 'add-snapshot', snapshot: snapshot(MAX_LONG, ABOVE_2_53 + 1n, ABOVE_2_53, T0 + 2) },
    branchTo(MAX_LONG),
    { action: 'set-snapshot-ref', refName: 'audit', type: 'tag', snapshotId: ABOVE_2_53, maxRefAgeMs: 86_400_000 },
  ], T0 + 3);
  return { ...m, statistics: [{ 'snapshot-id': MAX_LONG, 'statistics-path': `${LOCATION}/metadata/stats.puffin`, 'file-size-in-bytes': 42 }] };
}

/** A minimal valid metadata file as plain JSON (small numbers), to break one field at a time. */
function minimalJson(): Record<string, unknown> {
  return {
    'format-version': 2,
    'table-uuid': UUID,
    location: LOCATION,
    'last-sequence-number': 1,
    'last-updated-ms': T0,
    'last-column-id': 2,
    'current-schema-id': 0,
    schemas: [{ type: 'struct', 'schema-id': 0, fields: [
      { id: 1, name: 'id', required: true, type: 'long' },
      { id: 2, name: 'name', required: false, type: 'string' },
    ] }],
    'default-spec-id': 0,
    'partition-specs': [{ 'spec-id': 0, fields: [] }],
    'last-partition-id': 999,
    'default-sort-order-id': 0,
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    properties: {},
    'current-snapshot-id': 5,
    refs: { main: { 'snapshot-id': 5, type: 'branch' } },
    snapshots: [{ 'snapshot-id': 5, 'sequence-number': 1, 'timestamp-ms': T0, 'manifest-list': `${LOCATION}/metadata/snap-5.avro`, summary: { operation: 'append' }, 'schema-id': 0 }],
    'snapshot-log': [{ 'timestamp-ms': T0, 'snapshot-id': 5 }],
    'metadata-log': [],
  };
}

function parseBroken(mutate: (j: Record<string, any>) => void): unknown {
  const j = minimalJson();
  mutate(j);
  return parseTableMetadata(JSON.stringify(j), FILE);
}

function assertInvalid(fn: () => unknown, ...messageParts: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InvalidMetadataError, `expected InvalidMetadataError, got ${String(e)}`);
    assert.equal(e.kind, 'invalid-metadata');
    assert.equal(e.file, FILE);
    assert.ok(e.message.startsWith(`invalid metadata file ${FILE}: `), e.message);
    for (const p of messageParts) assert.match(e.message, p);
    return true;
  });
}

describe('metadata JSON round trip', () => {
  test('parse(serialize(m)) deep-equals m, 64-bit ids and sequence numbers exact', () => {
    const m = bigTable();
    const text = serializeTableMetadata(m);
    const back = parseTableMetadata(text, FILE);
    assert.deepEqual(back, m);
    assert.equal(back.currentSnapshotId, MAX_LONG);
    assert.equal(back.lastSequenceNumber, ABOVE_2_53 + 1n);
    assert.deepEqual(back.snapshots.map((s) => [s.snapshotId, s.sequenceNumber, s.parentSnapshotId]), [
      [ABOVE_2_53, ABOVE_2_53, null],
      [MAX_LONG, ABOVE_2_53 + 1n, ABOVE_2_53],
    ]);
    assert.deepEqual(back.snapshotLog.map((e) => e.snapshotId), [ABOVE_2_53, MAX_LONG]);
    assert.deepEqual(back.refs.audit, { snapshotId: ABOVE_2_53, type: 'tag', maxRefAgeMs: 86_400_000 });
    // And a second trip writes the very same text.
    assert.equal(serializeTableMetadata(back), text);
  });

  test('big ids appear as plain integer literals in the text', () => {
    const text = serializeTableMetadata(bigTable());
    assert.ok(text.includes('"snapshot-id":9007199254740993'), text);
    assert.ok(text.includes('"snapshot-id":9223372036854775807'));
    assert.ok(text.includes('"current-snapshot-id":9223372036854775807'));
    assert.ok(text.includes('"parent-snapshot-id":9007199254740993'));
    assert.ok(text.includes('"sequence-number":9007199254740994'));
    assert.ok(text.includes('"last-sequence-number":9007199254740994'));
    assert.ok(!/"9007199254740993"|9007199254740992[^0-9]/.test(text), 'no quoted or rounded ids');
    // JSON.parse would round these: the bug the exact reader exists for.
    assert.equal(BigInt((JSON.parse(text) as { 'current-snapshot-id': number })['current-snapshot-id']), 9223372036854775808n);
  });

  test('a file from another writer with big ids keeps them exact', () => {
    const text = JSON.stringify(minimalJson())
      .replaceAll('"snapshot-id":5', '"snapshot-id":9007199254740993')
      .replace('"current-snapshot-id":5', '"current-snapshot-id":9007199254740993');
    const m = parseTableMetadata(text, FILE);
    assert.equal(m.currentSnapshotId, ABOVE_2_53);
    assert.equal(m.snapshots[0]!.snapshotId, ABOVE_2_53);
    assert.equal(m.refs.main!.snapshotId, ABOVE_2_53);
    assert.equal(m.snapshotLog[0]!.snapshotId, ABOVE_2_53);
    assert.equal(typeof m.lastSequenceNumber, 'bigint');
  });

  test('an empty table writes current-snapshot-id -1, which parses back to null', () => {
    const m = emptyTable();
    const text = serializeTableMetadata(m);
    assert.ok(text.includes('"current-snapshot-id":-1'));
    const back = parseTableMetadata(text, FILE);
    assert.equal(back.currentSnapshotId, null);
    assert.deepEqual(back, m);
    assert.deepEqual(back.refs, {});
  });

  test('current-snapshot-id -1 or null or absent parses to null', () => {
    for (const v of [-1, null, undefined]) {
      const m = parseBroken((j) => {
        j['current-snapshot-id'] = v;
        j.refs = {};
        j.snapshots = [];
        j['snapshot-log'] = [];
        if (v === undefined) delete j['current-snapshot-id'];
      });
      assert.equal((m as TableMetadata).currentSnapshotId, null, `for ${String(v)}`);
    }
  });

  test('refs are derived from current-snapshot-id when a writer omitted them', () => {
    const m = parseBroken((j) => { delete j.refs; });
    assert.deepEqual((m as TableMetadata).refs, { main: { snapshotId: 5n, type: 'branch' } });
  });
});

describe('malformed metadata files', () => {
  test('missing location', () => {
    assertInvalid(() => parseBroken((j) => { delete j.location; }), /: location: /);
  });

  test('last-sequence-number as a string', () => {
    assertInvalid(() => parseBroken((j) => { j['last-sequence-number'] = '1'; }), /: last-sequence-number: /);
  });

  test('a snapshot without summary.operation', () => {
    assertInvalid(() => parseBroken((j) => { j.snapshots[0].summary = { 'added-records': '1' }; }), /snapshots\.0\.summary/, /summary\.operation is required/);
  });

  test('a snapshot without manifest-list (v1 manifests)', () => {
    assertInvalid(() => parseBroken((j) => { delete j.snapshots[0]['manifest-list']; j.snapshots[0].manifests = []; }), /snapshots\.0: manifest-list is required/);
  });

  test('invalid JSON', () => {
    assertInvalid(() => parseTableMetadata('{"format-version": 2, "location": ', FILE), /not valid JSON/);
  });

  test('an unknown type string in a schema', () => {
    assertInvalid(() => parseBroken((j) => { j.schemas[0].fields[1].type = 'varchar'; }), /schemas: /, /field "name": unknown type "varchar" \(Iceberg calls it string\)/);
  });

  test('a schema field without id', () => {
    assertInvalid(() => parseBroken((j) => { delete j.schemas[0].fields[0].id; }), /schemas: /, /field 'id' has no id/);
  });

  test('an unknown partition transform', () => {
    assertInvalid(() => parseBroken((j) => {
      j['partition-specs'][0].fields = [{ 'source-id': 1, 'field-id': 1000, name: 'x', transform: 'zorder' }];
    }), /partition-specs: /, /zorder/);
  });

  test('format-version 1 is UnsupportedError naming the file', () => {
    assert.throws(() => parseBroken((j) => { j['format-version'] = 1; }), (e: unknown) => {
      assert.ok(e instanceof UnsupportedError, String(e));
      assert.equal(e.kind, 'unsupported');
      assert.match(e.message, /format-version 1/);
      assert.ok(e.message.includes(FILE));
      return true;
    });
  });

  test('format-version 3 is UnsupportedError too', () => {
    assert.throws(() => parseBroken((j) => { j['format-version'] = 3; }), UnsupportedError);
  });

  test('format-version missing or a string is InvalidMetadataError', () => {
    assertInvalid(() => parseBroken((j) => { delete j['format-version']; }), /format-version/);
    assertInvalid(() => parseBroken((j) => { j['format-version'] = '2'; }), /format-version/);
  });

  test('a JSON array is InvalidMetadataError', () => {
    assertInvalid(() => parseTableMetadata('[]', FILE));
  });

  test('an id or sequence number outside the 64-bit range is refused, naming the field', () => {
    const text = (id: string): string => JSON.stringify(minimalJson()).replace(/("(?:current-)?snapshot-id"):5\b/g, `$1:${id}`);
    assert.equal(parseTableMetadata(text('9223372036854775807'), FILE).snapshots[0]!.snapshotId, 2n ** 63n - 1n);
    assert.equal(parseTableMetadata(text('-9223372036854775808'), FILE).snapshots[0]!.snapshotId, -(2n ** 63n));
    assertInvalid(() => parseTableMetadata(text('9223372036854775808'), FILE), /snapshot-id: outside the 64-bit \(long\) range/);
    assertInvalid(() => parseTableMetadata(text('-9223372036854775809'), FILE), /snapshot-id: outside/);
    // A float literal that is an integer (1e300) too: JSON.parse hands it over as a number.
    assertInvalid(() => parseTableMetadata(text('1e300'), FILE), /snapshot-id: /);
    assertInvalid(() => parseBroken((j) => { j['last-sequence-number'] = 1e19; }), /last-sequence-number: outside the 64-bit/);
  });

  test('a timestamp a JS number cannot hold exactly is refused, naming the field', () => {
    const text = JSON.stringify(minimalJson()).replace(/"snapshot-log":\[\{"timestamp-ms":\d+/, '"snapshot-log":[{"timestamp-ms":9007199254740993');
    assertInvalid(() => parseTableMetadata(text, FILE), /snapshot-log\.0\.timestamp-ms: outside the range a timestamp in milliseconds can hold exactly/);
  });
});

describe("Java's invariant checks (validateMetadata)", () => {
  const cases: [string, (j: Record<string, any>) => void, RegExp][] = [
    ['current-schema-id not in schemas', (j) => { j['current-schema-id'] = 7; }, /current-schema-id 7 is not in schemas/],
    ['default-spec-id not in partition-specs', (j) => { j['default-spec-id'] = 3; }, /default-spec-id 3 is not in partition-specs/],
    ['default-sort-order-id not in sort-orders', (j) => { j['default-sort-order-id'] = 2; }, /default-sort-order-id 2 is not in sort-orders/],
    ['a snapshot sequence number above last-sequence-number', (j) => { j.snapshots[0]['sequence-number'] = 2; }, /snapshot 5 has sequence-number 2 > last-sequence-number 1/],
    ['current-snapshot-id not in snapshots', (j) => { j['current-snapshot-id'] = 6; j.refs = { main: { 'snapshot-id': 6, type: 'branch' } }; }, /current-snapshot-id 6 is not in snapshots/],
    ['current-snapshot-id differs from refs.main', (j) => {
      j.snapshots.push({ ...j.snapshots[0], 'snapshot-id': 6 });
      j.refs = { main: { 'snapshot-id': 6, type: 'branch' } };
    }, /current-snapshot-id 5 differs from refs\.main/],
    ['a ref to an unknown snapshot', (j) => { j.refs.tag1 = { 'snapshot-id': 99, type: 'tag' }; }, /ref 'tag1' points to unknown snapshot 99/],
  ];
  for (const [label, mutate, message] of cases) {
    test(`${label}: rejected on read and by validateMetadata`, () => {
      assertInvalid(() => parseBroken(mutate), message);
      // The same check on a model (what a write goes through).
      const good = parseBroken(() => {}) as TableMetadata;
      const j = minimalJson();
      mutate(j);
      const broken: TableMetadata = {
        ...good,
        currentSchemaId: j['current-schema-id'] as number,
        defaultSpecId: j['default-spec-id'] as number,
        defaultSortOrderId: j['default-sort-order-id'] as number,
        currentSnapshotId: BigInt(j['current-snapshot-id'] as number),
        snapshots: (j.snapshots as { 'snapshot-id': number; 'sequence-number': number }[]).map((s) => ({
          ...good.snapshots[0]!, snapshotId: BigInt(s['snapshot-id']), sequenceNumber: BigInt(s['sequence-number']),
        })),
        refs: Object.fromEntries(Object.entries(j.refs as Record<string, { 'snapshot-id': number; type: 'branch' | 'tag' }>)
          .map(([k, r]) => [k, { snapshotId: BigInt(r['snapshot-id']), type: r.type }])),
      };
      assert.throws(() => validateMetadata(broken), (e: unknown) => e instanceof ValidationError && message.test(e.message));
    });
  }

  test('snapshots appended to a list already validated are checked, and a lower last-sequence-number checks all again', () => {
    const good = parseBroken(() => {}) as TableMetadata;
    validateMetadata(good);
    const s0 = good.snapshots[0]!;
    const bad = { ...s0, snapshotId: 77n, sequenceNumber: good.lastSequenceNumber + 1n };
    assert.throws(() => validateMetadata({ ...good, snapshots: [...good.snapshots, bad] }), /snapshot 77 has sequence-number/);
    const appended = { ...good, lastSequenceNumber: good.lastSequenceNumber + 1n, snapshots: [...good.snapshots, bad] };
    validateMetadata(appended);
    // The same snapshot objects, but a last-sequence-number below the first one's.
    assert.throws(() => validateMetadata({ ...appended, lastSequenceNumber: s0.sequenceNumber - 1n }), /sequence-number .* > last-sequence-number/);
  });

  test('the minimal file itself is valid', () => {
    const m = parseBroken(() => {}) as TableMetadata;
    validateMetadata(m);
    assert.equal(m.currentSnapshotId, 5n);
  });
});

describe('applyUpdates', () => {
  test('snapshot-log grows each time main moves, not when another ref moves', () => {
    let m = emptyTable();
    m = applyUpdates(m, null, [{ action: 'add-snapshot', snapshot: snapshot(1n, 1n, null) }, branchTo(1n)], T0 + 10);
    assert.deepEqual(m.snapshotLog, [{ timestampMs: T0 + 10, snapshotId: 1n }]);
    m = applyUpdates(m, null, [{ action: 'add-snapshot', snapshot: snapshot(2n, 2n, 1n) }, branchTo(2n, 'audit')], T0 + 20);
    assert.deepEqual(m.snapshotLog.map((e) => e.snapshotId), [1n]);
    assert.equal(m.currentSnapshotId, 1n);
    m = applyUpdates(m, null, [branchTo(2n)], T0 + 30);
    assert.deepEqual(m.snapshotLog, [{ timestampMs: T0 + 10, snapshotId: 1n }, { timestampMs: T0 + 30, snapshotId: 2n }]);
    assert.equal(m.currentSnapshotId, 2n);
    assert.equal(m.lastSequenceNumber, 2n);
    assert.equal(m.lastUpdatedMs, T0 + 30);
    assert.deepEqual(Object.keys(m.refs).sort(), ['audit', 'main']);
  });

  test('last-updated-ms never goes back behind the base or the snapshot log', () => {
    let m = emptyTable();
    m = applyUpdates(m, null, [{ action: 'add-snapshot', snapshot: snapshot(1n, 1n, null, T0 + 500) }, branchTo(1n)], T0 + 100);
    assert.equal(m.snapshotLog[0]!.timestampMs, T0 + 500);
    const next = applyUpdates(m, null, [{ action: 'set-properties', updates: { a: 'b' } }], T0 - 1000);
    assert.ok(next.lastUpdatedMs >= T0 + 500, String(next.lastUpdatedMs));
  });

  test('a snapshot whose sequence number is not above last-sequence-number is rejected', () => {
    const m = applyUpdates(emptyTable(), null, [{ action: 'add-snapshot', snapshot: snapshot(1n, 5n, null) }, branchTo(1n)], T0);
    for (const seq of [5n, 4n]) {
      assert.throws(() => applyUpdates(m, null, [{ action: 'add-snapshot', snapshot: snapshot(2n, seq, 1n) }]), (e: unknown) => {
        assert.ok(e instanceof CommitConflictError, String(e));
        assert.equal(e.kind, 'commit-conflict');
        assert.match(e.message, new RegExp(`sequence number ${seq}: last sequence number is 5`));
        return true;
      });
    }
    assert.equal(applyUpdates(m, null, [{ action: 'add-snapshot', snapshot: snapshot(2n, 6n, 1n) }]).lastSequenceNumber, 6n);
  });

  test('adding a snapshot id that exists is rejected', () => {
    const m = applyUpdates(emptyTable(), null, [{ action: 'add-snapshot', snapshot: snapshot(1n, 1n, null) }], T0);
    assert.throws(() => applyUpdates(m, null, [{ action: 'add-snapshot', snapshot: snapshot(1n, 2n, null) }]), /snapshot id 1 already exists/);
  });

  test('snapshot ids are checked against the list as it is: added in the same call, from a parsed file, after removal, on a retried base', () => {
    let m = emptyTable();
    for (let i = 1n; i <= 50n; i++) m = applyUpdates(m, null, [{ action: 'add-snapshot', snapshot: snapshot(i, i, i > 1n ? i - 1n : null) }, branchTo(i)], T0);
    // Twice in one call.
    assert.throws(() => applyUpdates(m, null, [{ action: 'add-snapshot', snapshot: snapshot(51n, 51n, 50n) }, { action: 'add-snapshot', snapshot: snapshot(51n, 52n, 50n) }]), /snapshot id 51 already exists/);
    // The same base again (a retried attempt): the failed call left nothing behind, an old id is still refused.
    assert.equal(applyUpdates(m, null, [{ action: 'add-snapshot', snapshot: snapshot(51n, 51n, 50n) }]).snapshots.length, 51);
    assert.equal(applyUpdates(m, null, [{ action: 'add-snapshot', snapshot: snapshot(51n, 51n, 50n) }]).snapshots.length, 51);
    assert.throws(() => applyUpdates(m, null, [{ action: 'add-snapshot', snapshot: snapshot(7n, 51n, 50n) }]), /snapshot id 7 already exists/);
    // Metadata read back from its file (new arrays, new objects).
    const parsed = parseTableMetadata(serializeTableMetadata(m), 'm.json');
    assert.throws(() => applyUpdates(parsed, null, [{ action: 'add-snapshot', snapshot: snapshot(50n, 51n, 50n) }]), /snapshot id 50 already exists/);
    // A removed id may come back; the others still may not.
    const trimmed = applyUpdates(m, null, [{ action: 'remove-snapshots', snapshotIds: [3n] }]);
    assert.equal(applyUpdates(trimmed, null, [{ action: 'add-snapshot', snapshot: snapshot(3n, 51n, 50n) }]).snapshots.length, 50);
    assert.throws(() => applyUpdates(trimmed, null, [{ action: 'add-snapshot', snapshot: snapshot(4n, 51n, 50n) }]), /snapshot id 4 already exists/);
    // An id outside the long range (a foreign file may carry one) equal to a new id modulo 2^64
    // is no conflict; the exact id still is.
    const wide = applyUpdates(m, null, [{ action: 'add-snapshot', snapshot: snapshot(2n ** 64n + 70n, 51n, 50n) }]);
    assert.equal(applyUpdates(wide, null, [{ action: 'add-snapshot', snapshot: snapshot(70n, 52n, 50n) }]).snapshots.length, 52);
    assert.throws(() => applyUpdates(wide, null, [{ action: 'add-snapshot', snapshot: snapshot(2n ** 64n + 70n, 52n, 50n) }]), /already exists/);
    // The snapshot log's newest entry still bounds last-updated-ms after many commits.
    const late = applyUpdates(m, null, [{ action: 'add-snapshot', snapshot: snapshot(60n, 51n, 50n, T0 + 9_000) }, branchTo(60n)], T0);
    assert.ok(applyUpdates(late, null, [{ action: 'set-properties', updates: { a: 'b' } }], T0).lastUpdatedMs >= T0 + 9_000);
  });

  test('removing a snapshot a ref points to is rejected; removing an unreferenced one works', () => {
    let m = emptyTable();
    m = applyUpdates(m, null, [{ action: 'add-snapshot', snapshot: snapshot(1n, 1n, null) }, branchTo(1n)], T0);
    m = applyUpdates(m, null, [{ action: 'add-snapshot', snapshot: snapshot(2n, 2n, 1n) }, branchTo(2n)], T0);
    m = applyUpdates(m, null, [{ action: 'set-snapshot-ref', refName: 'v1', type: 'tag', snapshotId: 1n }], T0);
    assert.throws(() => applyUpdates(m, null, [{ action: 'remove-snapshots', snapshotIds: [2n] }]), (e: unknown) => {
      assert.ok(e instanceof ValidationError, String(e));
      assert.match(e.message, /cannot remove snapshot 2: ref 'main' still points to it/);
      return true;
    });
    assert.throws(() => applyUpdates(m, null, [{ action: 'remove-snapshots', snapshotIds: [1n] }]), /ref 'v1' still points to it/);
    const pruned = applyUpdates(m, null, [{ action: 'remove-snapshot-ref', refName: 'v1' }, { action: 'remove-snapshots', snapshotIds: [1n] }]);
    assert.deepEqual(pruned.snapshots.map((s) => s.snapshotId), [2n]);
    assert.deepEqual(pruned.snapshotLog.map((e) => e.snapshotId), [2n]);
  });

  test('setting a ref to an unknown snapshot is rejected', () => {
    assert.throws(() => applyUpdates(emptyTable(), null, [branchTo(77n)]), (e: unknown) =>
      e instanceof ValidationError && /cannot set ref 'main' to unknown snapshot 77/.test(e.message));
  });

  test('metadata-log records the base file and is trimmed to previous-versions-max', () => {
    let m = emptyTable({ 'write.metadata.previous-versions-max': '3' });
    const files: string[] = [];
    for (let i = 0; i < 5; i++) {
      const base = `${LOCATION}/metadata/0000${i}-x.metadata.json`;
      files.push(base);
      m = applyUpdates(m, base, [{ action: 'set-properties', updates: { n: String(i) } }], T0 + i + 1);
    }
    assert.deepEqual(m.metadataLog.map((e) => e.metadataFile), files.slice(2));
    assert.deepEqual(m.metadataLog.map((e) => e.timestampMs), [T0 + 2, T0 + 3, T0 + 4]);
    // A null base (create) adds nothing.
    assert.deepEqual(applyUpdates(emptyTable(), null, []).metadataLog, []);
  });

  test('the base is never mutated', () => {
    const base = emptyTable({ a: '1' });
    const copy = structuredClone({ props: base.properties, snaps: base.snapshots, refs: base.refs });
    applyUpdates(base, 'f', [{ action: 'set-properties', updates: { a: '2' } }, { action: 'add-snapshot', snapshot: snapshot(1n, 1n, null) }, branchTo(1n)]);
    assert.deepEqual({ props: base.properties, snaps: base.snapshots, refs: base.refs }, copy);
    assert.deepEqual(base.metadataLog, []);
  });
});

describe('newMetadataFileLocation', () => {
  const re = (n: string): RegExp => new RegExp(`^file:///warehouse/db/t/metadata/${n}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\\.metadata\\.json$`);

  test('numbering: first file, successors, Java and Hadoop-style names', () => {
    assert.match(newMetadataFileLocation(LOCATION, null), re('00000'));
    assert.match(newMetadataFileLocation(LOCATION, `${LOCATION}/metadata/00000-abc.metadata.json`), re('00001'));
    assert.match(newMetadataFileLocation(LOCATION, `${LOCATION}/metadata/00041-abc.metadata.json`), re('00042'));
    assert.match(newMetadataFileLocation(LOCATION, `${LOCATION}/metadata/v3.metadata.json`), re('00004'));
    assert.match(newMetadataFileLocation(LOCATION, `${LOCATION}/metadata/99999-abc.metadata.json`), /\/metadata\/100000-/);
    assert.match(newMetadataFileLocation(LOCATION, `${LOCATION}/metadata/00007-abc.gz.metadata.json`), re('00008'));
  });

  test('each call gives a new uuid', () => {
    assert.notEqual(newMetadataFileLocation(LOCATION, null), newMetadataFileLocation(LOCATION, null));
  });
});
