// A table inside another table's folder, made the way floe allowed before it checked
// locations: metadata written by hand and the catalog row inserted straight into SQLite (the
// catalog now refuses it). Tests use it to prove that maintenance of the outer table leaves
// the inner table's files alone in catalogs made by older versions.
import Database from 'better-sqlite3';
import type { Schema } from '../../src/spec/schema.ts';
import { newMetadataFileLocation, newTableMetadata, serializeTableMetadata } from '../../src/spec/table-metadata.ts';
import type { Catalog } from '../../src/table/catalog.ts';
import type { TableIdentifier } from '../../src/table/identifier.ts';

export async function insertTableAt(catalog: Catalog, catalogDb: string, id: TableIdentifier, location: string, schema: Schema): Promise<void> {
  const metadata = newTableMetadata({ location, schema });
  const metadataLocation = newMetadataFileLocation(location, null);
  await catalog.io.writeNew(metadataLocation, new TextEncoder().encode(serializeTableMetadata(metadata)));
  const db = new Database(catalogDb);
  try {
    db.prepare(`INSERT INTO iceberg_tables VALUES (?, ?, ?, ?, NULL, 'TABLE')`).run(catalog.name, id.namespace.join('.'), id.name, metadataLocation);
  } finally {
    db.close();
  }
}
