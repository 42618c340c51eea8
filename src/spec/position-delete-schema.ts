// The columns of a position-delete file (spec "Position Delete Files", "Reserved Field IDs").
import { Schema } from './schema.ts';

export const DELETE_FILE_PATH_FIELD_ID = 2147483546;
export const DELETE_POS_FIELD_ID = 2147483545;

/** file_path (string) and pos (long), both required, with their reserved ids. */
export const POSITION_DELETE_SCHEMA = new Schema(0, [
  { id: DELETE_FILE_PATH_FIELD_ID, name: 'file_path', required: true, type: { kind: 'string' } },
  { id: DELETE_POS_FIELD_ID, name: 'pos', required: true, type: { kind: 'long' } },
]);
