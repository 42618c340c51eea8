// `s3://bucket/key` locations. Other engines write `s3a://` (Hadoop S3A) and `s3n://` into
// metadata: they name the same objects, so they are read the same way, and a location keeps
// the scheme it was written with (a path is never rewritten behind a reader's back).
import { FileIOError } from '../errors.ts';

export interface S3Location { readonly scheme: string; readonly bucket: string; readonly key: string }

const S3_SCHEMES = new Set(['s3', 's3a', 's3n']);

export function isS3Uri(uri: string): boolean {
  const m = /^([a-z0-9]+):\/\//i.exec(uri);
  return m !== null && S3_SCHEMES.has(m[1]!.toLowerCase());
}

/** Splits `s3://bucket/key`; the key is taken literally (no percent-decoding, as Java's S3URI). */
export function parseS3Uri(uri: string): S3Location {
  const m = /^([a-z0-9]+):\/\/([^/?#]*)\/?(.*)$/i.exec(uri);
  if (!m || !S3_SCHEMES.has(m[1]!.toLowerCase())) throw new FileIOError(`'${uri}' is not an S3 location (s3://bucket/key)`);
  const bucket = m[2]!;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new FileIOError(`'${uri}': '${bucket}' is not a valid S3 bucket name (3–63 lowercase letters, digits, dots, hyphens)`);
  }
  return { scheme: m[1]!.toLowerCase(), bucket, key: m[3]! };
}

export function s3Uri(loc: { scheme: string; bucket: string }, key: string): string {
  return `${loc.scheme}://${loc.bucket}/${key}`;
}
