// The every-type tables of the reader round trips (round-trip.test.ts, catalogs-readers.test.ts):
// ALL_TYPES_SCHEMA_JSON, and a twin without its time column for Spark, which has no TIME type
// and refuses any table with a time column. Both are filled from the same generator
// (datagen.ts) and compared in canonical form (canonical.ts).
import { schemaFromJson, type Schema } from '../../src/spec/schema.ts';
import { ALL_TYPES_SCHEMA_JSON } from './datagen.ts';
import type { ReaderName } from './readers.ts';

export type AllTypesTable = 'all_types' | 'all_types_no_time';

const NO_TIME_SCHEMA_JSON = { ...ALL_TYPES_SCHEMA_JSON, fields: ALL_TYPES_SCHEMA_JSON.fields.filter((f) => f.type !== 'time') };

export const ALL_TYPES_TABLES: readonly (readonly [AllTypesTable, typeof ALL_TYPES_SCHEMA_JSON])[] = [
  ['all_types', ALL_TYPES_SCHEMA_JSON],
  ['all_types_no_time', NO_TIME_SCHEMA_JSON],
];

/** The table a reader is given: Spark the twin without the time column. */
export function allTypesTableFor(reader: ReaderName): AllTypesTable {
  return reader === 'spark' ? 'all_types_no_time' : 'all_types';
}

/** The Iceberg schema of one of the tables (field ids assigned in order). */
export function allTypesSchema(table: AllTypesTable): Schema {
  return schemaFromJson(ALL_TYPES_TABLES.find(([name]) => name === table)![1], { assignIds: true });
}
