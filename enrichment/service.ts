import { type Admin, type Consumer, type EachBatchPayload, Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import type { Logger } from "pino";
import { type Engine, EngineError } from "../lib/engine.ts";
import type { EnrichmentConfig } from "./config.ts";
import { type DeadLetter, DeadLetterSink, type MessageRef } from "./dead-letter.ts";
import type { Metrics } from "./metrics.ts";
import { retrying } from "./retry.ts";
import { BulkSink, type SinkItem } from "./sink.ts";
import { installTemplates } from "./templates.ts";
import { EVENTS_INDEX_PREFIX } from "./transforms/document-id.ts";
import { type Connection, Enricher, type EventDocument, joinedAction } from "./transforms/index.ts";
import { joinDocument, processContext, SYSMON_CHANNEL, PROCESS_CREATE } from "./transforms/join.ts";

/** How long a stopping service keeps trying to flush before it exits without committing (redelivery covers it). */
const SHUTDOWN_GRACE_MS = 20_000;
/** How often waiting join connections are checked for expiry when no batch comes. */
const JOIN_TICK_MS = 500;

/**
 * The enrichment service: Kafka consumer → transform chain → bulk sink / dead-letter producer.
 *
 * Delivery is at-least-once: a partition's offset is committed only after every message before it is indexed
 * or dead-lettered, and never past a connection still waiting for its process (its joined document is not
 * written yet). Document ids come from the events, so a redelivered message overwrites itself.
 */
export class EnrichmentService {
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly sink: BulkSink;
  private readonly deadLetters: DeadLetterSink;
  /** Serializes batches and the join timer: both index and commit. */
  private lock: Promise<void> = Promise.resolve();
  private stopping = false;
  private stopDeadline = Infinity;
  private joinTimer: NodeJS.Timeout | undefined;
  /** Highest processed offset + 1 per `topic:partition`, awaiting commit. */
  private readonly processedUpTo = new Map<string, { topic: string; partition: number; next: bigint }>();
  private consumerRunning = false;
  /**
   * Heartbeat of the latest batch, also used while the join timer waits for the engine: a batch waiting for the
   * lock sends none, and the group must not drop this member during a long outage.
   */
  private heartbeat: () => Promise<void> = async () => undefined;

  constructor(
    private readonly config: EnrichmentConfig,
    private readonly engine: Engine,
    private readonly enricher: Enricher<MessageRef>,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.kafka = new Kafka({
      clientId: "helk-enrichment",
      brokers: config.HELK_KAFKA_BROKERS,
      logLevel: logLevel.WARN,
      logCreator: () => ({ level, namespace, log }) => {
        const { message, ...rest } = log;
        this.log[level <= logLevel.ERROR ? "error" : "warn"]({ kafka: namespace, ...rest }, message);
      },
      retry: { retries: 10, maxRetryTime: 30_000 },
    });
    this.consumer = this.kafka.consumer({ groupId: config.HELK_CONSUMER_GROUP, allowAutoTopicCreation: false, maxBytesPerPartition: 1024 * 1024, maxBytes: 4 * 1024 * 1024 });
    this.producer = this.kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    this.admin = this.kafka.admin();
    const retry = {
      maxDelayMs: config.HELK_RETRY_MAX_MS,
      shouldGiveUp: () => this.stopping && Date.now() > this.stopDeadline,
      // Keeps the group membership through a long engine outage (the session would time out otherwise).
      onWait: () => this.heartbeat(),
    };
    this.sink = new BulkSink(engine, { maxDocs: config.HELK_BULK_MAX_DOCS, metrics, log, retry });
    this.deadLetters = new DeadLetterSink(this.producer, config.HELK_DEAD_LETTER_TOPIC, { metrics, log, retry });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const assigned = new Set(Object.entries(e.payload.memberAssignment).flatMap(([t, ps]) => ps.map((p) => `${t}:${p}`)));
      for (const key of this.processedUpTo.keys()) if (!assigned.has(key)) this.processedUpTo.delete(key);
      this.log.info({ assignment: e.payload.memberAssignment }, "joined consumer group");
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => this.log.error({ err: String(e.payload.error) }, "consumer crashed; kafkajs restarts it"));
  }

  async start(): Promise<void> {
    const retryForever = { maxDelayMs: this.config.HELK_RETRY_MAX_MS, log: this.log, shouldGiveUp: () => this.stopping };
    await retrying("installing index templates", () => installTemplates(this.engine), (e) => e instanceof EngineError && e.retryable, retryForever);
    await retrying("connecting to Kafka", async () => {
      await this.admin.connect();
      await this.producer.connect();
      await this.consumer.connect();
    }, () => true, retryForever);
    // The topics may not exist yet (the stack's topic job runs beside the service): wait for them.
    await retrying(
      `subscribing to ${this.config.HELK_INPUT_TOPICS.join(", ")}`,
      async () => {
        for (const topic of this.config.HELK_INPUT_TOPICS) await this.consumer.subscribe({ topic, fromBeginning: true });
      },
      () => true,
      retryForever,
    );
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.locked(() => this.handleBatch(payload)),
    });
    this.consumerRunning = true;
    this.joinTimer = setInterval(() => void this.locked(() => this.flushExpiredJoins()).catch((err) => this.log.error({ err: String(err) }, "join timer failed")), JOIN_TICK_MS);
    this.log.info({ topics: this.config.HELK_INPUT_TOPICS, group: this.config.HELK_CONSUMER_GROUP, engine: this.engine.url }, "enrichment service consuming");
  }

  /** SIGTERM: stop fetching, let the running batch flush and commit, then disconnect. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.stopDeadline = Date.now() + SHUTDOWN_GRACE_MS;
    clearInterval(this.joinTimer);
    this.log.info("stopping: finishing the current batch");
    await this.consumer.stop().catch((err) => this.log.warn({ err: String(err) }, "consumer stop"));
    await this.lock.catch(() => undefined);
    await this.consumer.disconnect().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
    this.consumerRunning = false;
    this.log.info("stopped");
  }

  /** Kafka and the engine both answer (for `/readyz`). */
  async readiness(): Promise<{ ready: boolean; kafka: string; engine: string }> {
    const timeout = <T>(p: Promise<T>) => Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error("no answer in 2 s")), 2000))]);
    const kafka = this.consumerRunning
      ? await timeout(this.admin.describeCluster()).then(() => "ok", (e: Error) => `unreachable: ${e.message}`)
      : "not consuming yet";
    const engine = await timeout(this.engine.request({ method: "GET", path: "/" })).then(() => "ok", (e: Error) => `unreachable: ${e.message}`);
    return { ready: kafka === "ok" && engine === "ok" && !this.stopping, kafka, engine };
  }

  private locked(task: () => Promise<void>): Promise<void> {
    const run = this.lock.then(task, task);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const started = Date.now();
    const items: SinkItem<MessageRef>[] = [];
    const letters: DeadLetter[] = [];
    const lookups: Connection<MessageRef>[] = [];
    const done: string[] = [];
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) break;
      const ref: MessageRef = { topic, partition, offset: message.offset, timestamp: message.timestamp, key: message.key, value: message.value };
      this.metrics.eventsIn.inc({ topic });
      const outcome = this.enricher.enrich(message.value ?? Buffer.alloc(0), { tag: ref, receivedAt: Number(message.timestamp) });
      if (!outcome.ok) letters.push({ source: ref, stage: "parse", reason: outcome.reason });
      else {
        items.push({ action: outcome.event, kind: "event", source: ref });
        for (const joined of outcome.joined) items.push({ action: joined, kind: "process_network", source: ref });
        this.metrics.joined.inc(outcome.joined.length);
        if (outcome.overflow) lookups.push(outcome.overflow as Connection<MessageRef>);
      }
      done.push(message.offset);
    }
    if (done.length === 0) return;
    lookups.push(...this.enricher.expire());
    this.heartbeat = heartbeat;
    await this.write(items, letters, lookups);
    for (const offset of done) resolveOffset(offset);
    this.processedUpTo.set(`${topic}:${partition}`, { topic, partition, next: BigInt(done[done.length - 1]!) + 1n });
    this.metrics.consumerLag.set({ topic, partition }, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(done[done.length - 1]!) - 1n)));
    await this.commit();
    await heartbeat().catch(() => undefined);
    this.log.debug({ topic, partition, messages: done.length, documents: items.length, deadLetters: letters.length, ms: Date.now() - started }, "batch written");
  }

  /** Timer: connections that waited in vain are looked up in the index, written, and their offsets freed. */
  private async flushExpiredJoins(): Promise<void> {
    this.metrics.cacheSize.set(this.enricher.join.size);
    this.metrics.waiting.set(this.enricher.join.waitingCount);
    if (this.stopping) return;
    const expired = this.enricher.expire();
    if (expired.length === 0) return;
    await this.write([], [], expired);
    await this.commit().catch((err) => this.log.warn({ err: String(err) }, "commit after join lookups failed; the next batch commits"));
  }

  /** Indexes, looks up what the join cache missed, dead-letters what was rejected. Throws only GaveUp (shutting down). */
  private async write(items: SinkItem<MessageRef>[], letters: DeadLetter[], lookups: Connection<MessageRef>[]): Promise<void> {
    if (lookups.length > 0) items.push(...(await this.joinFromIndex(lookups)));
    const rejected = await this.sink.index(items);
    for (const { item, reason } of rejected) {
      letters.push({ source: item.source, stage: "index", reason, ...(item.kind === "process_network" ? { document: item.action.doc } : {}) });
    }
    await this.deadLetters.send(letters);
  }

  /**
   * Connections whose process is not in the cache (created before a restart, or handled by another replica):
   * their process-create events are in the index already (under any day: the index follows event time), found
   * by `join_key`.
   */
  private async joinFromIndex(connections: Connection<MessageRef>[]): Promise<SinkItem<MessageRef>[]> {
    const keys = [...new Set(connections.map((c) => c.doc.join_key!))];
    const response = await retrying(
      `looking up ${keys.length} processes in the index`,
      () =>
        this.engine.request<{ hits: { hits: { _source: EventDocument }[] } }>({
          method: "POST",
          path: `/${EVENTS_INDEX_PREFIX}*/_search`,
          query: { ignore_unavailable: true, allow_no_indices: true },
          body: {
            size: keys.length,
            query: { bool: { filter: [{ term: { event_id: PROCESS_CREATE } }, { term: { channel: SYSMON_CHANNEL } }, { terms: { join_key: keys } }] } },
            _source: { excludes: ["event_data", "envelope", "message"] },
          },
        }),
      (e) => e instanceof EngineError && e.retryable,
      { maxDelayMs: this.config.HELK_RETRY_MAX_MS, log: this.log, shouldGiveUp: () => this.stopping && Date.now() > this.stopDeadline, onWait: () => this.heartbeat() },
    );
    const processes = new Map(response.body.hits.hits.map((h) => [h._source.join_key!, h._source]));
    const items: SinkItem<MessageRef>[] = [];
    for (const connection of connections) {
      const process = processes.get(connection.doc.join_key!);
      // Whatever its event time: a host's clock may have moved between the process and its connection.
      if (process === undefined) {
        this.metrics.unjoined.inc();
        continue;
      }
      const joined = joinDocument(connection.doc, processContext(process), connection.doc.join_key!);
      items.push({ action: joinedAction({ id: connection.id, joined }), kind: "process_network", source: connection.tag });
      this.metrics.joined.inc();
    }
    return items;
  }

  /** Commits each partition up to what is written, but not past a connection still waiting for its process. */
  private async commit(): Promise<void> {
    const lowestWaiting = new Map<string, bigint>();
    for (const ref of this.enricher.join.waitingTags()) {
      const key = `${ref.topic}:${ref.partition}`;
      const offset = BigInt(ref.offset);
      const current = lowestWaiting.get(key);
      if (current === undefined || offset < current) lowestWaiting.set(key, offset);
    }
    const offsets = [...this.processedUpTo.entries()].map(([key, p]) => {
      const waiting = lowestWaiting.get(key);
      return { topic: p.topic, partition: p.partition, offset: String(waiting !== undefined && waiting < p.next ? waiting : p.next) };
    });
    if (offsets.length === 0) return;
    await this.consumer.commitOffsets(offsets);
    // Fully committed partitions need no further commit until their next batch.
    for (const o of offsets) {
      const key = `${o.topic}:${o.partition}`;
      if (this.processedUpTo.get(key)?.next === BigInt(o.offset)) this.processedUpTo.delete(key);
    }
  }
}
