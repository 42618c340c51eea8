// `floe/compaction`: compaction and table maintenance.
export { compactTable } from '../compaction/compact-table.ts';
