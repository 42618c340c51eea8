// SQLite through better-sqlite3, in WAL mode so pyiceberg, Spark and several floe processes
// can open the same catalog.db while one of them commits.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { SqlDriver } from './sql-driver.ts';

export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  readonly failedStatementIsDefinite = true;
  private readonly db: Database.Database;

  constructor(file: string, opts: { busyTimeoutMs?: number } = {}) {
    mkdirSync(path.dirname(file), { recursive: true });
    // The busy timeout makes concurrent committers wait for the write lock instead of failing.
    this.db = new Database(file, { timeout: opts.busyTimeoutMs ?? 30_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
  }

  /** Prepared statements by SQL text: a commit runs the same few statements every time, and
   * preparing one (parsing and planning the SQL) costs more than running it. */
  private readonly statements = new Map<string, Database.Statement>();

  private statement(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (st === undefined) {
      st = this.db.prepare(sql);
      // Statements with generated text (multi-row INSERTs) must not pile up.
      if (this.statements.size >= 256) this.statements.clear();
      this.statements.set(sql, st);
    }
    return st;
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.statement(sql).all(...params) as T[];
  }

  async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    return this.statement(sql).run(...params).changes;
  }

  async close(): Promise<void> { this.db.close(); }
}
