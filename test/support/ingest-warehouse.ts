// Where a test runs `floe ingest` as a child process: a local warehouse folder with its SQLite
// catalog (what pyiceberg and DuckDB read too), or an S3 warehouse (a fresh bucket on the
// SeaweedFS server, or on a server the test owns) with its catalog in a fresh PostgreSQL
// database. Both carry the floe CLI arguments and environment that select them, so one
// scenario runs on either.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { openCatalog } from '../../catalog/index.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import { testDatabase } from './postgres.ts';
import { emptyAndDeleteBucket, freshBucket, s3Client, type S3Server } from './s3.ts';
import { testWarehouse, type TestWarehouse } from './warehouse.ts';

export interface IngestWarehouse extends TestWarehouse {
  /** `local+sqlite` or `s3+postgresql`, for test names. */
  readonly label: string;
  /** floe's global options selecting this warehouse and catalog. */
  readonly cliArgs: readonly string[];
  /** Environment a floe child needs on top of process.env (S3 settings). */
  readonly env: Readonly<Record<string, string>>;
  /** A local folder for config files. */
  readonly scratch: string;
  /** Whether test/support/readers.ts (pyiceberg, DuckDB: SQLite catalog, local files) can read it. */
  readonly readable: boolean;
  /** The S3 bucket, when on S3. */
  readonly bucket?: string;
}

export async function localIngestWarehouse(prefix: string): Promise<IngestWarehouse> {
  const wh = await testWarehouse(prefix);
  return { ...wh, label: 'local+sqlite', cliArgs: ['--warehouse', wh.dir], env: {}, scratch: wh.dir, readable: true };
}

/** Iceberg's S3 property names for `server` reached at `endpoint` (a fault proxy, say): fast retries keep fault tests short. */
export function s3Properties(server: S3Server, endpoint = server.endpoint, retry: { minWaitMs?: number; maxWaitMs?: number; numRetries?: number } = {}): Record<string, string> {
  return {
    's3.endpoint': endpoint, 's3.path-style-access': 'true', 's3.region': server.region,
    's3.access-key-id': server.accessKeyId, 's3.secret-access-key': server.secretAccessKey,
    's3.retry.min-wait-ms': String(retry.minWaitMs ?? 20), 's3.retry.max-wait-ms': String(retry.maxWaitMs ?? 200),
    ...(retry.numRetries === undefined ? {} : { 's3.retry.num-retries': String(retry.numRetries) }),
    // The smallest part S3 allows, so a batch of a few MB already goes up in parts.
    's3.multipart.part-size-bytes': String(5 * 1024 * 1024),
  };
}

/** The same settings as FLOE_S3_* variables, for a floe child process. */
export function s3Env(props: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [`FLOE_${k.toUpperCase().replace(/[.-]/g, '_')}`, v]));
}

/**
 * A fresh bucket on `server` and a fresh PostgreSQL database. The test's own catalog talks to the
 * server directly; `childEndpoint` (a fault proxy) is what floe children are given.
 */
export async function s3PostgresWarehouse(server: S3Server, prefix: string, o: { childEndpoint?: string; childRetry?: Parameters<typeof s3Properties>[2] } = {}): Promise<IngestWarehouse> {
  const bucket = await freshBucket(server, prefix);
  const db = await testDatabase('floe_chaos');
  const scratch = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const warehouse = `s3://${bucket}/wh`;
  let catalog: Catalog;
  try {
    catalog = await openCatalog({ warehouse, uri: db.uri, properties: s3Properties(server) });
  } catch (err) {
    await db.drop();
    throw err;
  }
  return {
    dir: warehouse,
    catalogDb: '',
    catalog,
    label: 's3+postgresql',
    cliArgs: ['--warehouse', warehouse, '--catalog', db.uri],
    env: s3Env(s3Properties(server, o.childEndpoint, o.childRetry)),
    scratch,
    readable: false,
    bucket,
    async cleanup() {
      await catalog.close();
      if (process.env.FLOE_KEEP_TEST_DATA) return;
      await db.drop();
      await emptyAndDeleteBucket(server, bucket).catch(() => undefined);
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** Multipart uploads open in the bucket (a killed writer leaves one; floe aborts its own failed ones). */
export async function openUploads(server: S3Server, bucket: string): Promise<{ key: string; uploadId: string }[]> {
  const c = s3Client(server);
  try {
    const res = await c.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    return (res.Uploads ?? []).map((u) => ({ key: u.Key ?? '', uploadId: u.UploadId ?? '' }));
  } finally { c.destroy(); }
}
