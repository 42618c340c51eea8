// The little a SQL catalog needs from a database: parameterised queries with `?`
// placeholders and the count of rows an UPDATE changed (the compare-and-swap verdict).

export interface SqlDriver {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * True when a failed statement certainly did not apply (an embedded database); false when
   * the connection may have died after the server applied it (then the commit is "unknown").
   */
  readonly failedStatementIsDefinite: boolean;
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a statement and returns the number of rows it changed. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
  close(): Promise<void>;
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === '23505';
}
