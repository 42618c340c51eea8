// Write-audit-publish for an ingest route: every batch is committed to the audit branch; every
// `batchesPerPublish` batches the branch is audited and published to main, or quarantined (the
// gate, src/wap/audit-and-publish.ts). Exactly once still holds: a batch's offsets are in its
// commit on the audit branch; publishing carries them to main; quarantining keeps them on the
// quarantine branch, which `committedOffsets` reads too, so they are neither read again nor lost.
// A process that died between a commit and its gate finds the branch ahead of main when it
// starts, and gates it before reading anything new.
import type { Catalog } from '../table/catalog.ts';
import type { TableIdentifier } from '../table/identifier.ts';
import { divergence } from '../table/ref-lineage.ts';

/** What a write-audit-publish gate of an ingest route decided. */
export interface WapGateResult {
  /** `published`, `quarantined` or `nothing`. */
  readonly outcome: 'published' | 'quarantined' | 'nothing';
  /** The audit branch's name, and where a quarantined batch went. */
  readonly branch: string;
  /** Where a quarantined batch went. */
  readonly quarantineBranch?: string;
  /** Names of the failed checks. */
  readonly failedChecks: readonly string[];
  /** Checks run and the rows they saw. */
  readonly checks: number;
  readonly auditedRows: number;
  /** Milliseconds spent auditing. */
  readonly auditMs: number;
  /** Milliseconds spent publishing or quarantining. */
  readonly publishMs: number;
  /** `fast-forward` or `reapplied` when published. */
  readonly publishKind?: string;
  /** Snapshots that reached main. */
  readonly publishedSnapshots: number;
}

/** Audits the branch and publishes it, or quarantines it. */
export type WapGate = () => Promise<WapGateResult>;

/** Write-audit-publish settings of a {@link TableIngestor}: batches are committed to `branch` and
 * gated every `batchesPerPublish` batches. */
export interface WapBatchOptions {
  /** The audit branch batches are committed to. */
  readonly branch: string;
  /** Batches per publish; 0 = manual (batches stay staged for `floe publish`). */
  readonly batchesPerPublish: number;
  /** Audits the branch and publishes or quarantines it. */
  readonly gate: WapGate;
}

export class WapBatches {
  private pending = 0;

  constructor(private readonly catalog: Catalog, private readonly table: TableIdentifier, readonly opts: WapBatchOptions) {}

  /** Counts the batches already staged on the branch (a restart) and gates them if due. */
  async recover(): Promise<WapGateResult | undefined> {
    const m = (await this.catalog.loadTable(this.table)).metadata;
    const ref = m.refs[this.opts.branch];
    this.pending = ref ? divergence(m, ref.snapshotId).branchOnly.length : 0;
    return this.due() ? this.gate() : undefined;
  }

  /** After a batch was committed to the branch: gates when enough batches are staged. */
  async afterBatch(): Promise<WapGateResult | undefined> {
    this.pending++;
    return this.due() ? this.gate() : undefined;
  }

  get stagedBatches(): number { return this.pending; }

  private due(): boolean {
    return this.opts.batchesPerPublish > 0 && this.pending >= this.opts.batchesPerPublish;
  }

  private async gate(): Promise<WapGateResult> {
    const r = await this.opts.gate();
    this.pending = 0;
    return r;
  }
}
