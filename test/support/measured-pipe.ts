// A child process fed on stdin from a generator (with backpressure), its peak RSS sampled from
// /proc while it runs (VmHWM); runMeasured is the same with no input.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';

export interface ChildRun { code: number | null; stdout: string; stderr: string; peakRssBytes: number; wallMs: number }

function vmHwm(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs `cmd args`, writes every block of `input` to its stdin, then closes it. */
export async function runMeasuredWithInput(
  cmd: string, args: readonly string[], input: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, env: NodeJS.ProcessEnv = process.env,
): Promise<ChildRun> {
  const t0 = performance.now();
  const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  let peak = 0;
  const timer = setInterval(() => { peak = Math.max(peak, vmHwm(child.pid!)); }, 50);
  const exited = once(child, 'exit') as Promise<[number | null]>;
  // A child that fails early closes its stdin: stop feeding, keep its exit code and stderr.
  child.stdin.on('error', () => undefined);
  const feed = (async () => {
    for await (const block of input) {
      if (child.stdin.destroyed || child.exitCode !== null) break;
      if (!child.stdin.write(block)) await Promise.race([once(child.stdin, 'drain'), exited]);
    }
    child.stdin.end();
  })();
  const [[code]] = await Promise.all([exited, feed]);
  clearInterval(timer);
  return { code, stdout, stderr, peakRssBytes: peak, wallMs: performance.now() - t0 };
}

/**
 * Runs a command with no input and samples its peak RSS every 50 ms. VmHWM is a high-water mark
 * kept by the kernel, so a sample misses only growth in the last 50 ms of the process.
 */
export function runMeasured(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ChildRun> {
  return runMeasuredWithInput(cmd, args, [], env);
}
