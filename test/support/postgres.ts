// Test client for scripts/pg.sh: a throwaway PostgreSQL cluster on 127.0.0.1, started once per
// process and left running for the next test file (stop it with `npm run pg:down`; CI stops it
// at the end of scripts/test.sh). Under CI=true a cluster that cannot be started is a failure,
// never a skip; outside CI postgresUnavailable() returns the reason for `describe(..., { skip })`.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { fileURLToPath } from 'node:url';

const execFileP = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PG_SCRIPT = path.join(REPO_ROOT, 'scripts/pg.sh');

let started: Promise<string> | undefined;

/** Starts the cluster with `scripts/pg.sh up` (once per process); resolves to the superuser URI of database `floe`. */
export function ensurePostgres(): Promise<string> {
  started ??= startCluster();
  return started;
}

async function startCluster(): Promise<string> {
  let stdout: string;
  try {
    ({ stdout } = await execFileP('bash', [PG_SCRIPT, 'up'], { timeout: 5 * 60_000, maxBuffer: 16 << 20 }));
  } catch (err) {
    const e = err as { code?: unknown; signal?: unknown; stdout?: string; stderr?: string; message: string };
    const detail = (e.stderr || e.stdout || e.message).trim().split('\n').slice(-8).join('\n');
    throw new Error(`scripts/pg.sh up failed (exit ${String(e.code ?? e.signal)}):\n${detail}`);
  }
  const m = /postgres up: (\S+)/.exec(stdout);
  if (!m?.[1]) throw new Error(`scripts/pg.sh up printed no URI:\n${stdout}`);
  return m[1];
}

/** undefined when PostgreSQL is up; outside CI the reason it is not; under CI=true it throws. */
export async function postgresUnavailable(): Promise<string | undefined> {
  try {
    await ensurePostgres();
    return undefined;
  } catch (err) {
    if (process.env.CI === 'true') throw err;
    return `PostgreSQL unavailable: ${(err as Error).message.split('\n').slice(-1)[0]}`;
  }
}

/** URI of the same server with another database name. */
export function withDatabase(uri: string, database: string): string {
  const u = new URL(uri);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Runs one statement as the superuser on database `postgres`. */
export async function adminQuery(sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: withDatabase(await ensurePostgres(), 'postgres') });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  readonly name: string;
  readonly uri: string;
  drop(): Promise<void>;
}

/** A fresh, empty database for one test; drop() removes it (closing stray connections). */
export async function testDatabase(prefix = 'floe_t'): Promise<TestDatabase> {
  const base = await ensurePostgres();
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  return {
    name,
    uri: withDatabase(base, name),
    async drop() {
      if (process.env.FLOE_KEEP_TEST_DATA) return;
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
