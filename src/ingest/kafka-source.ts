// Kafka → tables through kafkajs, exactly once. The table, not Kafka, is the source of truth
// for progress: on every partition assignment the consumer seeks to the offsets recorded in
// the target branch's history; messages below them are skipped; Kafka's committed offsets are
// advanced only after a table commit, for lag monitoring. At the buffer limit the topic is
// paused (kafkajs pause/resume) until the batch in flight commits.
import { Kafka, logLevel, type Consumer, type EachBatchPayload, type KafkaMessage, type LogEntry, type logCreator } from 'kafkajs';
import { InternalError } from '../errors.ts';
import { kafkaSourceId } from './source-offsets.ts';
import { decodeJsonPayload } from './payload-decoding.ts';
import type { SourceRecord, TableIngestor } from './table-ingestor.ts';

/** Columns that receive Kafka metadata (Kafka Connect's "record metadata" idea). */
export interface KafkaCapture {
  readonly key?: string | undefined;
  readonly topic?: string | undefined;
  readonly partition?: string | undefined;
  readonly offset?: string | undefined;
  readonly timestamp?: string | undefined;
  readonly headers?: string | undefined;
}

export interface KafkaRoute { readonly topic: string; readonly ingestor: TableIngestor; readonly capture?: KafkaCapture }

export interface KafkaSourceOptions {
  readonly brokers: readonly string[];
  readonly groupId: string;
  readonly clientId?: string;
  readonly routes: readonly KafkaRoute[];
  /** Where to start a partition that has no offsets in the table (default: earliest). */
  readonly fromBeginning?: boolean;
  /** session.timeout.ms (default 30 s; the broker's group.min/max.session.timeout.ms bound it). */
  readonly sessionTimeoutMs?: number;
  /** Fetch settings under Kafka's (Java client's) names; see DEFAULT_KAFKA_FETCH. */
  readonly fetch?: Partial<KafkaFetchSettings>;
  /** floe's logger; kafkajs's own warnings and errors come through it too (kafkaLogCreator). */
  readonly log?: KafkaLog;
  readonly onLag?: (topic: string, partition: number, lag: bigint) => void;
  /** The source failed (seeking a newly assigned partition to the table's offsets): stop it. */
  readonly onError?: (err: unknown) => void;
}

export type KafkaLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/**
 * Broker answers kafkajs logs as errors although it retries them and they are expected: a
 * fresh broker creates `__consumer_offsets` on the first group's FindCoordinator and answers
 * "coordinator not available" meanwhile, a restarted one is still loading it, a new topic
 * has no leader for a moment, and a join during a rebalance is told to rejoin. Printed as
 * ERROR they alarmed every new user on every fresh start (issue 13); they are debug lines.
 * Messages as kafkajs words them (src/protocol/error.js).
 */
const TRANSIENT_BROKER_ERRORS: ReadonlySet<string> = new Set([
  'The group coordinator is not available', // GROUP_COORDINATOR_NOT_AVAILABLE (15)
  'The coordinator is loading and hence can\'t process requests for this group', // GROUP_LOAD_IN_PROGRESS (14)
  'This is not the correct coordinator for this group', // NOT_COORDINATOR_FOR_GROUP (16)
  'There is no leader for this topic-partition as we are in the middle of a leadership election', // LEADER_NOT_AVAILABLE (5)
  'The group is rebalancing, so a rejoin is needed', // REBALANCE_IN_PROGRESS (27)
]);

/** Whether a kafkajs log entry is one of the retried, expected broker answers above. */
export function isTransientKafkaLog(entry: LogEntry): boolean {
  const { error } = entry.log as { error?: unknown };
  return entry.namespace === 'Connection' && typeof error === 'string' && TRANSIENT_BROKER_ERRORS.has(error);
}

/** The level floe logs a kafkajs entry at. A consumer that hit one of the transient answers
 * while joining its group "crashes" and is restarted by kafkajs (it restarts only on retriable
 * errors): a warning, not an error — it recovers by itself, but a broker that never gets there
 * stays visible. */
function floeLevel(entry: LogEntry): 'debug' | 'info' | 'warn' | 'error' {
  if (isTransientKafkaLog(entry)) return 'debug';
  if (entry.namespace === 'Consumer') {
    const m = /^Crash: KafkaJS\w+: (.*)$/.exec(entry.log.message);
    if ((m && TRANSIENT_BROKER_ERRORS.has(m[1]!)) || /^Restarting the consumer in \d+ms$/.test(entry.log.message)) return 'warn';
  }
  return entry.level === logLevel.ERROR ? 'error' : entry.level === logLevel.WARN ? 'warn' : entry.level === logLevel.INFO ? 'info' : 'debug';
}

