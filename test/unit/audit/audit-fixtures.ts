// A small orders table with a key, rows appended to main and to an audit branch, and a
// helper to audit it with inline checks (real catalog, real Parquet files, real DuckDB).
import { schemaFromJson } from '../../../src/spec/schema.ts';
import type { TableIdentifier } from '../../../src/table/identifier.ts';
import { appendRecords } from '../../../src/transaction/append-records.ts';
import { parseAuditChecks } from '../../../src/audit/audit-checks.ts';
import { runAudit, type AuditReport, type CheckResult } from '../../../src/audit/run-audit.ts';
import { testWarehouse, type TestWarehouse } from '../../support/warehouse.ts';

export const ORDERS: TableIdentifier = { namespace: ['db'], name: 'orders' };
export const CUSTOMERS: TableIdentifier = { namespace: ['db'], name: 'customers' };
export const NOW_MS = Date.parse('2026-06-01T12:00:00Z');

export const ORDERS_SCHEMA = schemaFromJson({
  type: 'struct',
  'identifier-field-ids': [1],
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'region', required: false, type: 'string' },
    { id: 3, name: 'amount', required: false, type: 'decimal(10,2)' },
    { id: 4, name: 'ts', required: false, type: 'timestamptz' },
    { id: 5, name: 'customer', required: false, type: 'long' },
  ],
});

export interface Order { id: number | string; region?: string | null; amount?: string | null; ts?: string | null; customer?: number | null }

export const order = (id: number, o: Partial<Order> = {}): Order => ({
  id, region: 'eu', amount: '10.00', ts: '2026-06-01T11:30:00Z', customer: 1, ...o,
});

export interface OrdersTable {
  readonly wh: TestWarehouse;
  append(rows: readonly Order[], branch?: string): Promise<void>;
  audit(checks: unknown[], o?: { branch?: string; snapshotId?: bigint; nowMs?: number }): Promise<AuditReport>;
  check(checks: unknown[], o?: { branch?: string; nowMs?: number }): Promise<CheckResult>;
  cleanup(): Promise<void>;
}

export async function ordersTable(properties: Record<string, string> = {}): Promise<OrdersTable> {
  const wh = await testWarehouse('floe-audit-');
  await wh.catalog.createNamespace(['db']);
  await wh.catalog.createTable(ORDERS, { schema: ORDERS_SCHEMA, properties });
  const audit = async (checks: unknown[], o: { branch?: string; snapshotId?: bigint; nowMs?: number } = {}): Promise<AuditReport> =>
    runAudit(wh.catalog, ORDERS, {
      branch: o.branch ?? 'audit', checks: await parseAuditChecks({ checks }, 'checks.yaml'), nowMs: o.nowMs ?? NOW_MS,
      ...(o.snapshotId !== undefined ? { snapshotId: o.snapshotId } : {}),
    });
  return {
    wh,
    async append(rows, branch = 'main') { await appendRecords(wh.catalog, ORDERS, rows, { branch }); },
    audit,
    async check(checks, o = {}) {
      const r = await audit(checks, o);
      return r.checks[0]!;
    },
    cleanup: () => wh.cleanup(),
  };
}
