// Large NDJSON inputs generated on the fly (the events table of the benchmarks), and the peak
// RSS of a child process read from /proc while it runs: what the bounded-memory append test
// and benchmark measure the real `floe append` process with.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
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

export interface ChildRun { code: number | null; stdout: string; stderr: string; peakRssBytes: number; wallMs: number }

/** VmHWM (the kernel's peak resident set) of a live process, in bytes; 0 once it has exited. */
function vmHwm(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Runs a command and samples its peak RSS from the parent every 50 ms. VmHWM is a high-water
 * mark kept by the kernel, so a sample misses only growth in the last 50 ms of the process.
 */
export async function runMeasured(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ChildRun> {
  const t0 = performance.now();
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  let peak = 0;
  const timer = setInterval(() => { peak = Math.max(peak, vmHwm(child.pid!)); }, 50);
  const [code] = await once(child, 'exit') as [number | null];
  clearInterval(timer);
  return { code, stdout, stderr, peakRssBytes: peak, wallMs: performance.now() - t0 };
}
