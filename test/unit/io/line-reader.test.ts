// Byte-positioned lines: offsets count bytes (not UTF-16 characters), CRLF and a missing final
// newline are handled, and a multi-byte character split across read chunks decodes whole.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitLines, type Line } from '../../../src/io/line-reader.ts';

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function collect(text: string, chunk: number, start = 0n, firstLine = 1): Promise<Line[]> {
  const out: Line[] = [];
  for await (const l of splitLines(chunked(Buffer.from(text, 'utf8'), chunk), start, firstLine)) out.push(l);
  return out;
}

test('lines carry byte offsets and numbers, whatever the chunking', async () => {
  const text = '{"a":"Grüße 😀"}\r\n\n{"b":1}\nlast line without newline';
  const want = [
    { text: '{"a":"Grüße 😀"}', start: 0n, end: 22n, line: 1 },
    { text: '', start: 22n, end: 23n, line: 2 },
    { text: '{"b":1}', start: 23n, end: 31n, line: 3 },
    { text: 'last line without newline', start: 31n, end: 56n, line: 4 },
  ];
  assert.equal(Buffer.byteLength(text), 56);
  for (const size of [1, 2, 3, 7, 13, 1000]) assert.deepEqual(await collect(text, size), want, `chunks of ${size}`);
});

test('resuming at an offset numbers lines and offsets from there', async () => {
  const lines = await collect('x\ny\n', 3, 100n, 41);
  assert.deepEqual(lines.map((l) => [l.text, l.start, l.end, l.line]), [['x', 100n, 102n, 41], ['y', 102n, 104n, 42]]);
  assert.deepEqual(await collect('', 3), []);
});

test('a line whose bytes are not UTF-8 is marked, not silently turned into U+FFFD text', async () => {
  const bytes = Buffer.concat([Buffer.from('{"s":"ok"}\n{"s":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}\n{"s":"é"}\n')]);
  for (const size of [1, 5, 1000]) {
    const lines: Line[] = [];
    for await (const l of splitLines(chunked(bytes, size))) lines.push(l);
    assert.deepEqual(lines.map((l) => l.invalidUtf8 ?? false), [false, true, false], `chunks of ${size}`);
    assert.equal(lines[2]!.text, '{"s":"é"}');
  }
});
