// Optional schema evolution for streams (off by default, like Kafka Connect's evolve-schema):
// unknown top-level fields become new optional columns (type inferred from JSON: boolean,
// long, double, string), and int/float columns are promoted to long/double when values no
// longer fit. The change is its own commit (add-schema + set-current-schema) guarded by
// assert-current-schema-id and assert-last-assigned-field-id, retried on conflict.
import { Schema } from '../spec/schema.ts';
import { currentSchema } from '../spec/table-metadata.ts';
import type { NestedField, PrimitiveType } from '../spec/types.ts';
import type { Catalog } from '../table/catalog.ts';
import type { TableIdentifier } from '../table/identifier.ts';
import { commitUpdateWithRetry } from '../transaction/commit-with-retry.ts';

function inferType(v: unknown): PrimitiveType | undefined {
  if (typeof v === 'boolean') return { kind: 'boolean' };
  if (typeof v === 'bigint') return { kind: 'long' };
  if (typeof v === 'number') return Number.isInteger(v) ? { kind: 'long' } : { kind: 'double' };
  if (typeof v === 'string') return { kind: 'string' };
  return undefined; // objects and arrays are not inferred: such records go to dead letters
}

const INT32 = (v: unknown): boolean => (typeof v === 'number' && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647)
  || (typeof v === 'bigint' && v >= -2147483648n && v <= 2147483647n);

/** Pure: the evolved field list for these records, or undefined when nothing changes. */
export function evolveFields(schema: Schema, lastColumnId: number, records: readonly unknown[]): { fields: NestedField[]; lastColumnId: number; changes: string[] } | undefined {
  const fields = [...schema.fields];
  const changes: string[] = [];
  let nextId = lastColumnId;
  const byName = new Map(fields.map((f, i) => [f.name, i]));
  for (const r of records) {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) continue;
    for (const [name, v] of Object.entries(r as Record<string, unknown>)) {
      if (v === null || v === undefined) continue;
      const at = byName.get(name);
      if (at === undefined) {
        const type = inferType(v);
        if (!type || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) continue;
        fields.push({ id: ++nextId, name, required: false, type });
        byName.set(name, fields.length - 1);
        changes.push(`added ${name} ${type.kind}`);
        continue;
      }
      const f = fields[at]!;
      if (f.type.kind === 'int' && (typeof v === 'number' || typeof v === 'bigint') && !INT32(v) && (typeof v === 'bigint' || Number.isInteger(v))) {
        fields[at] = { ...f, type: { kind: 'long' } };
        changes.push(`promoted ${name} int→long`);
      } else if (f.type.kind === 'float' && typeof v === 'number' && Number.isFinite(v) && (Math.abs(v) > 3.4028234663852886e38 || Math.fround(v) !== v)) {
        fields[at] = { ...f, type: { kind: 'double' } };
        changes.push(`promoted ${name} float→double`);
      }
    }
  }
  return changes.length > 0 ? { fields, lastColumnId: nextId, changes } : undefined;
}

/** Applies the evolution these records need; returns the schema to validate them with. The
 * change goes through the one commit loop (`commit.retry.*`); a conflict re-derives it from the
 * new schema, so an evolution another writer made meanwhile is not made twice. */
export async function evolveSchemaFor(catalog: Catalog, id: TableIdentifier, records: readonly unknown[], onChange?: (changes: string[]) => void): Promise<Schema> {
  let next: { schema: Schema; changes: string[] } | undefined;
  const result = await commitUpdateWithRetry(catalog, id, {
    description: 'schema evolution',
    prepare: async (t) => {
      next = undefined;
      const schema = currentSchema(t.metadata);
      const evolved = evolveFields(schema, t.metadata.lastColumnId, records);
      if (!evolved) return undefined;
      const evolvedSchema = new Schema(Math.max(...t.metadata.schemas.map((s) => s.schemaId)) + 1, evolved.fields, schema.identifierFieldIds);
      next = { schema: evolvedSchema, changes: evolved.changes };
      return {
        attemptFiles: [],
        requirements: [
          { type: 'assert-current-schema-id', currentSchemaId: schema.schemaId },
          { type: 'assert-last-assigned-field-id', lastAssignedFieldId: t.metadata.lastColumnId },
        ],
        updates: [
          { action: 'add-schema', schema: evolvedSchema, lastColumnId: evolved.lastColumnId },
          { action: 'set-current-schema', schemaId: evolvedSchema.schemaId },
        ],
      };
    },
  });
  if (result.committed && next) onChange?.(next.changes);
  return currentSchema(result.table.metadata);
}
