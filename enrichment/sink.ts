import type { Logger } from "pino";
import { type Engine, EngineError } from "../lib/engine.ts";
import type { Metrics } from "./metrics.ts";
import { isDiskBlock } from "./disk.ts";
import type { PipelineHealth } from "./health.ts";
import { pauseBeforeRetry, retrying, type RetryOptions } from "./retry.ts";
import type { IndexAction } from "./transforms/index.ts";

/** One document to index and what it came from (handed back if the engine rejects it). */
export interface SinkItem<S> {
  action: IndexAction;
  kind: "event" | "process_network";
  source: S;
}

/** A document the engine rejected for good, with the engine's reason and the document as sent. */
export interface SinkRejection<S> {
  source: S;
  kind: SinkItem<S>["kind"];
  document: unknown;
  status: number;
  reason: string;
}

export interface BulkSinkOptions {
  /** Documents per request at most. */
  maxDocs: number;
  /** Request body size at most (characters of NDJSON); also what waits unsent at most before `add` holds back. */
  maxBytes: number;
  /** Requests in flight at most. */
  maxInFlight: number;
  /** How long a request that is not full yet waits for more documents while a request slot is free (ms). */
  lingerMs: number;
  /** A document the engine keeps refusing (item 429/5xx, not a block) this long is handed back as rejected (ms). */
  giveUpMs: number;
  metrics: Metrics;
  log: Logger;
  retry: Omit<RetryOptions, "log">;
  health: PipelineHealth;
  /** The engine refuses writes because its disk passed the flood-stage watermark. */
  onDiskBlock: () => void;
}

/** The `_bulk` lines (action and document) that index one document. */
export function bulkLine(action: IndexAction): string {
  return `{"index":{"_index":"${action.index}","_id":"${action.id}"}}\n${JSON.stringify(action.doc)}\n`;
}

/** Documents of one `add` call: settled once each is indexed or rejected for good, failed if one is abandoned. */
interface Group<S> {
  remaining: number;
  rejected: SinkRejection<S>[];
  settle: (rejected: SinkRejection<S>[]) => void;
  fail: (err: unknown) => void;
}

/**
 * The documents of one `add` call, serialized into one string at once: the per-document lines die young, and
 * what waits for a request is one large string (never copied by the garbage collector), not thousands of small ones.
 */
interface Chunk<S> {
  text: string;
  /** Where each document's lines end in `text`. */
  ends: number[];
  sources: S[];
  kinds: SinkItem<S>["kind"][];
  group: Group<S>;
  /** Documents already taken into requests. */
  taken: number;
}

/** A request: its body, and where each document's lines are in it. */
interface Request<S> {
  body: string;
  docs: RequestDoc<S>[];
}

interface RequestDoc<S> {
  start: number;
  end: number;
  source: S;
  kind: SinkItem<S>["kind"];
  group: Group<S>;
  /** Since when the engine refuses this document for now (429/5xx items; a block does not count). */
  refusedSince?: number;
}

interface BulkItemResult {
  status: number;
  error?: { type?: string; reason?: string; caused_by?: { reason?: string } };
}

interface BulkResponse {
  items: Record<string, BulkItemResult>[];
}

/** Item statuses worth another try: the engine was busy or broken, the document was fine. */
const retryableStatus = (status: number) => status === 429 || status >= 500;

/**
 * Whole-request answers that no retry changes (400 Bad Request, 413 Request Entity Too Large): one of the
 * documents, or their sum, is what the engine refuses, so the request is split.
 */
export const refusesWholeRequest = (err: unknown): err is EngineError => err instanceof EngineError && (err.status === 400 || err.status === 413);

/** The halves of a request's documents (a request of one document cannot be split). */
export function halves<T>(docs: T[]): [T[], T[]] {
  const middle = Math.ceil(docs.length / 2);
  return [docs.slice(0, middle), docs.slice(middle)];
}

/**
 * Only what the sink reads of a bulk answer: the engine leaves out each item's index, id, version and shard
 * figures, which would otherwise be most of the answer and of the time spent parsing it.
 */
const BULK_ANSWER_FIELDS = "items.*.status,items.*.error";

/**
 * Bulk indexer that keeps the engine busy. Documents from any number of callers are packed into requests of at
 * most `maxDocs` documents and `maxBytes`, and up to `maxInFlight` requests are sent at once. A request leaves
 * when it is full, or when a slot is free and `lingerMs` passed without it filling: requests grow to the full
 * size while the engine is the bottleneck and stay small when it is idle. {@link add} holds its caller back while
 * a full request waits for a slot, so memory stays bounded (about `maxBytes` × (`maxInFlight` + 1)).
 *
 * Every failure has an end:
 * - a whole request refused for good (400, 413) is split in halves, down to the document the engine refuses,
 *   which is handed back with the engine's answer (and dead-lettered by the caller);
 * - a whole request that failed otherwise (no answer, 429/5xx, or a 401 until credentials are fixed) is retried
 *   with capped backoff and jitter, reported to the pipeline's health, which pauses consumption and shows the
 *   stall; it ends when the engine answers, or at shutdown;
 * - items the engine answered 429/5xx for are retried with backoff, and handed back once refused for `giveUpMs`;
 * - items refused by a write block are retried without giving up (a full disk must not lose events) while the
 *   service pauses consumption and {@link DiskGuard} waits for space;
 * - items the engine rejected for good (mapping conflicts, bad values) are handed back with the engine's reason.
 */
