// Compact on a schedule: many small appends leave many small files; a compaction service
// rewrites them into fewer, larger ones on a cron schedule (here every second, stopped after
// its first run; in production something like '0 * * * *', hourly), then expires snapshots
// older than a week. Readers see the change atomically; the rows stay the same.
//
//   FLOE_WAREHOUSE=./warehouse node --import tsx examples/compact-on-schedule.ts
import { appendRecords, openCatalog, parseTableIdentifier, schemaFromJson, type Catalog, type TableIdentifier } from 'floe';
import { startCompaction } from 'floe/compaction';

const warehouse = process.env.FLOE_WAREHOUSE ?? './warehouse';
const id = parseTableIdentifier('examples.events');

const catalog = await openCatalog({ warehouse });
try {
  if (!(await catalog.namespaceExists(id.namespace))) await catalog.createNamespace(id.namespace);
  if (!(await catalog.tableExists(id))) {
    const schema = schemaFromJson({
      type: 'struct',
      fields: [
        { name: 'event_id', type: 'long', required: true },
        { name: 'kind', type: 'string', required: true },
      ],
    }, { assignIds: true });
    await catalog.createTable(id, { schema });
  }
  // Eight small commits, like a streaming writer's micro-batches: one small file each.
  for (let batch = 0; batch < 8; batch++) {
    const rows = Array.from({ length: 25 }, (_, i) => ({ event_id: batch * 25 + i, kind: i % 2 === 0 ? 'click' : 'view' }));
    await appendRecords(catalog, id, rows);
  }
  const before = await tableFiles(catalog, id);
  console.log(`before: ${before.files} data files, ${before.rows} rows`);

  let firstRun!: () => void;
  const ranOnce = new Promise<void>((resolve) => { firstRun = resolve; });
  const service = await startCompaction(catalog, {
    tables: [id],
    schedule: '* * * * * *',                     // croner syntax, with seconds: every second
    expire: { olderThanMs: 7 * 86_400_000 },     // then expire snapshots older than a week
    progress: false,
  }, (line) => { console.log(`compaction: ${line}`); firstRun(); });
  await ranOnce;
  await service.stop();
  await service.done;

  const after = await tableFiles(catalog, id);
  console.log(`after: ${after.files} data files, ${after.rows} rows`);
} finally {
  await catalog.close();
}

/** Live data files and rows of main, from the current snapshot's summary. */
async function tableFiles(catalog: Catalog, id: TableIdentifier): Promise<{ files: number; rows: number }> {
  const { metadata } = await catalog.loadTable(id);
  const summary = metadata.snapshots.find((s) => s.snapshotId === metadata.currentSnapshotId)?.summary ?? {};
  return { files: Number(summary['total-data-files'] ?? 0), rows: Number(summary['total-records'] ?? 0) };
}
