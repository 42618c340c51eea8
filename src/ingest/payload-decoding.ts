// Bytes of one record (a Kafka message value, an NDJSON line) → JSON value, strictly: invalid
// UTF-8 is a decode error, not text with U+FFFD in it (a lossy decode stores a different
// string than the producer sent, and nobody is told).
import { parseJsonExact } from '../spec/json.ts';

const strict = new TextDecoder('utf-8', { fatal: true });
const lossy = new TextDecoder('utf-8');

export interface DecodedPayload {
  /** The payload as text (lossy when it was not UTF-8: kept for the dead-letter table). */
  readonly text: string;
  readonly value?: unknown;
  /** Set when the payload is not UTF-8 or not JSON. */
  readonly decodeError?: string;
}

/** A payload's text as {@link decodeJsonPayload} gives it (lossy when it is not UTF-8). */
export function payloadText(bytes: Uint8Array): string { return lossy.decode(bytes); }

/** Decodes one payload; never throws. */
export function decodeJsonPayload(bytes: Uint8Array): DecodedPayload {
  let text: string;
  try {
    text = strict.decode(bytes);
  } catch {
    return { text: lossy.decode(bytes), decodeError: 'invalid UTF-8: the payload is not UTF-8 text (its bad bytes show as U+FFFD here)' };
  }
  try {
    return { text, value: parseJsonExact(text) };
  } catch (err) {
    return { text, decodeError: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}
