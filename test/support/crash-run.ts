// Runs the real `floe` command (bin/floe.js) for the crash tests, optionally armed with
// FLOE_FAULT_AT so it SIGKILLs itself at a named moment (src/fault-points.ts).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './readers.ts';

export interface FloeRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runFloe(warehouse: string, args: readonly string[], o: { faultAt?: string; timeoutMs?: number } = {}): Promise<FloeRun> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.FLOE_FAULT_AT;
  if (o.faultAt) env.FLOE_FAULT_AT = o.faultAt;
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/floe.js'), '--warehouse', warehouse, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGTERM'), o.timeoutMs ?? 120_000);
  return new Promise((resolve) => child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); }));
}

/** A description of a run for assertion messages. */
export function describeRun(r: FloeRun): string {
  return `exit ${r.code ?? r.signal}\nstdout: ${r.stdout.slice(-1500)}\nstderr: ${r.stderr.slice(-3000)}`;
}
