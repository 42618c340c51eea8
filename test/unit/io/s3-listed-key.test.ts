// Keys from listings asked for EncodingType=url: S3 form-encodes them (space as '+', '+' as
// %2B), SeaweedFS percent-encodes spaces; a server that ignores the request echoes no encoding
// type and its keys are literal.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { listedKey } from '../../../src/io/s3-file-io.ts';

describe('listedKey', () => {
  test('url-encoded keys are decoded as form data; literal keys stay as they are', () => {
    assert.equal(listedKey('t/a+b%2Bc%2525d/f', 'url'), 't/a b+c%25d/f');
    assert.equal(listedKey('t/a%20b/f', 'url'), 't/a b/f');
    assert.equal(listedKey('t/ctl%01x/%C3%BC', 'url'), 't/ctl\u0001x/ü');
    assert.equal(listedKey('t/a+b%25/f', undefined), 't/a+b%25/f');
    assert.equal(listedKey('t/a+b/f', 'URL'), 't/a b/f');
    assert.equal(listedKey('t/50%/f', 'url'), 't/50%/f', 'a server that says url but sends the key literally');
  });
});
