// The table-location rules every catalog implementation enforces the same way (the REST server
// does not check them, so floe does): a table's folder neither contains nor lies inside another
// table's — orphan removal or purge of the outer table would delete the inner one's files — and
// a new table's folder is empty but for a create in progress.
import { AlreadyExistsError, ValidationError } from '../src/errors.ts';
import type { FileIO } from '../src/io/file-io.ts';
import { identifierToString, type TableIdentifier } from '../src/table/identifier.ts';
import type { TableLocation } from '../src/table/table-location.ts';

/** A first metadata file, or the hidden temp file LocalFileIO.writeNew links it from: a create
 * in progress (or one that lost its race) — the catalog decides between concurrent creates,
 * not a listing. */
const FIRST_METADATA_FILE = /\/metadata\/(00000-[0-9a-f-]{36}\.metadata\.json|\.00000-[0-9a-f-]{36}\.metadata\.json\.[0-9a-f-]{36}\.tmp)$/;

export function overlapError(id: TableIdentifier, location: string, clash: TableLocation): ValidationError {
  return new ValidationError(`cannot use location ${location} for table '${identifierToString(id)}': it overlaps table '${clash.identifier}' at ${clash.location} `
    + '(a table\'s folder must neither contain nor lie inside another\'s); choose another location');
}

export interface LocationCheck {
  readonly io: FileIO;
  /** The table whose location overlaps `location`, other than `self`. */
  overlapping(location: string, self: string): Promise<TableLocation | undefined>;
  tableExists(id: TableIdentifier): Promise<boolean>;
}

/** Refuses a location that overlaps another table's, or (mustBeEmpty) a folder holding files. */
export async function checkLocationFree(c: LocationCheck, id: TableIdentifier, location: string, opts: { mustBeEmpty: boolean }): Promise<void> {
  const self = identifierToString(id);
  const clash = await c.overlapping(location, self);
  // A concurrent create of this very table that landed since our check is AlreadyExists.
  if (clash && (await c.tableExists(id))) throw new AlreadyExistsError(`table '${self}' already exists`);
  if (clash) throw overlapError(id, location, clash);
  if (!opts.mustBeEmpty) return;
  const present = (await c.io.list(`${location.replace(/\/+$/, '')}/`)).filter((f) => !FIRST_METADATA_FILE.test(f.uri));
  if (present.length > 0) {
    throw new ValidationError(`cannot create table '${self}' at ${location}: the folder is not empty (${present.length} file(s), e.g. ${present[0]!.uri}); `
      + 'register its metadata file instead, or choose another location');
  }
}