/**
 * kafkajs logs through floe's logger (one JSON log stream, not kafkajs's own console lines):
 * its errors and warnings keep their level, the transient broker answers become debug lines
 * and a consumer restart after one a warning (without the stack).
 * Without a logger, warnings and real errors go to stderr as kafkajs would print them.
 */
export function kafkaLogCreator(log: KafkaLog | undefined): logCreator {
  const sink: KafkaLog = log ?? ((level, msg, fields) => {
    if (level === 'warn' || level === 'error') process.stderr.write(`${JSON.stringify({ level: level.toUpperCase(), logger: 'kafkajs', message: msg, ...fields })}\n`);
  });
  return () => (entry) => {
    const { message, timestamp: _t, logger: _l, stack, ...fields } = entry.log;
    const level = floeLevel(entry);
    sink(level, `kafkajs: ${message}`, { kafkajs: entry.namespace, ...fields, ...(level === 'error' && stack !== undefined ? { stack } : {}) });
  };
}

/** The consumer's fetch settings, named after the Java client's properties. */
export interface KafkaFetchSettings {
  /** fetch.max.wait.ms → kafkajs maxWaitTimeInMs. */
  readonly fetchMaxWaitMs: number;
  /** fetch.min.bytes → kafkajs minBytes. */
  readonly fetchMinBytes: number;
  /** fetch.max.bytes → kafkajs maxBytes. */
  readonly fetchMaxBytes: number;
  /** max.partition.fetch.bytes → kafkajs maxBytesPerPartition. */
  readonly maxPartitionFetchBytes: number;
}

/**
 * kafkajs's maxWaitTimeInMs defaults to 5 s, and kafkajs sleeps that long whenever every
 * partition is paused (floe's backpressure): the worker sat idle 77% of the time in 4–5 s gaps
 * (issue 12). 500 ms is the Java client's fetch.max.wait.ms default. 4 MiB per partition was
 * floe's setting before; 10 MiB per fetch is kafkajs's default.
 */
export const DEFAULT_KAFKA_FETCH: KafkaFetchSettings = {
  fetchMaxWaitMs: 500,
  fetchMinBytes: 1,
  fetchMaxBytes: 10 * 1024 * 1024,
  maxPartitionFetchBytes: 4 * 1024 * 1024,
};

/** The kafkajs consumer options for fetch settings. */
export function kafkajsFetchOptions(f: Partial<KafkaFetchSettings> = {}): { maxWaitTimeInMs: number; minBytes: number; maxBytes: number; maxBytesPerPartition: number } {
  const s = { ...DEFAULT_KAFKA_FETCH, ...f };
  return { maxWaitTimeInMs: s.fetchMaxWaitMs, minBytes: s.fetchMinBytes, maxBytes: s.fetchMaxBytes, maxBytesPerPartition: s.maxPartitionFetchBytes };
}


/** Kafka timestamps as ISO text, the last one remembered: messages of one fetch mostly share
 * their millisecond (~100 per ms at 100k msgs/s), and formatting each cost ~2% of ingest. */
let lastTimestampMs = Number.NaN;
let lastTimestampIso = '';
function isoTimestamp(ms: number): string {
  if (ms !== lastTimestampMs) { lastTimestampIso = new Date(ms).toISOString(); lastTimestampMs = ms; }
  return lastTimestampIso;
}

/**
 * One Kafka message as a source record: its value decoded as JSON (kept as sent: a Kafka Connect
 * `{ schema, payload }` wrapper reaches the merge whole), Kafka metadata captured into columns;
 * a null value is a tombstone.
 */
export function kafkaMessageRecord(sourceId: string, topic: string, partition: number, offset: bigint, m: Pick<KafkaMessage, 'key' | 'value' | 'timestamp' | 'headers'>, capture: KafkaCapture | undefined): SourceRecord {
  if (m.value === null) {
    // A tombstone (log compaction's delete marker): a Debezium upsert skips it, an append dead-letters it.
    return { value: null, raw: '', bytes: 64, position: { sourceId, partition, offset }, timestampMs: Number(m.timestamp), tombstone: true, decodeError: 'message value is null (a Kafka tombstone): no record to append' };
  }
  const decoded = decodeJsonPayload(m.value);
  // A payload that decoded keeps its bytes (off the JS heap; usually a view of the fetch
  // response) rather than its text: only a dead letter needs it again, and a second ~1 KB
  // string per record doubled what each batch held on the heap for the GC to copy and promote.
  const raw = decoded.decodeError === undefined ? m.value : decoded.text;
  const position = { sourceId, partition, offset };
  const timestampMs = Number(m.timestamp);
  const value = decoded.value;
  let decodeError = decoded.decodeError;
  if (decodeError === undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) decodeError = 'message value is not a JSON object';
  if (decodeError === undefined && capture) {
    const rec = value as Record<string, unknown>;
    if (capture.key) rec[capture.key] = m.key?.toString('utf8') ?? null;
    if (capture.topic) rec[capture.topic] = topic;
    if (capture.partition) rec[capture.partition] = partition;
    if (capture.offset) rec[capture.offset] = position.offset;
    if (capture.timestamp) rec[capture.timestamp] = isoTimestamp(timestampMs);
    if (capture.headers) {
      rec[capture.headers] = Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, v === undefined ? null : String(v)]));
    }
  }
  return { value, raw, bytes: m.value.length + 64, position, timestampMs, ...(decodeError !== undefined ? { decodeError } : {}) };
}

