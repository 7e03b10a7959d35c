import { type Admin, type Consumer, type EachBatchPayload, Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import type { Logger } from "pino";
import { toKafkaConfig } from "../lib/contract/kafka-env.ts";
import { type Engine, EngineError } from "../lib/engine.ts";
import type { EnrichmentConfig } from "./config.ts";
import { type DeadLetter, DeadLetterSink, type MessageRef } from "./dead-letter.ts";
import { DiskGuard } from "./disk.ts";
import { PipelineHealth } from "./health.ts";
import type { Metrics } from "./metrics.ts";
import { GaveUp, retrying } from "./retry.ts";
import { CommitTracker } from "./offsets.ts";
import { BulkSink, type SinkItem, type SinkRejection } from "./sink.ts";
import { installTemplates } from "./templates.ts";
import { EVENTS_INDEX_PREFIX, PROCESS_NETWORK_INDEX_PREFIX } from "./transforms/document-id.ts";
import { type Connection, Enricher, type EventDocument, joinedAction } from "./transforms/index.ts";
import { joinDocument, processContext, SYSMON_CHANNEL, PROCESS_CREATE } from "./transforms/join.ts";

/** How long a stopping service keeps trying to flush before it exits without committing (redelivery covers it). */
export const SHUTDOWN_GRACE_MS = 20_000;
/** How often waiting join connections are checked for expiry when no batch comes. */
const JOIN_TICK_MS = 500;
/** A bulk request not full yet waits this long for more documents while a request slot is free. */
const BULK_LINGER_MS = 20;

/**
 * The enrichment service: Kafka consumer → transform chain → bulk sink / dead-letter producer, overlapped: a
 * batch is transformed and queued for the sink, and the consumer fetches the next while several bulk requests
 * are in flight (see {@link BulkSink}).
 *
 * Every failure has an end (see {@link BulkSink} and {@link DeadLetterSink}); while writes fail, or the engine
 * blocks them (full disk), consumption pauses with the group membership kept, and `/readyz`, the metrics and the
 * log say why ({@link PipelineHealth}); it resumes by itself once writes go through again.
 *
 * Delivery is at-least-once: a partition's offset is committed only after every message before it is indexed
 * or dead-lettered, and never past a connection still waiting for its process (its joined document is not
 * written yet); see {@link CommitTracker}. Document ids come from the events, so a redelivered message
 * overwrites itself.
 */
export class EnrichmentService {
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly sink: BulkSink<MessageRef>;
  private readonly deadLetters: DeadLetterSink;
  private readonly offsets = new CommitTracker();
  /** Writes under way (bulk, dead letters, join look-ups), each releasing its hold on the offsets when done. */
  private readonly inFlight = new Set<Promise<void>>();
  /** The batch being handled, if any (a stopping service lets it finish). */
  private batchRunning: Promise<void> | undefined;
  /** The commit under way, and whether another is due after it. */
  private committing: Promise<void> | undefined;
  private commitAgain = false;
  private stopping = false;
  private stopDeadline = Infinity;
  private joinTimer: NodeJS.Timeout | undefined;
  private consumerRunning = false;
  private readonly health: PipelineHealth;
  private readonly disk: DiskGuard;
  /** Why consumption is paused now (empty: consuming); the stall that was logged last. */
  private pausedFor: string[] = [];
  private stallLogged = false;
  /** Cuts start-up's waits short on SIGTERM. */
  private readonly stopSignal = new AbortController();
  /**
   * Heartbeat of the latest batch, sent while writes wait for the engine: a batch held back by a full sink sends
   * none, and the group must not drop this member during a long outage.
   */
  private heartbeat: () => Promise<void> = async () => undefined;

  constructor(
    private readonly config: EnrichmentConfig,
    private readonly engine: Engine,
    private readonly enricher: Enricher<MessageRef>,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.kafka = new Kafka(toKafkaConfig(config.kafka, {
      clientId: "helk-enrichment",
      logLevel: logLevel.WARN,
      logCreator: () => ({ level, namespace, log }) => {
        const { message, ...rest } = log;
        this.log[level <= logLevel.ERROR ? "error" : "warn"]({ kafka: namespace, ...rest }, message);
      },
      retry: { retries: 10, maxRetryTime: 30_000 },
    }));
    this.consumer = this.kafka.consumer({ groupId: config.HELK_CONSUMER_GROUP, allowAutoTopicCreation: false, maxBytesPerPartition: 1024 * 1024, maxBytes: 4 * 1024 * 1024 });
    this.producer = this.kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    this.admin = this.kafka.admin();
    this.health = new PipelineHealth(config.HELK_STALL_AFTER_MS);
    this.disk = new DiskGuard(engine, {
      indices: [`${EVENTS_INDEX_PREFIX}*`, `${PROCESS_NETWORK_INDEX_PREFIX}*`],
      maxDelayMs: config.HELK_RETRY_MAX_MS,
      log,
      onReleased: () => this.health.unblocked("engine write block"),
      stopped: () => this.stopping,
    });
    const retry = {
      maxDelayMs: config.HELK_RETRY_MAX_MS,
      shouldGiveUp: () => this.stopping && Date.now() > this.stopDeadline,
      // Keeps the group membership through a long engine outage (the session would time out otherwise).
      onWait: () => this.heartbeat(),
    };
    this.sink = new BulkSink(engine, {
      maxDocs: config.HELK_BULK_MAX_DOCS,
      maxBytes: config.HELK_BULK_MAX_BYTES,
      maxInFlight: config.HELK_BULK_IN_FLIGHT,
      lingerMs: BULK_LINGER_MS,
      giveUpMs: config.HELK_RETRY_GIVE_UP_MS,
      metrics,
      log,
      retry,
      health: this.health,
      onDiskBlock: () => this.disk.blocked(),
    });
    this.deadLetters = new DeadLetterSink(this.producer, config.HELK_DEAD_LETTER_TOPIC, { metrics, log, retry, health: this.health });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const assigned = new Set(Object.entries(e.payload.memberAssignment).flatMap(([t, ps]) => ps.map((p) => `${t}:${p}`)));
      this.offsets.keepOnly(assigned);
      this.log.info({ assignment: e.payload.memberAssignment }, "joined consumer group");
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => this.log.error({ err: String(e.payload.error) }, "consumer crashed; kafkajs restarts it"));
  }

  async start(): Promise<void> {
    // Start-up waits for Kafka, the engine and the topics as long as it takes, and ends at once on SIGTERM.
    const retryForever = { maxDelayMs: this.config.HELK_RETRY_MAX_MS, log: this.log, shouldGiveUp: () => this.stopping, signal: this.stopSignal.signal };
    await retrying("installing index templates", () => installTemplates(this.engine), (e) => e instanceof EngineError && e.retryable, retryForever);
    await retrying("connecting to Kafka", async () => {
      await this.admin.connect();
      await this.producer.connect();
      await this.consumer.connect();
    }, () => true, retryForever);
    await this.deadLetters.readTopicLimit(this.admin);
    // The topics may not exist yet (the stack's topic job runs beside the service): wait for them.
    await retrying(
      `subscribing to ${this.config.HELK_INPUT_TOPICS.join(", ")}`,
      async () => {
        for (const topic of this.config.HELK_INPUT_TOPICS) await this.consumer.subscribe({ topic, fromBeginning: true });
      },
      () => true,
      retryForever,
    );
    if (this.stopping) throw new GaveUp("stopped during start-up");
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => {
        const handled = this.handleBatch(payload);
        this.batchRunning = handled.finally(() => (this.batchRunning = undefined));
        return handled;
      },
    });
    if (this.stopping) throw new GaveUp("stopped during start-up");
    this.consumerRunning = true;
    this.joinTimer = setInterval(() => this.onJoinTick(), JOIN_TICK_MS);
    this.log.info({ topics: this.config.HELK_INPUT_TOPICS, group: this.config.HELK_CONSUMER_GROUP, engine: this.engine.url }, "enrichment service consuming");
  }

  /**
   * SIGTERM: stop fetching, write what was taken (within the grace time), commit it, then leave the group.
   * Connections still waiting for their process are not committed: the next owner reads them again.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.stopDeadline = Date.now() + SHUTDOWN_GRACE_MS;
    this.stopSignal.abort(new GaveUp("stopped during start-up"));
    clearInterval(this.joinTimer);
    this.log.info({ writesInFlight: this.inFlight.size }, "stopping: writing what was taken");
    if (this.consumerRunning) this.consumer.pause(this.config.HELK_INPUT_TOPICS.map((topic) => ({ topic })));
    await this.batchRunning?.catch(() => undefined);
    this.sink.flush();
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    await this.committing;
    await this.commit().catch((err) => this.log.warn({ err: String(err) }, "last commit failed; the next owner reads those messages again"));
    await this.consumer.stop().catch((err) => this.log.warn({ err: String(err) }, "consumer stop"));
    await this.consumer.disconnect().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
    this.consumerRunning = false;
    this.log.info("stopped");
  }

  /** Kafka and the engine both answer, and the pipeline moves (for `/readyz`). */
  async readiness(): Promise<{ ready: boolean; kafka: string; engine: string; pipeline: string }> {
    const timeout = <T>(p: Promise<T>) => Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error("no answer in 2 s")), 2000))]);
    const kafka = this.consumerRunning
      ? await timeout(this.admin.describeCluster()).then(() => "ok", (e: Error) => `unreachable: ${e.message}`)
      : "not consuming yet";
    const engine = await timeout(this.engine.request({ method: "GET", path: "/" })).then(() => "ok", (e: Error) => `unreachable: ${e.message}`);
    const pipeline = this.pausedFor.length === 0 ? "ok" : `paused: ${this.pausedFor.join("; ")}`;
    return { ready: kafka === "ok" && engine === "ok" && pipeline === "ok" && !this.stopping, kafka, engine, pipeline };
  }

  /**
   * Transforms a batch and queues its documents (waiting only while the sink is full), then lets the consumer
   * fetch on; the partition's commit is held at the batch's first offset until its documents and dead letters
   * are written.
   */
  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (this.stopping) return;
    const { topic, partition } = batch;
    const items: SinkItem<MessageRef>[] = [];
    const letters: DeadLetter[] = [];
    const lookups: Connection<MessageRef>[] = [];
    let messages = 0;
    let joined = 0;
    let last: string | undefined;
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) break;
      const ref: MessageRef = { topic, partition, offset: message.offset, timestamp: message.timestamp, key: message.key, value: message.value };
      const outcome = this.enricher.enrich(message.value ?? Buffer.alloc(0), { tag: ref, receivedAt: Number(message.timestamp) });
      if (!outcome.ok) letters.push({ source: ref, stage: "parse", reason: outcome.reason });
      else {
        items.push({ action: outcome.event, kind: "event", source: ref });
        for (const j of outcome.joined) items.push({ action: j, kind: "process_network", source: ref });
        joined += outcome.joined.length;
        if (outcome.overflow) lookups.push(outcome.overflow as Connection<MessageRef>);
        // A waiting connection outlives the fetch: its own bytes, not a view holding the whole fetch response.
        if (outcome.waiting && message.value) ref.value = Buffer.from(message.value);
      }
      last = message.offset;
      messages++;
    }
    if (last === undefined) return;
    const first = batch.messages[0]!.offset;
    this.metrics.eventsIn.inc({ topic }, messages);
    this.metrics.joined.inc(joined);
    this.heartbeat = heartbeat;
    const release = this.offsets.hold([{ topic, partition, offset: first }]);
    this.offsets.take(topic, partition, last);
    resolveOffset(last);
    this.lookUp([...lookups, ...this.enricher.expire()]);
    const { settled } = await this.sink.add(items);
    this.track(settled.then((rejected) => this.deadLetters.send([...letters, ...rejected.map(indexLetter)])), release);
    this.metrics.consumerLag.set({ topic, partition }, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last) - 1n)));
    this.log.debug({ topic, partition, first, last, documents: items.length, deadLetters: letters.length }, "batch queued");
  }

  /** Timer: gauges; the pipeline's health; connections that waited in vain are looked up in the index; commits what the join freed. */
  private onJoinTick(): void {
    const { join } = this.enricher;
    this.metrics.cacheSize.set(join.size);
    this.metrics.cacheBytes.set(join.bytes);
    this.metrics.waiting.set(join.waitingCount);
    this.metrics.waitingBytes.set(join.waitingBytes);
    if (this.stopping) return;
    this.checkHealth();
    this.lookUp(this.enricher.expire());
    this.commitSoon();
  }

  /**
   * Pauses consumption while the pipeline is stalled or the engine blocks writes, and resumes it when that is
   * over; the stall goes to the metric and the log (once when it starts, once when it ends).
   */
  private checkHealth(): void {
    const { paused, stalled } = this.health.state(this.inFlight.size > 0);
    this.metrics.stalled.set(stalled.length > 0 ? 1 : 0);
    this.metrics.paused.set(paused.length > 0 ? 1 : 0);
    if (stalled.length > 0 && !this.stallLogged) this.log.error({ reasons: stalled }, "pipeline stalled; consumption paused until writes go through");
    if (stalled.length === 0 && this.stallLogged) this.log.info("pipeline moving again");
    this.stallLogged = stalled.length > 0;
    const wasPaused = this.pausedFor.length > 0;
    this.pausedFor = paused;
    if (!this.consumerRunning || wasPaused === paused.length > 0) return;
    const topics = this.config.HELK_INPUT_TOPICS.map((topic) => ({ topic }));
    if (paused.length > 0) {
      this.log.warn({ reasons: paused }, "consumption paused");
      this.consumer.pause(topics);
    } else {
      this.log.info("consumption resumed");
      this.consumer.resume(topics);
    }
  }

  /** Looks connections up in the index and writes those joined; their offsets stay held until then. */
  private lookUp(connections: Connection<MessageRef>[]): void {
    if (connections.length === 0) return;
    const release = this.offsets.hold(connections.map((c) => c.tag));
    const written = this.joinFromIndex(connections)
      .then((items) => this.sink.add(items))
      .then(({ settled }) => settled)
      .then((rejected) => this.deadLetters.send(rejected.map(indexLetter)));
    this.track(written, release);
  }

  /** Keeps a write in flight until it is done, then releases its offsets and commits. A failed write (only when giving up at shutdown) keeps them held. */
  private track(write: Promise<void>, release: () => void): void {
    const done: Promise<void> = write.then(
      () => {
        release();
        this.health.progressed();
        this.commitSoon();
      },
      (err: unknown) => this.log.error({ err: String(err) }, "write abandoned; its messages stay uncommitted"),
    ).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  /**
   * Connections whose process is not in the cache (created before a restart, or handled by another replica):
   * their process-create events are in the index already (under any day: the index follows event time), found
   * by `join_key`.
   */
  private async joinFromIndex(connections: Connection<MessageRef>[]): Promise<SinkItem<MessageRef>[]> {
    const keys = [...new Set(connections.map((c) => c.doc.join_key!))];
    const lookedUp = await retrying(
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
      {
        maxDelayMs: this.config.HELK_RETRY_MAX_MS,
        log: this.log,
        shouldGiveUp: () => this.stopping && Date.now() > this.stopDeadline,
        onWait: () => this.heartbeat(),
        onRetry: (reason) => this.health.failed("index look-up", reason),
      },
    ).catch((err: unknown) => {
      // An answer no retry changes: these connections stay unjoined (their own events are indexed anyway).
      if (!(err instanceof EngineError)) throw err;
      this.log.error({ err: err.message, connections: connections.length }, "looking up processes in the index failed for good; the connections stay unjoined");
      return undefined;
    });
    this.health.succeeded("index look-up");
    const processes = new Map((lookedUp?.body.hits.hits ?? []).map((h) => [h._source.join_key!, h._source]));
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

  /** Commits soon: at once, or after the commit under way. */
  private commitSoon(): void {
    if (this.committing) {
      this.commitAgain = true;
      return;
    }
    this.committing = (async () => {
      do {
        this.commitAgain = false;
        await this.commit();
      } while (this.commitAgain);
    })()
      .catch((err) => this.log.warn({ err: String(err) }, "commit failed; the next one covers it"))
      .finally(() => (this.committing = undefined));
  }

  /** Commits each partition up to what is written, but not past a connection still waiting for its process. */
  private async commit(): Promise<void> {
    const due = this.offsets.due(this.enricher.join.waitingTags());
    if (due.length === 0 || !this.consumerRunning) return;
    await this.consumer.commitOffsets(due);
    this.offsets.done(due);
  }
}

/** The dead letter of a document the engine rejected (a joined document keeps the document itself). */
function indexLetter(rejection: SinkRejection<MessageRef>): DeadLetter {
  return { source: rejection.source, stage: "index", reason: rejection.reason, ...(rejection.kind === "process_network" ? { document: rejection.document } : {}) };
}
