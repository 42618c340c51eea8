// Manifest test fixtures shared by the Avro/manifest unit tests and the pyiceberg read-back
// test: one partition field of every Iceberg primitive type (plus a repeated decimal type and
// a name that is not a valid Avro name).
import type { ManifestPartitionField } from '../../src/format/manifest-schemas.ts';
import { decimal, fixed, primitive } from '../../src/spec/types.ts';

export const ALL_TYPES_PARTITION: readonly ManifestPartitionField[] = [
  { name: 'b', fieldId: 1000, type: primitive('boolean') },
  { name: 'i', fieldId: 1001, type: primitive('int') },
  { name: 'l', fieldId: 1002, type: primitive('long') },
  { name: 'f', fieldId: 1003, type: primitive('float') },
  { name: 'd', fieldId: 1004, type: primitive('double') },
  { name: 'ts_day', fieldId: 1005, type: primitive('date') },
  { name: 't', fieldId: 1006, type: primitive('time') },
  { name: 'ts', fieldId: 1007, type: primitive('timestamp') },
  { name: 'tstz', fieldId: 1008, type: primitive('timestamptz') },
  { name: 's', fieldId: 1009, type: primitive('string') },
  { name: 'u', fieldId: 1010, type: primitive('uuid') },
  { name: 'bin', fieldId: 1011, type: primitive('binary') },
  { name: 'fx', fieldId: 1012, type: fixed(3) },
  { name: 'dec', fieldId: 1013, type: decimal(9, 2) },
  { name: 'dec_again', fieldId: 1014, type: decimal(9, 2) },
  { name: 'big_dec', fieldId: 1015, type: decimal(38, 10) },
  { name: 'my-col', fieldId: 1016, type: primitive('string') },
];

