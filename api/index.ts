// The package's main entry point (`import … from 'floe'`). It composes src/ (the core) with
// catalog/ (catalog implementations), which src/ never imports itself. Curated and documented in
// issue 13's public-API work; subpaths: floe/ingest, floe/compaction.
export { openCatalog } from '../catalog/index.ts';
export { appendRecords } from '../src/transaction/append-records.ts';
