// The `floe ingest --config FILE` file (YAML or JSON), validated with messages that name the
// key. Defaults follow Iceberg's Kafka Connect sink where it has one.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ValidationError } from '../errors.ts';
import { formatZodIssue } from '../spec/schema.ts';
import { validateNewRefName } from '../transaction/manage-refs.ts';

const capture = z.object({
  key: z.string().optional(),
  topic: z.string().optional(),
  partition: z.string().optional(),
  offset: z.string().optional(),
  timestamp: z.string().optional(),
  headers: z.string().optional(),
}).strict();

/** Upsert mode: each batch is one MERGE by the table's key (its Iceberg identifier fields). */
const upsert = z.object({
  /** `plain` records (a row, optionally with an op field) or Debezium change events. */
  format: z.enum(['plain', 'debezium']).default('plain'),
  /** plain only: the field holding each record's op (c/u/d, insert/update/delete…). */
  opField: z.string().min(1).optional(),
  /** Dotted path to the value whose greatest wins (Debezium default: source.lsn, else ts_ms). */
  orderBy: z.string().regex(/^[^.]+(\.[^.]+)*$/, 'must be a dotted field path such as updated_at or source.lsn').optional(),
  /** Overrides the table's write.merge.mode / write.delete.mode. */
  mode: z.enum(['merge-on-read', 'copy-on-write']).optional(),
}).strict();

export type UpsertConfig = z.infer<typeof upsert>;

/** `every-batch`, `every-N-batches` (N ≥ 1) or `manual`. */
const publishPolicy = z.string().regex(/^(every-batch|every-[1-9]\d*-batches|manual)$/, 'must be every-batch, every-N-batches (e.g. every-5-batches) or manual');

/** Write-audit-publish: batches land on `branch`, are audited with `checks`, then published
 * to the route's branch (main) or quarantined (see src/ingest/wap-gate.ts). */
const wap = z.object({
  /** The audit branch the batches are staged on (created from main by the first batch). */
  branch: z.string().min(1),
  /** Check file (YAML/JSON, see `floe audit --help`), relative to this config file. */
  checks: z.string().min(1).optional(),
  publish: publishPolicy.default('every-batch'),
}).strict();

export type WapConfig = z.infer<typeof wap>;

/** How many audited batches make one publish; 0 = never (manual). */
export function batchesPerPublish(policy: string): number {
  if (policy === 'manual') return 0;
  if (policy === 'every-batch') return 1;
  return Number(/^every-(\d+)-batches$/.exec(policy)![1]);
}