export class BulkSink<S> {
  private readonly chunks: Chunk<S>[] = [];
  /** Characters and documents queued, not yet taken into a request. */
  private queuedChars = 0;
  private queuedDocs = 0;
  private inFlight = 0;
  private linger: NodeJS.Timeout | undefined;
  /** `add` callers waiting for the queue to have room. */
  private roomWaiters: (() => void)[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly options: BulkSinkOptions,
  ) {}

  /**
   * Queues documents. Resolves once they are queued (after waiting while the queue is full), with the promise of
   * their outcome: the documents the engine rejected for good, once every one of them is settled; it fails when
   * their request was abandoned (retries given up while shutting down).
   */
  async add(items: SinkItem<S>[]): Promise<{ settled: Promise<SinkRejection<S>[]> }> {
    if (items.length === 0) return { settled: Promise.resolve([]) };
    let settle!: Group<S>["settle"];
    let fail!: Group<S>["fail"];
    const settled = new Promise<SinkRejection<S>[]>((resolve, reject) => ((settle = resolve), (fail = reject)));
    const lines = items.map((item) => bulkLine(item.action));
    const ends: number[] = [];
    let end = 0;
    for (const line of lines) ends.push((end += line.length));
    this.chunks.push({
      text: lines.join(""),
      ends,
      sources: items.map((item) => item.source),
      kinds: items.map((item) => item.kind),
      group: { remaining: items.length, rejected: [], settle, fail },
      taken: 0,
    });
    this.queuedChars += end;
    this.queuedDocs += items.length;
    this.pump();
    while (this.queuedChars >= this.options.maxBytes) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    return { settled };
  }

  /** Sends what is queued without waiting for the linger time (shutting down). */
  flush(): void {
    this.pump(true);
  }

  private pump(now = false): void {
    while (this.queuedDocs > 0 && this.inFlight < this.options.maxInFlight) {
      const full = this.queuedDocs >= this.options.maxDocs || this.queuedChars >= this.options.maxBytes;
      if (!now && !full) {
        this.linger ??= setTimeout(() => {
          this.linger = undefined;
          this.pump(true);
        }, this.options.lingerMs);
        return;
      }
      clearTimeout(this.linger);
      this.linger = undefined;
      this.send(this.takeRequest());
    }
  }

  /** The oldest queued documents, as many as one request takes. */
  private takeRequest(): Request<S> {
    const { maxDocs, maxBytes } = this.options;
    const pieces: string[] = [];
    const docs: Request<S>["docs"] = [];
    let chars = 0;
    while (this.chunks.length > 0) {
      const chunk = this.chunks[0]!;
      const from = chunk.taken === 0 ? 0 : chunk.ends[chunk.taken - 1]!;
      let i = chunk.taken;
      for (; i < chunk.ends.length && docs.length < maxDocs; i++) {
        const length = chunk.ends[i]! - (i === 0 ? 0 : chunk.ends[i - 1]!);
        if (docs.length > 0 && chars + length > maxBytes) break;
        docs.push({ start: chars, end: chars + length, source: chunk.sources[i]!, kind: chunk.kinds[i]!, group: chunk.group });
        chars += length;
      }
      if (i > chunk.taken) pieces.push(chunk.text.slice(from, chunk.ends[i - 1]));
      chunk.taken = i;
      if (i < chunk.ends.length) break;
      this.chunks.shift();
    }
    this.queuedChars -= chars;
    this.queuedDocs -= docs.length;
    for (const wake of this.roomWaiters.splice(0)) wake();
    return { body: pieces.join(""), docs };
  }

  private send(request: Request<S>): void {
    this.options.metrics.bulkInFlight.set(++this.inFlight);
    this.index(request)
      .catch((err: unknown) => {
        for (const group of new Set(request.docs.map((d) => d.group))) group.fail(err);
      })
      .finally(() => {
        this.options.metrics.bulkInFlight.set(--this.inFlight);
        this.pump();
      });
  }

