// Test access to scripts/rest.sh: Apache Iceberg's RESTCatalogServer (JdbcCatalog on SQLite, a
// local warehouse folder), started once per process and left running for the next test file
// (stop it with `npm run rest:down`; on CI scripts/test.sh stops it). A server that cannot be
// started fails the tests that need it, never skips them.
//
// The server has one warehouse, so a test that needs an empty catalog calls `resetRestCatalog`:
// every table and namespace is dropped through the REST API and the warehouse folder emptied.
// Test files using it must not run their REST tests concurrently with each other; a file that
// keeps its tables for the whole file starts a server of its own (startOwnRestCatalog).
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Catalog } from '../../src/table/catalog.ts';
import { RestCatalog } from '../../catalog/rest/rest-catalog.ts';
import { LocalFileIO } from '../../src/io/local-file-io.ts';

const execFileP = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const REST_SCRIPT = path.join(REPO_ROOT, 'scripts/rest.sh');

export interface RestServer {
  /** `http://127.0.0.1:<port>` */
  readonly uri: string;
  /** The server's warehouse as a file: URI and as a folder (for an S3 warehouse: its s3:// URI,
   * and no folder — an empty string). */
  readonly warehouseUri: string;
  readonly warehouseDir: string;
}

/** An S3 warehouse for a REST server of its own (scripts/rest.sh FLOE_REST_WAREHOUSE …). */
export interface RestS3Warehouse {
  /** s3://bucket/prefix */
  readonly warehouse: string;
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

let started: Promise<RestServer> | undefined;

/** Starts the server with `scripts/rest.sh up` (once per process). */
export function ensureRestCatalog(): Promise<RestServer> {
  started ??= start();
  return started;
}

async function start(env: NodeJS.ProcessEnv = process.env): Promise<RestServer> {
  let stdout: string;
  try {
    // The first run fetches the server's jars from Maven Central: give it time.
    ({ stdout } = await execFileP('bash', [REST_SCRIPT, 'up'], { timeout: 10 * 60_000, maxBuffer: 16 << 20, env }));
  } catch (err) {
    const e = err as { code?: unknown; signal?: unknown; stdout?: string; stderr?: string; message: string };
    const detail = (e.stderr || e.stdout || e.message).trim().split('\n').slice(-15).join('\n');
    throw new Error(`scripts/rest.sh up failed (exit ${String(e.code ?? e.signal)}):\n${detail}`);
  }
  const m = /rest up on (\S+) warehouse (\S+)/.exec(stdout);
  if (!m?.[1] || !m[2]) throw new Error(`scripts/rest.sh up printed no address:\n${stdout}`);
  return { uri: `http://${m[1]}`, warehouseUri: m[2], warehouseDir: m[2].startsWith('file:') ? fileURLToPath(m[2]) : '' };
}

export interface OwnRestServer extends RestServer {
  /** Stops the server and deletes its data dir (catalog.db and warehouse). */
  stop(): Promise<void>;
}

/**
 * A server for one test file alone: its own free port and data dir, so that no other file's
 * resetRestCatalog drops its tables mid-file (a few seconds to start: the class path is cached).
 */
export async function startOwnRestCatalog(s3?: RestS3Warehouse): Promise<OwnRestServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'floe-rest-'));
  const env: NodeJS.ProcessEnv = { ...process.env, FLOE_REST_PORT: String(await freePort()), FLOE_REST_DIR: dataDir };
  if (s3) {
    Object.assign(env, {
      FLOE_REST_WAREHOUSE: s3.warehouse, FLOE_REST_S3_ENDPOINT: s3.endpoint, FLOE_REST_S3_ACCESS_KEY: s3.accessKeyId,
      FLOE_REST_S3_SECRET_KEY: s3.secretAccessKey, FLOE_REST_S3_REGION: s3.region,
    });
  }
  let server: RestServer;
  try {
    server = await start(env);
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    ...server,
    async stop() {
      await execFileP('bash', [REST_SCRIPT, 'down', ...(process.env.FLOE_KEEP_TEST_DATA ? [] : ['--wipe'])], { timeout: 60_000, env });
    },
  };
}

/** A TCP port nothing listens on right now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export async function openRestCatalog(server: RestServer): Promise<RestCatalog> {
  return RestCatalog.open({ uri: server.uri, io: new LocalFileIO(), name: 'rest' });
}

/** Drops every table and namespace a catalog knows (tables without purge). */
export async function dropEveryNamespace(c: Catalog, ns: readonly string[] = []): Promise<void> {
  for (const child of await c.listNamespaces(ns)) {
    await dropEveryNamespace(c, child);
    // A namespace only implied by a child's name (a.b created without a) lists but does not exist.
    if (!(await c.namespaceExists(child))) continue;
    for (const t of await c.listTables(child)) await c.dropTable(t);
    await c.dropNamespace(child);
  }
}

/** Drops every table and namespace the server knows and empties its warehouse folder. */
export async function resetRestCatalog(server: RestServer): Promise<void> {
  const c = await openRestCatalog(server);
  await dropEveryNamespace(c);
  for (const entry of await readdir(server.warehouseDir).catch(() => [])) {
    await rm(path.join(server.warehouseDir, entry), { recursive: true, force: true });
  }
}