export const ingestConfigSchema = z.object({
  source: z.discriminatedUnion('type', [
    z.object({
      type: z.literal('kafka'),
      brokers: z.array(z.string().min(1)).min(1),
      groupId: z.string().min(1),
      clientId: z.string().default('floe'),
      /** Start of a partition the table has no offsets for. */
      fromBeginning: z.boolean().default(true),
      /** Kafka's session.timeout.ms: how long a member that stopped heartbeating (a crashed
       * process) keeps its partitions before the group rebalances them. */
      sessionTimeoutMs: z.number().int().positive().default(30_000),
      /** Kafka's fetch.max.wait.ms: how long the broker holds a fetch that has less than
       * fetchMinBytes to return. kafkajs's own default (5 s) also became the idle gap after
       * every backpressure pause: 500 ms is Java's default. */
      fetchMaxWaitMs: z.number().int().min(0).default(500),
      /** Kafka's fetch.min.bytes: the least data a fetch waits for (up to fetchMaxWaitMs). */
      fetchMinBytes: z.number().int().positive().default(1),
      /** Kafka's fetch.max.bytes: the most data one fetch returns, over all partitions (a
       * partition's first batch is returned even if larger). kafkajs's default, 10 MiB (Java's
       * is 50 MiB): fetched data sits in memory beside the batch buffer. */
      fetchMaxBytes: z.number().int().positive().default(10 * 1024 * 1024),
      /** Kafka's max.partition.fetch.bytes: the most data a fetch returns per partition. */
      maxPartitionFetchBytes: z.number().int().positive().default(4 * 1024 * 1024),
    }).strict(),
    /** A file resumes at the position its commits recorded (ingest/file-source.ts); `-` reads
     * stdin, which cannot be resumed: a rerun appends every line again. */
    z.object({ type: z.literal('ndjson'), path: z.string().min(1) }).strict(),
  ]),
  routes: z.array(z.object({
    /** Kafka topic (Kafka sources only). */
    topic: z.string().optional(),
    table: z.string().min(3),
    branch: z.string().default('main'),
    capture: capture.optional(),
    /** Kafka Connect's evolve-schema: unknown fields add optional columns; int→long, float→double. */
    evolveSchema: z.boolean().default(false),
    /** Upsert/delete by the table's key instead of appending (see `upsert` above). */
    upsert: upsert.optional(),
    /** Write-audit-publish: stage each batch on an audit branch, audit, publish or quarantine. */
    wap: wap.optional(),
  }).strict()).min(1),
  batch: z.object({
    windowMs: z.number().int().positive().default(10_000),
    /** Flush the open batch before its window ends once the Kafka consumer has caught up (no
     * message left to fetch on any partition it last fetched) and the batch is at least this
     * old. Default: half the window. Set it to windowMs or more to always wait out the window. */
    caughtUpFlushMs: z.number().int().min(0).optional(),
    maxRecords: z.number().int().positive().default(100_000),
    maxBytes: z.number().int().positive().default(128 * 1024 * 1024),
    bufferLimitBytes: z.number().int().positive().optional(),
    adaptive: z.object({ minWindowMs: z.number().int().positive(), maxWindowMs: z.number().int().positive() }).strict().optional(),
  }).strict().default({ windowMs: 10_000, maxRecords: 100_000, maxBytes: 128 * 1024 * 1024 }),
  deadLetter: z.object({ table: z.string().min(3) }).strict().optional(),
  metrics: z.object({ port: z.number().int().min(0).max(65535), host: z.string().default('127.0.0.1') }).strict().optional(),
}).strict().superRefine((c, ctx) => {
  if (c.source.type === 'kafka') {
    c.routes.forEach((r, i) => { if (!r.topic) ctx.addIssue({ code: 'custom', path: ['routes', i, 'topic'], message: 'a Kafka route needs a topic' }); });
  } else if (c.routes.length !== 1) {
    ctx.addIssue({ code: 'custom', path: ['routes'], message: 'an ndjson source feeds exactly one route' });
  }
  c.routes.forEach((r, i) => {
    if (!r.wap) return;
    if (r.branch !== 'main') ctx.addIssue({ code: 'custom', path: ['routes', i, 'branch'], message: 'a wap route publishes to main: leave branch out (the batches are staged on wap.branch)' });
    if (r.wap.branch === 'main') ctx.addIssue({ code: 'custom', path: ['routes', i, 'wap', 'branch'], message: `the audit branch cannot be '${r.wap.branch}': name a branch of its own, e.g. audit` });
    else {
      // The rules of `floe branch create`: no quarantine/ prefix, no blank edges or control characters.
      try { validateNewRefName(r.wap.branch, 'branch'); } catch (e) { ctx.addIssue({ code: 'custom', path: ['routes', i, 'wap', 'branch'], message: (e as Error).message }); }
    }
    if (r.wap.checks === undefined && r.wap.publish !== 'manual') ctx.addIssue({ code: 'custom', path: ['routes', i, 'wap', 'checks'], message: 'required unless publish is manual: the check file each batch is audited with' });
  });
  c.routes.forEach((r, i) => {
    if (!r.upsert) return;
    if (r.evolveSchema) {
      // Evolution reads a record's top-level fields as columns; an upsert record is a change
      // (a Debezium envelope, or a row plus its op/order fields), so it would add those as columns.
      ctx.addIssue({ code: 'custom', path: ['routes', i, 'evolveSchema'], message: 'evolveSchema cannot be combined with upsert yet: evolution would take the change envelope\'s fields (op, before/after, source) for columns; evolve the table with `floe table` and keep evolveSchema off' });
    }
    if (r.upsert.format === 'debezium' && r.upsert.opField !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['routes', i, 'upsert', 'opField'], message: 'opField applies to the plain format only: Debezium events carry their own op' });
    }
    if (r.upsert.format === 'debezium' && r.capture) {
      ctx.addIssue({ code: 'custom', path: ['routes', i, 'capture'], message: 'capture is not supported with Debezium upserts: the row written is the event\'s after image, which Kafka metadata cannot be added to' });
    }
  });
  if (c.source.type === 'kafka' && c.source.fetchMinBytes > c.source.fetchMaxBytes) {
    ctx.addIssue({ code: 'custom', path: ['source', 'fetchMinBytes'], message: `must not exceed fetchMaxBytes (${c.source.fetchMaxBytes}): a fetch could never be satisfied before fetchMaxWaitMs` });
  }
  const a = c.batch.adaptive;
  if (a && (a.minWindowMs > c.batch.windowMs || a.maxWindowMs < c.batch.windowMs)) {
    ctx.addIssue({ code: 'custom', path: ['batch', 'adaptive'], message: 'minWindowMs ≤ windowMs ≤ maxWindowMs must hold' });
  }
});