  /** Indexes one request's documents, retrying until each is indexed or rejected for good. */
  private async index(request: Request<S>): Promise<void> {
    const { retry, log, metrics, health, giveUpMs } = this.options;
    let pending = request;
    for (let refusedRounds = 0; pending.docs.length > 0; ) {
      const { body, docs } = pending;
      let answer: BulkResponse;
      try {
        answer = await retrying(`bulk request of ${docs.length} documents`, () => this.post(body, docs.length), (err) => err instanceof EngineError && !refusesWholeRequest(err), {
          ...retry,
          log,
          onRetry: (reason) => {
            metrics.bulkRetries.inc();
            health.failed("engine", reason);
          },
        });
      } catch (err) {
        if (!refusesWholeRequest(err)) throw err;
        health.succeeded("engine");
        await this.split(pending, err);
        return;
      }
      health.succeeded("engine");
      const again: RequestDoc<S>[] = [];
      let events = 0;
      let joined = 0;
      let refusal: string | undefined;
      let blocked = false;
      const now = Date.now();
      answer.items.forEach((item, i) => {
        const doc = docs[i]!;
        const result = item.index ?? Object.values(item)[0]!;
        if (result.status < 300) {
          if (doc.kind === "event") events++;
          else joined++;
          this.settleOne(doc.group);
        } else if (result.error?.type === "cluster_block_exception") {
          // A write block (full disk, or set by hand) is lifted in time: nothing is given up meanwhile.
          blocked = true;
          if (isDiskBlock(result.error.type, result.error.reason)) this.options.onDiskBlock();
          refusal = itemReason(result);
          again.push({ ...doc, refusedSince: undefined });
        } else if (retryableStatus(result.status)) {
          refusal = itemReason(result);
          const refusedSince = doc.refusedSince ?? now;
          if (now - refusedSince < giveUpMs) again.push({ ...doc, refusedSince });
          else this.reject(doc, body, result.status, `engine kept refusing the document for ${Math.round((now - refusedSince) / 1000)} s; last answer: ${refusal}`);
        } else this.reject(doc, body, result.status, itemReason(result));
      });
      if (events > 0) metrics.indexed.inc({ kind: "event" }, events);
      if (joined > 0) metrics.indexed.inc({ kind: "process_network" }, joined);
      if (blocked) health.blocked("engine write block", refusal!);
      else health.unblocked("engine write block");
      if (again.length > 0) {
        metrics.bulkRetries.inc();
        if (!blocked) health.failed("engine items", refusal!);
        await pauseBeforeRetry(`indexing ${again.length} documents the engine refused for now`, new Error(refusal), ++refusedRounds, { ...retry, log });
      } else {
        health.succeeded("engine items");
        refusedRounds = 0;
      }
      pending = subset(body, again);
    }
  }

  /** A request the engine refused whole: its halves are indexed one after the other; a single document is rejected. */
  private async split(request: Request<S>, err: EngineError): Promise<void> {
    if (request.docs.length === 1) {
      this.reject(request.docs[0]!, request.body, err.status, `engine refused the request holding only this document (${request.body.length} characters): ${err.message}`);
      return;
    }
    this.options.log.warn({ documents: request.docs.length, characters: request.body.length, err: err.message }, "engine refused a bulk request whole; splitting it");
    for (const half of halves(request.docs)) await this.index(subset(request.body, half));
  }

  private reject(doc: RequestDoc<S>, body: string, status: number, reason: string): void {
    doc.group.rejected.push({ source: doc.source, kind: doc.kind, document: documentOf(body.slice(doc.start, doc.end)), status, reason });
    this.settleOne(doc.group);
  }

  private settleOne(group: Group<S>): void {
    if (--group.remaining === 0) group.settle(group.rejected);
  }

  private async post(body: string, documents: number): Promise<BulkResponse> {
    const end = this.options.metrics.bulkSeconds.startTimer();
    try {
      const res = await this.engine.request<BulkResponse>({ method: "POST", path: "/_bulk", bulk: body, query: { filter_path: BULK_ANSWER_FIELDS } });
      if (!Array.isArray(res.body?.items) || res.body.items.length !== documents) {
        throw new EngineError(`bulk answer has ${res.body?.items?.length ?? "no"} items for ${documents} documents`, 0);
      }
      return res.body;
    } finally {
      end();
    }
  }
}

/** A request of some of another request's documents. */
function subset<S>(body: string, docs: RequestDoc<S>[]): Request<S> {
  let chars = 0;
  const pieces = docs.map((d) => body.slice(d.start, d.end));
  return {
    body: pieces.join(""),
    docs: docs.map((d, i) => ({ ...d, start: chars, end: (chars += pieces[i]!.length) })),
  };
}

/** The document of a bulk line pair (the second line), for a dead letter. */
function documentOf(line: string): unknown {
  return JSON.parse(line.slice(line.indexOf("\n") + 1));
}

function itemReason(result: BulkItemResult): string {
  const e = result.error;
  if (!e) return `engine answered ${result.status}`;
  const cause = e.caused_by?.reason ? ` (caused by: ${e.caused_by.reason})` : "";
  return `engine rejected the document (${result.status} ${e.type ?? "error"}): ${e.reason ?? ""}${cause}`;
}
