// Opens the catalog a URI names. `sqlite:` URIs (or a path ending in .db) open the embedded
// SQL catalog; the default is `<warehouse>/catalog.db`, the file pyiceberg and Spark open too.
// `postgresql://user:password@host:port/db` (or `postgres://`) opens the same JdbcCatalog
// tables in PostgreSQL, shared by many floe processes and other engines.
// Every catalog reads and writes files through a ResolvingFileIO: `file:` locations on the local
// disk, `s3://` ones on S3 with the settings of `properties` (Iceberg's s3.* names), then
// FLOE_S3_* environment variables, then the AWS SDK's own chain.
import path from 'node:path';
import { ValidationError } from '../src/errors.ts';
import { pathToUri } from '../src/io/local-file-io.ts';
import { ResolvingFileIO } from '../src/io/resolving-file-io.ts';
import { isS3Uri } from '../src/io/s3-location.ts';
import { s3PropertiesFromEnv } from '../src/io/s3-settings.ts';
import type { Catalog } from '../src/table/catalog.ts';
import { SqlCatalog } from './sql/sql-catalog.ts';
import { SqliteDriver } from './sql/sqlite-driver.ts';
// The REST catalog and the PostgreSQL driver (pg) are imported only when a URI names them, so a
// SQLite catalog (the CLI's default) loads neither.

/** Where tables live and which catalog keeps track of them: the argument of {@link openCatalog}. */
export interface CatalogConfig {
  /** Warehouse folder, file: URI or s3://bucket/prefix where new tables are placed. */
  readonly warehouse: string;
  /** `sqlite:///abs/catalog.db`, `sqlite:relative.db`, a `.db` path or `postgresql://user:pass@host:port/db`; default `<warehouse>/catalog.db`;
   * or `rest+http://host:port[/path]` (`rest+https://…`) for an Iceberg REST catalog service. */
  readonly uri?: string;
  /** The `catalog_name` column value; other engines must use the same name. */
  readonly name?: string;
  /** Storage settings under Iceberg's property names (s3.endpoint, s3.access-key-id, …); they
   * win over FLOE_S3_* environment variables. */
  readonly properties?: Readonly<Record<string, string>>;
}

export function warehouseUri(warehouse: string): string {
  if (isS3Uri(warehouse)) return warehouse.replace(/\/+$/, '');
  return warehouse.startsWith('file:') ? warehouse.replace(/\/+$/, '') : pathToUri(warehouse).replace(/\/+$/, '');
}

export function sqliteFileOf(uri: string | undefined, warehouse: string): string | undefined {
  if ((uri === undefined || uri === '') && isS3Uri(warehouse)) {
    throw new ValidationError(`an s3:// warehouse needs a catalog that is not inside it: --catalog postgresql://…, rest+http://… or sqlite:/local/path/catalog.db`);
  }
  if (uri === undefined || uri === '') return path.join(warehouse.startsWith('file:') ? new URL(warehouse).pathname : warehouse, 'catalog.db');
  if (uri.startsWith('sqlite:')) return path.resolve(uri.replace(/^sqlite:(\/\/)?/, ''));
  if (/\.(db|sqlite3?)$/.test(uri) && !uri.includes('://')) return path.resolve(uri);
  return undefined;
}

/**
 * Opens the catalog `cfg.uri` names: the embedded SQLite catalog (default
 * `<warehouse>/catalog.db`, the JdbcCatalog layout pyiceberg and Spark open too), a
 * PostgreSQL JdbcCatalog (`postgresql://…`), or an Iceberg REST catalog (`rest+http://…`;
 * credentials from FLOE_REST_TOKEN or FLOE_REST_CREDENTIAL, never from the URI). Files are read
 * and written on the local disk (`file:`) or S3 (`s3://`, settings from `cfg.properties` under
 * Iceberg's `s3.*` names, then FLOE_S3_* variables, then the AWS SDK's chain).
 * Close the catalog with `catalog.close()` when done.
 *
 * @throws {@link ValidationError} for an unsupported URI, or an `s3://` warehouse without a
 * catalog outside it.
 * @example
 * ```ts
 * import { openCatalog, parseTableIdentifier } from 'floe';
 *
 * const catalog = await openCatalog({ warehouse: './warehouse' });
 * try {
 *   const table = await catalog.loadTable(parseTableIdentifier('shop.orders'));
 *   console.log(table.metadata.location);
 * } finally {
 *   await catalog.close();
 * }
 * ```
 */
export async function openCatalog(cfg: CatalogConfig): Promise<Catalog> {
  const name = cfg.name ?? 'floe';
  const properties = { ...s3PropertiesFromEnv(), ...(cfg.properties ?? {}) };
  const io = new ResolvingFileIO(properties);
  const sqliteFile = sqliteFileOf(cfg.uri, cfg.warehouse);
  if (sqliteFile) {
    return SqlCatalog.open({ name, driver: new SqliteDriver(sqliteFile), io, warehouse: warehouseUri(cfg.warehouse) });
  }
  if (cfg.uri !== undefined && /^rest\+https?:\/\//.test(cfg.uri)) {
    // Credentials come from the environment, never from the URI (it ends up in logs).
    const env = process.env;
    const { RestCatalog } = await import('./rest/rest-catalog.ts');
    return RestCatalog.open({
      uri: cfg.uri.slice('rest+'.length), name, properties,
      io: (merged) => new ResolvingFileIO(merged),
      auth: {
        ...(env.FLOE_REST_TOKEN ? { token: env.FLOE_REST_TOKEN } : {}),
        ...(env.FLOE_REST_CREDENTIAL ? { credential: env.FLOE_REST_CREDENTIAL } : {}),
        ...(env.FLOE_REST_OAUTH2_SERVER_URI ? { oauth2ServerUri: env.FLOE_REST_OAUTH2_SERVER_URI } : {}),
        ...(env.FLOE_REST_SCOPE ? { scope: env.FLOE_REST_SCOPE } : {}),
      },
    });
  }
  const { PostgresDriver, isPostgresUri, redactUri } = await import('./sql/postgres-driver.ts');
  if (isPostgresUri(cfg.uri)) {
    const driver = await PostgresDriver.connect(cfg.uri);
    try {
      return await SqlCatalog.open({ name, driver, io, warehouse: warehouseUri(cfg.warehouse) });
    } catch (err) {
      await driver.close().catch(() => undefined);
      throw err;
    }
  }
  throw new ValidationError(`unsupported catalog URI '${redactUri(cfg.uri ?? '')}': use sqlite:///path/catalog.db or postgresql://user:password@host:port/database or rest+http://host:port`);
}
