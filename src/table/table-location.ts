// Table locations as folders: one spelling per place (file:/, file:///, bare paths, trailing
// slashes), and whether two tables' folders overlap. A table inside another's folder is what
// let orphan removal and purge of the outer table delete the inner table's files.
import path from 'node:path';
import { ValidationError } from '../errors.ts';
import { isS3Uri, parseS3Uri } from '../io/s3-location.ts';

/**
 * One spelling per file or folder for comparison: metadata written by Java says `file:/p`,
 * floe and pyiceberg `file:///p`, some writers a bare `/p`; all name the same place, and a
 * mismatch would make a live file look orphaned or hide an overlap. Repeated and trailing
 * slashes go; `.` and `..` segments are resolved. Other schemes (s3://bucket/…) keep scheme
 * and authority and have their path normalised the same way.
 */
export function comparableLocation(uri: string): string {
  if (uri.startsWith('file:')) return normalisePath(`/${uri.replace(/^file:\/*(localhost\/)?/, '')}`);
  if (uri.startsWith('/')) return normalisePath(uri);
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/]*)(\/.*)?$/.exec(uri);
  if (m) return `${sameStoreScheme(m[1]!)}://${m[2]}${m[3] ? normalisePath(m[3]) : ''}`.replace(/\/$/, '');
  return uri;
}

/** `s3a://` and `s3n://` (Hadoop's names, which Spark and Hive write) reach the very objects
 * `s3://` does: one spelling, or a table at `s3a://b/t` would not overlap one at `s3://b/t/x`
 * and the live files a Spark writer named `s3a://…` would look orphaned under `s3://…`. */
function sameStoreScheme(scheme: string): string {
  const lower = scheme.toLowerCase();
  return lower === 's3a' || lower === 's3n' ? 's3' : lower;
}

function normalisePath(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

/** True when `file` is `location` itself or lies anywhere below it. */
export function isWithinLocation(file: string, location: string): boolean {
  const f = comparableLocation(file);
  const l = comparableLocation(location);
  return f === l || f.startsWith(l === '/' ? '/' : `${l}/`);
}

/** True when the two folders are the same or one lies inside the other. */
export function locationsOverlap(a: string, b: string): boolean {
  return isWithinLocation(a, b) || isWithinLocation(b, a);
}

/**
 * Checks a location a user asks for and returns it as it will be stored: absolute (a scheme
 * or a leading `/`), without trailing slashes, and without `.`/`..` segments — a location
 * with `..` names another folder than it seems to, so the overlap check and the writers
 * would disagree about where the files go.
 */
export function validateTableLocation(location: string): string {
  const trimmed = location.replace(/(?<=[^/:])\/+$/, '');
  const hasScheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(trimmed);
  if (trimmed.length === 0 || (!hasScheme && !trimmed.startsWith('/'))) {
    throw new ValidationError(`table location '${location}' must be absolute (a URI such as file:///data/t or a path starting with /)`);
  }
  const pathPart = hasScheme ? trimmed.replace(/^[A-Za-z][A-Za-z0-9+.-]*:(\/\/[^/]*)?/, '') : trimmed;
  if (pathPart.split('/').some((s) => s === '.' || s === '..')) {
    throw new ValidationError(`table location '${location}' must not contain '.' or '..' segments`);
  }
  if (comparableLocation(trimmed) === '/' || pathPart === '' || pathPart === '/') {
    throw new ValidationError(`table location '${location}' is a root folder; a table needs a folder of its own`);
  }
  if (isS3Uri(trimmed)) {
    try { parseS3Uri(trimmed); } catch (err) { throw new ValidationError(`table location ${(err as Error).message}`); }
    // On S3 `wh//t` and `wh/t` are different keys, but Hadoop's S3A (Spark, Trino's legacy
    // file system) collapses the '//': such a table's files would be written where those
    // readers never look.
    if (pathPart.slice(1).split('/').some((seg) => seg === '')) {
      throw new ValidationError(`table location '${location}' has an empty segment ('//'); S3 keys keep it but Spark and Hadoop readers drop it, so they would not find the files`);
    }
  }
  return trimmed;
}

/** A table and its location, for catalog-wide overlap checks. */
export interface TableLocation {
  /** The table. */
  readonly identifier: string;
  /** Its base location. */
  readonly location: string;
  /** Its current metadata file, so a caller can read what the table references. */
  readonly metadataLocation: string;
}

/** The first listed table whose folder overlaps `location` (skipping `self`), if any. */
export function overlappingTable(location: string, tables: readonly TableLocation[], self?: string): TableLocation | undefined {
  return tables.find((t) => t.identifier !== self && locationsOverlap(location, t.location));
}

/**
 * Whether `file` belongs to another table rather than to the table at `ownLocation`: it lies
 * in another table's folder, and that folder is not one that merely contains ours (a file
 * in our folder belongs to us even when an outer table's folder contains ours). A table at
 * the very same location claims everything: then no file is ours to delete.
 */
export function ownedByAnotherTable(file: string, ownLocation: string, others: readonly TableLocation[]): TableLocation | undefined {
  const inOwn = isWithinLocation(file, ownLocation);
  return others.find((t) => isWithinLocation(file, t.location) && (!inOwn || isWithinLocation(t.location, ownLocation)));
}

/**
 * `ownedByAnotherTable` with symbolic links seen through: other tables' locations, ours and
 * the files are compared by the places they really name (`canonical`, from the FileIO). A
 * file under our location is mapped by prefix (listings do not follow links below it).
 */
export async function ownerResolver(ownLocation: string, others: readonly TableLocation[], canonical?: (uri: string) => Promise<string>):
  Promise<(file: string) => Promise<TableLocation | undefined>> {
  if (!canonical) return async (file) => ownedByAnotherTable(file, ownLocation, others);
  const own = comparableLocation(ownLocation);
  const ownReal = comparableLocation(await canonical(ownLocation));
  const real = await Promise.all(others.map(async (t) => ({ ...t, location: await canonical(t.location) })));
  return async (file) => {
    const written = ownedByAnotherTable(file, ownLocation, others);
    if (written) return written;
    const f = comparableLocation(file);
    const fileReal = isWithinLocation(f, own) ? `${ownReal}${f.slice(own.length)}` : comparableLocation(await canonical(file));
    const hit = ownedByAnotherTable(fileReal, ownReal, real);
    return hit ? others.find((t) => t.identifier === hit.identifier) : undefined;
  };
}
