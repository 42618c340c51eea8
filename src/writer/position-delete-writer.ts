// Iceberg v2 position-delete files (spec "Position Delete Files"): rows of (file_path, pos)
// sorted by path then position, with the reserved field ids in the Parquet schema. Metrics keep
// FULL file_path bounds, as Java's MetricsConfig.forPositionDelete does: readers compare a data
// file's path against them to skip delete files that cannot touch it, and a truncated bound
// would make them read every delete file of the partition.
import { ValidationError } from '../errors.ts';
import { FileContent, type DataFile, type PartitionTuple } from '../spec/data-file.ts';
import { POSITION_DELETE_SCHEMA } from '../spec/position-delete-schema.ts';
import { compareCodePoints } from '../spec/single-value.ts';
import { DEFAULT_WRITE_METRICS_MODE } from '../spec/table-properties.ts';
import { checkDeletePartition, writeDeleteFile, type DeleteFileTarget } from './delete-file-writer.ts';

export type PositionDeleteTarget = DeleteFileTarget;

/**
 * Writes one position-delete file for data files of one partition (`partition`, of `spec`):
 * `deletes` maps a data file path to the row positions deleted in it (any order; duplicates
 * are written once). Returns its manifest description (content 1).
 */
export async function writePositionDeletes(
  target: PositionDeleteTarget, partition: PartitionTuple, deletes: ReadonlyMap<string, readonly number[]>,
): Promise<DataFile> {
  checkDeletePartition('position deletes', target, partition);
  const paths = [...deletes.keys()].sort(compareCodePoints);
  const rows: { file_path: string; pos: bigint }[] = [];
  for (const path of paths) {
    const positions = [...new Set(deletes.get(path)!)].sort((a, b) => a - b);
    for (const pos of positions) {
      if (!Number.isSafeInteger(pos) || pos < 0) throw new ValidationError(`position delete for ${path}: position ${pos} is not a row position (an integer >= 0)`);
      rows.push({ file_path: path, pos: BigInt(pos) });
    }
  }
  if (rows.length === 0) throw new ValidationError('a position-delete file needs at least one deleted position');

  const file = await writeDeleteFile(target, partition, {
    content: FileContent.PositionDeletes, deleteSchema: POSITION_DELETE_SCHEMA, rows, nameSuffix: 'deletes',
    metricsProperties: { [DEFAULT_WRITE_METRICS_MODE.name]: 'full' },
  });
  return {
    ...file,
    referencedDataFile: paths.length === 1 ? paths[0]! : null,
  };
}
