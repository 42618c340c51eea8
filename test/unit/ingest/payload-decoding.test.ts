// Payload bytes → JSON: invalid UTF-8 is a decode error with the text kept for the dead-letter
// table, never a string silently holding U+FFFD; JSON errors name the reason; nothing throws.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeJsonPayload } from '../../../src/ingest/payload-decoding.ts';

describe('decodeJsonPayload', () => {
  test('invalid UTF-8 is refused with a reason', () => {
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80] /* an encoded surrogate */, [0xe2, 0x82]]) {
      const bytes = Buffer.concat([Buffer.from('{"s":"'), Buffer.from(bad), Buffer.from('"}')]);
      const d = decodeJsonPayload(bytes);
      assert.equal(d.value, undefined);
      assert.match(d.decodeError ?? '', /invalid UTF-8/);
      assert.match(d.text, /^\{"s":".*\uFFFD.*"\}$/u);
    }
  });

  test('valid payloads decode exactly, U+FFFD written by the producer included', () => {
    const d = decodeJsonPayload(Buffer.from('{"s":"\uFFFD é 😀","n":9007199254740993}'));
    assert.equal(d.decodeError, undefined);
    assert.deepStrictEqual(d.value, { s: '\uFFFD é 😀', n: 9007199254740993n });
    assert.match(decodeJsonPayload(Buffer.from('{"d":1e309}')).decodeError ?? '', /invalid JSON: number 1e309/);
    assert.match(decodeJsonPayload(new Uint8Array(0)).decodeError ?? '', /invalid JSON/);
  });
});
