// AppendOnlyJsonArray reuses the bytes of the previous list only when the new list starts with
// the very same items; every other list is encoded in full. Checked against a plain join.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppendOnlyJsonArray } from '../../../src/spec/json-array-bytes.ts';

interface Item { readonly v: string }
const utf8 = new TextEncoder();
const plain = (list: readonly Item[]): string => list.map((i) => JSON.stringify(i)).join(',');

test('appends for a grown list, re-encodes for any other, bytes always equal a plain join', () => {
  let encoded = 0;
  const arr = new AppendOnlyJsonArray<Item>((i) => { encoded++; return utf8.encode(JSON.stringify(i)); });
  const items = Array.from({ length: 300 }, (_, i) => ({ v: `é${i}${'x'.repeat(i % 7)}` }));
  const check = (list: readonly Item[]): void => assert.equal(new TextDecoder().decode(arr.bytes(list)), plain(list));
  check([]);
  for (let n = 1; n <= 300; n++) check(items.slice(0, n));
  assert.equal(encoded, 300, 'each item of a growing list is encoded once');
  encoded = 0;
  check(items.slice(5));                                   // oldest removed (expiry)
  assert.equal(encoded, 295);
  check(items.slice(0, 10));                               // a shorter list
  check([...items.slice(0, 10), { v: 'other' }]);          // same prefix, new item
  check([...items.slice(0, 9), { v: 'x' }, items[10]!]);   // one item replaced by an equal-looking one
  check([{ v: 'x' }]);
  check([]);
  check(items);
});
