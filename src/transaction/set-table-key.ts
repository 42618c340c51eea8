// A table's key: Iceberg's identifier fields (`identifier-field-ids` of the current schema),
// the columns MERGE/upsert and delete-by-key match rows on. Set at creation (`floe table
// create --key id`) or later (`floe table set-key`), which commits a new current schema with
// the same columns and the new identifier fields (as Java's UpdateSchema.setIdentifierFields).
import { ValidationError } from '../errors.ts';
import { type Schema, schemaFromJson, schemaToJson } from '../spec/schema.ts';
import { currentSchema } from '../spec/table-metadata.ts';
import type { Catalog } from '../table/catalog.ts';
import type { TableIdentifier } from '../table/identifier.ts';
import { commitUpdateWithRetry } from './commit-with-retry.ts';

/** `schema` with the key columns `names` (dotted paths into structs; empty: no key). Refuses
 * unknown names and fields Iceberg does not allow as identifiers, naming the column. */
export function schemaWithKey(schema: Schema, names: readonly string[], schemaId = schema.schemaId): Schema {
  const ids: number[] = [];
  for (const name of names) {
    const f = schema.findFieldByName(name);
    if (!f) {
      const known = schema.fields.map((x) => x.name).join(', ');
      throw new ValidationError(`key column '${name}' is not in the schema (columns: ${known})`);
    }
    if (ids.includes(f.id)) throw new ValidationError(`key column '${name}' is named twice`);
    ids.push(f.id);
  }
  // schemaFromJson applies Iceberg's identifier-field rules (required, primitive, not float/double,
  // not inside a list, map or optional struct) with messages that name the column.
  const json = { ...schemaToJson(schema), 'identifier-field-ids': ids };
  return schemaFromJson(json, { schemaId });
}

/** The key column names of a schema, in key order. */
export function keyColumnNames(schema: Schema): string[] {
  return schema.identifierFieldIds.map((id) => schema.findColumnName(id) ?? String(id));
}

/** Commits a new current schema whose identifier fields are `names`. */
export async function setTableKey(catalog: Catalog, id: TableIdentifier, names: readonly string[]): Promise<Schema> {
  const result = await commitUpdateWithRetry(catalog, id, {
    description: 'key change',
    prepare: async (t) => {
      const schema = currentSchema(t.metadata);
      const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
      const probe = schemaWithKey(schema, names);
      if (same(probe.identifierFieldIds, schema.identifierFieldIds)) return undefined;
      const next = schemaWithKey(schema, names, Math.max(...t.metadata.schemas.map((s) => s.schemaId)) + 1);
      return {
        attemptFiles: [],
        requirements: [{ type: 'assert-current-schema-id', currentSchemaId: schema.schemaId }],
        updates: [
          { action: 'add-schema', schema: next, lastColumnId: t.metadata.lastColumnId },
          { action: 'set-current-schema', schemaId: next.schemaId },
        ],
      };
    },
  });
  return currentSchema(result.table.metadata);
}
