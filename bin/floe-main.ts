// Wires catalog/ and compaction/ into the core's CLI (src never imports either itself).
// Each is imported when a command first uses it, so `floe --help` loads none of them and
// `floe append` loads the catalog but no compaction code.
import { runCli, type CliDeps } from '../src/cli/main.ts';

const catalogs = () => import('../catalog/index.ts');

export function main(argv: readonly string[]): Promise<number> {
  const deps: CliDeps = {
    openCatalog: async (o) => (await catalogs()).openCatalog({ warehouse: o.warehouse, name: o.name, ...(o.uri ? { uri: o.uri } : {}), ...(o.properties ? { properties: o.properties } : {}) }),
    expireSnapshots: async (...a) => (await import('../compaction/expire-snapshots.ts')).expireSnapshots(...a),
    removeOrphans: async (...a) => (await import('../compaction/remove-orphans.ts')).removeOrphanFiles(...a),
    rewriteManifests: async (...a) => (await import('../compaction/rewrite-manifests.ts')).rewriteManifests(...a),
    rewritePositionDeletes: async (...a) => (await import('../compaction/rewrite-position-deletes.ts')).rewritePositionDeletes(...a),
    doctor: async (catalog, id, o) => {
      const { formatDoctorReport, runTableDoctor } = await import('../compaction/table-doctor.ts');
      const report = await runTableDoctor(catalog, id, { deep: o.deep });
      return { healthy: report.healthy, lines: formatDoctorReport(report), report };
    },
    compact: async (catalog, o, out) => (await import('../compaction/compaction-service.ts')).startCompaction(catalog, o, out),
  };
  return runCli(argv, deps);
}