/**
 * The value kafkaMessageRecord decoded for a record, decoded again from its payload bytes (for
 * a TableIngestor's `revive`). Undefined when the route captures the message key or headers:
 * the record does not keep them, so such a route's batches keep their records whole.
 */
export function kafkaReviver(groupId: string, topic: string, capture: KafkaCapture | undefined): ((r: SourceRecord) => unknown) | undefined {
  if (capture?.key || capture?.headers) return undefined;
  const sourceId = kafkaSourceId(groupId, topic);
  return (r) => {
    if (typeof r.raw === 'string' || !r.position) throw new InternalError(`no payload bytes to decode again for a record of ${topic}`);
    return kafkaMessageRecord(sourceId, topic, r.position.partition, r.position.offset, { key: null, value: Buffer.from(r.raw.buffer, r.raw.byteOffset, r.raw.byteLength), timestamp: String(r.timestampMs ?? 0), headers: {} }, capture).value;
  };
}

export class KafkaSource {
  private readonly consumer: Consumer;
  private readonly byTopic = new Map<string, KafkaRoute>();
  /** Per topic/partition: offsets below this are already in the table. */
  private readonly floor = new Map<string, bigint>();
  private readonly paused = new Set<string>();
  /** Per topic: messages left to fetch after the last batch of each partition (its lag). A
   * partition that returned nothing is not behind: kafkajs does not hand over empty batches. */
  private readonly lagByTopic = new Map<string, Map<number, bigint>>();
  private failure: unknown;
  private stopping = false;

  constructor(private readonly opts: KafkaSourceOptions) {
    const kafka = new Kafka({ clientId: opts.clientId ?? 'floe', brokers: [...opts.brokers], logLevel: logLevel.WARN, logCreator: kafkaLogCreator(opts.log) });
    this.consumer = kafka.consumer({ groupId: opts.groupId, sessionTimeout: opts.sessionTimeoutMs ?? 30_000, rebalanceTimeout: 60_000, ...kafkajsFetchOptions(opts.fetch) });
    for (const r of opts.routes) this.byTopic.set(r.topic, r);
  }

  private readonly sourceIds = new Map<string, string>();
  /** The topic's source id, made once (each record's position refers to it). */
  private sourceId(topic: string): string {
    let id = this.sourceIds.get(topic);
    if (id === undefined) { id = kafkaSourceId(this.opts.groupId, topic); this.sourceIds.set(topic, id); }
    return id;
  }

