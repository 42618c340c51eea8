// Large NDJSON inputs generated on the fly (the events table of the benchmarks), and the peak
// RSS of a child process read from /proc while it runs: what the bounded-memory append test
// and benchmark measure the real `floe append` process with.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { EVENT_TYPES } from './datagen.ts';

/** One events record as an NDJSON line (no newline); deterministic in `i`. */
export function eventLine(i: number): string {
  const base = Date.UTC(2026, 10, 1);
  const page = i % 10 === 0 ? 'null' : `"/products/${(i * 31) % 5000}?ref=campaign-${i % 97}"`;
  return `{"event_id":${i},"user_id":${(i * 7919) % 100_000},"ts":"${new Date(base + i * 37).toISOString()}","event_type":"${EVENT_TYPES[i % EVENT_TYPES.length]}","page":${page},"value":${(i % 1000) / 8},"count":${i % 100},"flag":${i % 3 === 0}}`;
}

/** Writes events lines until the file holds at least `bytes`; returns the line count and size. */
export async function writeEventsNdjson(file: string, bytes: number): Promise<{ lines: number; bytes: number }> {
  const out = createWriteStream(file);
  let written = 0;
  let i = 0;
  while (written < bytes) {
    const parts: string[] = [];
    let chunk = 0;
    while (chunk < 1 << 20 && written + chunk < bytes) {
      const l = `${eventLine(i++)}\n`;
      parts.push(l);
      chunk += l.length;
    }
    written += chunk;
    if (!out.write(parts.join(''))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  return { lines: i, bytes: written };
}

// The measured child-process runs live in measured-pipe.ts; re-exported for existing callers.
export { runMeasured, type ChildRun } from './measured-pipe.ts';