/**
 * A validated ingest pipeline config, defaults applied: the `source` (Kafka brokers, group and
 * fetch settings, or an NDJSON file), the `routes` (topic → table, branch, `upsert`, `wap`,
 * `evolveSchema`, `capture`), `batch` (windowMs, maxRecords, maxBytes…), `deadLetter` and
 * `metrics`. The same shape as `floe ingest --config` files. Get one from
 * {@link ingestConfigFrom}, {@link loadIngestConfig} or {@link parseIngestConfig}.
 */
export type IngestConfig = z.infer<typeof ingestConfigSchema>;

/** What {@link ingestConfigFrom} takes: an {@link IngestConfig} whose defaulted settings may be left out. */
export type IngestConfigInput = z.input<typeof ingestConfigSchema>;

/**
 * Validates a config object and applies the defaults. A relative `wap.checks` path is resolved
 * against the directory of `file` (for messages only otherwise).
 *
 * @throws {@link floe!ValidationError} naming the file and the key path of the first problem.
 * @example
 * ```ts
 * const cfg = ingestConfigFrom({
 *   source: { type: 'kafka', brokers: ['localhost:9092'], groupId: 'orders-sink' },
 *   routes: [{ topic: 'orders', table: 'shop.orders' }],
 *   batch: { windowMs: 5_000, maxRecords: 50_000, maxBytes: 64 * 1024 * 1024 },
 * });
 * ```
 */
export function ingestConfigFrom(value: IngestConfigInput, file = 'config'): IngestConfig {
  return validatedConfig(value, file);
}

function validatedConfig(raw: unknown, file: string): IngestConfig {
  const parsed = ingestConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ValidationError(`config ${file}: ${formatZodIssue(parsed.error)}`);
  // A check file is found next to the config, wherever the pipeline is started from.
  for (const r of parsed.data.routes) if (r.wap?.checks !== undefined) r.wap.checks = path.resolve(path.dirname(file), r.wap.checks);
  return parsed.data;
}

/** Parses a YAML (or, for a `.json` file name, JSON) config text; `file` names it in messages.
 * @throws {@link floe!ValidationError} for bad syntax or a bad setting, naming the key path. */
export function parseIngestConfig(text: string, file: string): IngestConfig {
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ValidationError(`config ${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'} (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
  }
  return validatedConfig(raw, file);
}

/** Reads and validates a YAML or JSON config file (what `floe ingest --config FILE` reads).
 * @throws {@link floe!ValidationError} when it cannot be read or is invalid. */
export function loadIngestConfig(file: string): IngestConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ValidationError(`cannot read config ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseIngestConfig(text, file);
}
