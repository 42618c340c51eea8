// Wires catalog/ and compaction/ into the core's CLI (src never imports either itself).
import { openCatalog } from '../catalog/index.ts';
import { startCompaction } from '../compaction/compaction-service.ts';
import { expireSnapshots } from '../compaction/expire-snapshots.ts';
import { removeOrphanFiles } from '../compaction/remove-orphans.ts';
import { rewriteManifests } from '../compaction/rewrite-manifests.ts';
import { rewritePositionDeletes } from '../compaction/rewrite-position-deletes.ts';
import { formatDoctorReport, runTableDoctor } from '../compaction/table-doctor.ts';
import { runCli } from '../src/cli/main.ts';

export function main(argv: readonly string[]): Promise<number> {
  return runCli(argv, {
    openCatalog: (o) => openCatalog({ warehouse: o.warehouse, name: o.name, ...(o.uri ? { uri: o.uri } : {}), ...(o.properties ? { properties: o.properties } : {}) }),
    expireSnapshots,
    removeOrphans: removeOrphanFiles,
    rewriteManifests,
    rewritePositionDeletes,
    doctor: async (catalog, id, o) => {
      const report = await runTableDoctor(catalog, id, { deep: o.deep });
      return { healthy: report.healthy, lines: formatDoctorReport(report), report };
    },
    compact: (catalog, o, out) => startCompaction(catalog, o, out),
  });
}
