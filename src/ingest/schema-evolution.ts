// Optional schema evolution for streams (off by default, like Kafka Connect's evolve-schema):
// unknown top-level fields become new optional columns (type inferred from JSON: boolean,
// long, double, string), and int/float columns are promoted to long/double when values no
// longer fit. The change is its own commit (add-schema + set-current-schema) guarded by
// assert-current-schema-id and assert-last-assigned-field-id, retried on conflict.
import { CommitConflictError } from '../errors.ts';
import { Schema } from '../spec/schema.ts';
import { currentSchema } from '../spec/table-metadata.ts';
import type { NestedField, PrimitiveType } from '../spec/types.ts';
import type { Catalog } from '../table/catalog.ts';
import type { TableIdentifier } from '../table/identifier.ts';

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

/** Applies the evolution these records need; returns the schema to validate them with. */
export async function evolveSchemaFor(catalog: Catalog, id: TableIdentifier, records: readonly unknown[], onChange?: (changes: string[]) => void): Promise<Schema> {
  for (let attempt = 1; ; attempt++) {
    const t = await catalog.loadTable(id);
    const schema = currentSchema(t.metadata);
    const evolved = evolveFields(schema, t.metadata.lastColumnId, records);
    if (!evolved) return schema;
    const next = new Schema(Math.max(...t.metadata.schemas.map((s) => s.schemaId)) + 1, evolved.fields, schema.identifierFieldIds);
    try {
      await catalog.commitTable(id, [
        { type: 'assert-current-schema-id', currentSchemaId: schema.schemaId },
        { type: 'assert-last-assigned-field-id', lastAssignedFieldId: t.metadata.lastColumnId },
      ], [
        { action: 'add-schema', schema: next, lastColumnId: evolved.lastColumnId },
        { action: 'set-current-schema', schemaId: next.schemaId },
      ]);
      onChange?.(evolved.changes);
      return next;
    } catch (err) {
      if (!(err instanceof CommitConflictError) || attempt >= 10) throw err;
    }
  }
}