  async start(): Promise<void> {
    const c = this.consumer;
    await c.connect();
    for (const r of this.opts.routes) await c.subscribe({ topic: r.topic, fromBeginning: this.opts.fromBeginning ?? true });
    c.on(c.events.GROUP_JOIN, (e) => {
      void this.seekToTable(e.payload.memberAssignment).catch((err: unknown) => this.fail(err));
    });
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (p) => this.eachBatch(p),
    });
  }

  /** Resumes each newly assigned partition from the offsets the table holds. */
  private async seekToTable(assignment: Record<string, number[]>): Promise<void> {
    for (const [topic, partitions] of Object.entries(assignment)) {
      const route = this.byTopic.get(topic);
      if (!route) continue;
      this.lagByTopic.delete(topic);
      const done = await route.ingestor.committedOffsets(this.sourceId(topic));
      for (const p of partitions) {
        const offset = done.get(p);
        if (offset === undefined) continue;
        this.floor.set(`${topic}/${p}`, offset);
        this.consumer.seek({ topic, partition: p, offset: offset.toString() });
      }
      this.opts.log?.('info', 'partitions assigned', { topic, partitions, tableOffsets: Object.fromEntries([...done].map(([k, v]) => [k, v.toString()])) });
    }
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const route = this.byTopic.get(batch.topic);
    if (!route) return;
    const key = `${batch.topic}/${batch.partition}`;
    const floor = this.floor.get(key) ?? -1n;
    let consumed: bigint | undefined;
    for (const m of batch.messages) {
      if (!isRunning() || isStale() || this.stopping) break;
      const offset = BigInt(m.offset);
      if (offset < floor) { resolveOffset(m.offset); consumed = offset; continue; }
      route.ingestor.offer(kafkaMessageRecord(this.sourceId(batch.topic), batch.topic, batch.partition, offset, m, route.capture));
      resolveOffset(m.offset);
      consumed = offset;
      if (route.ingestor.full) await this.roomOrTimeout(route.ingestor, heartbeat);
      if (route.ingestor.full) {
        // Backpressure: stop fetching this topic until the commit in flight frees memory.
        if (!this.paused.has(batch.topic)) {
          this.paused.add(batch.topic);
          this.consumer.pause([{ topic: batch.topic }]);
          void route.ingestor.drained().then(() => {
            this.paused.delete(batch.topic);
            if (!this.stopping) this.consumer.resume([{ topic: batch.topic }]);
          });
        }
        break;
      }
    }
    const hw = BigInt(batch.highWatermark);
    const last = batch.messages.at(-1);
    if (last) this.opts.onLag?.(batch.topic, batch.partition, hw - BigInt(last.offset) - 1n);
    // Caught up when no partition of the topic has messages left past what was consumed
    // (a batch cut short by backpressure or a stop leaves some): the open batch may then be
    // flushed before its window ends.
    const lags = this.lagByTopic.get(batch.topic) ?? new Map<number, bigint>();
    this.lagByTopic.set(batch.topic, lags);
    lags.set(batch.partition, consumed === undefined ? hw - BigInt(batch.firstOffset() ?? hw) : hw - consumed - 1n);
    if (!this.stopping) route.ingestor.setCaughtUp([...lags.values()].every((l) => l <= 0n));
    await heartbeat();
  }

  /**
   * Waits up to one fetch wait (`fetchMaxWaitMs`) for the batch in flight to free memory, before
   * the topic is paused: kafkajs, with every partition paused, sleeps a whole fetch wait before
   * it fetches again, however soon the topic is resumed — pauses that usually lasted a few
   * hundred milliseconds cost ~20% of the throughput of a backlog. A longer stall (a slow
   * commit) still pauses the topic, so the consumer keeps heartbeating and rebalancing.
   */
  private async roomOrTimeout(ingestor: TableIngestor, heartbeat: () => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const waitMs = this.opts.fetch?.fetchMaxWaitMs ?? DEFAULT_KAFKA_FETCH.fetchMaxWaitMs;
    await Promise.race([ingestor.drained(), new Promise<void>((resolve) => { timer = setTimeout(resolve, waitMs); })]);
    clearTimeout(timer);
    await heartbeat();
  }

  /** After a table commit: advance Kafka's committed offsets, for lag monitoring only. */
  async committed(topic: string, offsets: ReadonlyMap<number, { next: bigint }>): Promise<void> {
    for (const [p, r] of offsets) {
      const key = `${topic}/${p}`;
      if ((this.floor.get(key) ?? -1n) < r.next) this.floor.set(key, r.next);
    }
    try {
      await this.consumer.commitOffsets([...offsets].map(([partition, r]) => ({ topic, partition, offset: r.next.toString() })));
    } catch (err) {
      // A partition revoked meanwhile cannot be committed; the table already holds the truth.
      this.opts.log?.('warn', 'kafka offset commit skipped', { topic, error: err instanceof Error ? err.message : String(err) });
    }
  }

  private fail(err: unknown): void {
    const first = this.failure === undefined;
    this.failure ??= err;
    this.opts.log?.('error', 'kafka source failed', { error: err instanceof Error ? err.message : String(err) });
    if (first) this.opts.onError?.(err);
  }

  get error(): unknown { return this.failure; }

  /** After a failure: stops fetching and leaves the group without committing anything more
   * (the open batches are dropped; a restart resumes from the offsets the table holds). */
  async abort(): Promise<void> {
    this.stopping = true;
    await this.consumer.stop();
    await this.consumer.disconnect();
  }

  /** Stops fetching, flushes every table (reason `shutdown`) and leaves the group. */
  async stop(): Promise<void> {
    // No record is offered after this line (eachBatch checks it before every offer), so the
    // open batches can be committed at once — with reason `shutdown`, while the consumer is
    // still in the group and can advance Kafka's offsets; leaving the group takes seconds.
    this.stopping = true;
    try {
      for (const r of this.opts.routes) await r.ingestor.close();
    } finally {
      await this.consumer.stop();
      await this.consumer.disconnect();
    }
  }
}
