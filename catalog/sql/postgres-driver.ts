// PostgreSQL through `pg` (a connection pool), for the SQL catalog with Iceberg's JdbcCatalog
// schema. Each statement runs on its own in autocommit, as JdbcCatalog's do: the commit is one
// `UPDATE … WHERE metadata_location = <old>`, atomic by itself. A connection lost while a
// statement runs may have lost only the reply, so failed statements are not "definite": the
// catalog then reports the commit state as unknown, as the core expects.
//
// The password never leaves this module: errors name the user, host, port and database only.
import pg from 'pg';
import { FileIOError, FloeError, ValidationError } from '../../src/errors.ts';
import type { SqlDriver } from './sql-driver.ts';

/** A statement the PostgreSQL server refused, with its SQLSTATE `code` (the SQL catalog reads
 * 23505, unique violation, as "already exists"). Not retryable: the same statement fails again. */
export class PostgresServerError extends FloeError {
  constructor(message: string, readonly code: string) {
    super('io', message);
    this.name = 'PostgresServerError';
  }
}

export interface PostgresTarget {
  readonly user: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** `user@host:port/database`: what errors and logs may show. */
  readonly where: string;
}

export function isPostgresUri(uri: string | undefined): uri is string {
  return uri !== undefined && /^postgres(ql)?:\/\//i.test(uri);
}

/** The URI with any password replaced by `***` (for messages). */
export function redactUri(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/** Parses `postgresql://user:pass@host:port/db` (or `postgres://`) into pool settings. */
export function parsePostgresUri(uri: string): { target: PostgresTarget; config: pg.PoolConfig } {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ValidationError(`invalid PostgreSQL catalog URI '${redactUri(uri)}': expected postgresql://user:password@host:port/database`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (url.hostname === '' || database === '' || database.includes('/')) {
    throw new ValidationError(`invalid PostgreSQL catalog URI '${redactUri(uri)}': expected postgresql://user:password@host:port/database`);
  }
  const port = url.port === '' ? 5432 : Number(url.port);
  const user = url.username === '' ? (process.env.PGUSER ?? 'postgres') : decodeURIComponent(url.username);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const target: PostgresTarget = { user, host, port, database, where: `${user}@${url.hostname}:${port}/${database}` };
  const config: pg.PoolConfig = {
    host, port, database, user,
    ...(url.password !== '' ? { password: decodeURIComponent(url.password) } : {}),
    max: Number(url.searchParams.get('pool-size') ?? 5),
    connectionTimeoutMillis: Number(url.searchParams.get('connect-timeout-ms') ?? 10_000),
    idleTimeoutMillis: 30_000,
    application_name: 'floe',
  };
  const ssl = url.searchParams.get('sslmode');
  if (ssl === 'require' || ssl === 'verify-full' || ssl === 'verify-ca') config.ssl = { rejectUnauthorized: ssl !== 'require' };
  return { target, config };
}

interface PgError { code?: string; message?: string; errno?: number; syscall?: string }

/** A SQLSTATE: the server answered with an error. */
const SERVER_ERROR = /^[0-9A-Z]{5}$/;

export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  readonly failedStatementIsDefinite = false;
  readonly target: PostgresTarget;
  private readonly pool: pg.Pool;
  private readonly secret: string | undefined;
  private readonly converted = new Map<string, string>();

  private constructor(target: PostgresTarget, config: pg.PoolConfig) {
    this.target = target;
    this.secret = typeof config.password === 'string' && config.password !== '' ? config.password : undefined;
    this.pool = new pg.Pool(config);
    // An idle pooled connection the server dropped must not crash the process; the next
    // query simply gets a new connection.
    this.pool.on('error', () => undefined);
  }

  /** Opens a pool and checks the connection once, so a bad URI fails here with one line. */
  static async connect(uri: string): Promise<PostgresDriver> {
    const { target, config } = parsePostgresUri(uri);
    const driver = new PostgresDriver(target, config);
    try {
      await driver.pool.query('SELECT 1');
    } catch (err) {
      await driver.pool.end().catch(() => undefined);
      throw driver.connectError(err);
    }
    return driver;
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query(this.toPg(sql), params as unknown[])).rows as T[];
    } catch (err) {
      throw this.statementError(err);
    }
  }

  async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    try {
      return (await this.pool.query(this.toPg(sql), params as unknown[])).rowCount ?? 0;
    } catch (err) {
      throw this.statementError(err);
    }
  }

  async close(): Promise<void> { await this.pool.end(); }

  /** `?` placeholders (outside string literals) become `$1`, `$2`, … */
  private toPg(sql: string): string {
    let out = this.converted.get(sql);
    if (out !== undefined) return out;
    out = '';
    let n = 0;
    let quoted = false;
    for (const ch of sql) {
      if (ch === "'") quoted = !quoted;
      out += ch === '?' && !quoted ? `$${++n}` : ch;
    }
    this.converted.set(sql, out);
    return out;
  }

  private scrub(message: string): string {
    return this.secret === undefined ? message : message.split(this.secret).join('***');
  }

  /** One-line error for a failed first connection: refused, auth failed, database missing. */
  private connectError(err: unknown): Error {
    const e = err as PgError;
    const at = `PostgreSQL catalog ${this.target.where}`;
    const detail = this.scrub(String(e?.message ?? err).split('\n')[0]!);
    switch (e?.code) {
      case 'ECONNREFUSED': return new FileIOError(`cannot connect to ${at}: connection refused (is the server running on ${this.target.host}:${this.target.port}?)`, { retryable: true });
      case 'ENOTFOUND': case 'EAI_AGAIN': return new FileIOError(`cannot connect to ${at}: unknown host '${this.target.host}'`, { retryable: e.code === 'EAI_AGAIN' });
      case '28P01': return new ValidationError(`cannot connect to ${at}: password authentication failed for user '${this.target.user}'`);
      case '28000': return new ValidationError(`cannot connect to ${at}: access refused for user '${this.target.user}' (${detail})`);
      case '3D000': return new ValidationError(`cannot connect to ${at}: database '${this.target.database}' does not exist`);
      default:
        if (/timeout/i.test(detail)) return new FileIOError(`cannot connect to ${at}: connection timed out`, { retryable: true });
        if (/password/i.test(detail)) return new ValidationError(`cannot connect to ${at}: ${detail}`);
        return new FileIOError(`cannot connect to ${at}: ${detail}`, { retryable: true });
    }
  }

  /** A server error keeps its SQLSTATE `code` (unique violations are read by the catalog);
   * a connection error becomes a one-line retryable FileIOError. Neither carries the password. */
  private statementError(err: unknown): Error {
    const e = err as PgError;
    const detail = this.scrub(String(e?.message ?? err).split('\n')[0]!);
    // Class 08 (connection exception) and 57P0x (server shutting down, connection
    // terminated) lose the connection: retryable, like a reset socket.
    const lost = typeof e?.code === 'string' && (e.code.startsWith('08') || e.code.startsWith('57P'));
    if (typeof e?.code === 'string' && SERVER_ERROR.test(e.code) && !lost) {
      return new PostgresServerError(`PostgreSQL catalog ${this.target.where}: ${detail} (SQLSTATE ${e.code})`, e.code);
    }
    return new FileIOError(`PostgreSQL catalog ${this.target.where}: ${detail}`, { retryable: true });
  }
}
