import type { EventDocument } from "./normalize.ts";

/** Sysmon event ids the join reads. */
export const SYSMON_CHANNEL = "Microsoft-Windows-Sysmon/Operational";
export const PROCESS_CREATE = 1;
export const NETWORK_CONNECT = 3;

export interface JoinOptions {
  /** Process contexts kept at most; the least recently used go first. */
  maxEntries: number;
  /** Estimated bytes ({@link approximateBytes}) of the cached process contexts at most; the least recently used go first. */
  maxBytes: number;
  /**
   * A process the service has not seen for this long (ms of the service's clock, since it came in or last joined
   * a connection) is evicted. Sysmon's own times play no part: a host's clock may jump days between a process
   * and its connections, and a `ProcessGuid` names one process on its host whatever the times say.
   */
  maxAgeMs: number;
  /** How long (wall-clock ms) a connection that arrived before its process waits for it. */
  waitMs: number;
  /** Connections waiting at most; beyond, a new one is given up at once (reported as overflow). */
  maxWaiting: number;
  /** Estimated bytes of the waiting connections (their documents and what the caller keeps with them) at most; beyond, as `maxWaiting`. */
  maxWaitingBytes: number;
}

/** Per-object and per-value overhead in {@link approximateBytes}: V8's headers, property slots and pointers. */
const OBJECT_BYTES = 32;
const SLOT_BYTES = 16;

/**
 * Estimated heap bytes of a JSON-like value: string lengths (one byte per character, as V8 stores Latin-1; two
 * above it), numbers and booleans as one slot, plus a header per object or array and a slot per entry. An
 * estimate, meant to bound a cache in bytes rather than entries: cheap (no serialization) and never below the
 * text the value holds.
 */
export function approximateBytes(value: unknown): number {
  if (typeof value === "string") return SLOT_BYTES + stringBytes(value);
  if (value === null || typeof value !== "object") return SLOT_BYTES;
  let bytes = OBJECT_BYTES;
  if (Array.isArray(value)) {
    for (const item of value) bytes += approximateBytes(item);
    return bytes;
  }
  for (const key in value) bytes += stringBytes(key) + approximateBytes((value as Record<string, unknown>)[key]);
  return bytes;
}

function stringBytes(text: string): number {
  return /[^\u0000-\u00ff]/.test(text) ? 2 * text.length : text.length;
}

/** The process-create fields a joined document takes over. */
export type ProcessContext = Record<string, unknown>;

/** A network connection to be joined, with whatever the caller needs to place it (`tag`). */
export interface Connection<T> {
  doc: EventDocument;
  id: string;
  tag: T;
}

export interface Joined<T> extends Connection<T> {
  /** The joined document: the connection's fields, the process's `process_*`, `parent_*`, `command_line`, `hash_*`. */
  joined: EventDocument;
}

interface Waiting<T> extends Connection<T> {
  deadline: number;
  bytes: number;
}

interface CachedProcess {
  context: ProcessContext;
  bytes: number;
  /** When the service last saw the process (its event came in, or it joined a connection). */
  seenMs: number;
}

export type ConnectOutcome<T> =
  | { kind: "joined"; joined: Joined<T> }
  | { kind: "waiting" }
  | { kind: "overflow"; connection: Connection<T> };

/** `host|process guid`, lower-cased: the key both sides of the join share. */
export function joinKey(doc: EventDocument): string | undefined {
  return doc.process_guid === undefined ? undefined : `${doc.host_name}|${doc.process_guid.toLowerCase()}`;
}

/** Whether a field of a process-create event is process context for the joined document. */
function isProcessField(name: string): boolean {
  return name.startsWith("process_") || name.startsWith("parent_") || name.startsWith("hash_") || name === "command_line";
}

/** The process's fields for joined documents, with its event time as `process_timestamp`. */
export function processContext(doc: EventDocument): ProcessContext {
  const context: ProcessContext = {};
  for (const name in doc) if (isProcessField(name)) context[name] = doc[name];
  context.process_timestamp = doc["@timestamp"];
  return context;
}

/** The joined document for a connection and the context of its process. */
export function joinDocument(connection: EventDocument, context: ProcessContext, key: string): EventDocument {
  return { ...connection, ...context, join_key: key };
}

/**
 * Sysmon process creation (1) joined with network connection (3) on host and process GUID, in real time,
 * whatever the two events' own times. Process contexts live in a bounded cache (entry count and estimated bytes
 * capped, and age by the service's clock; least recently used evicted first); a connection whose process is not
 * there yet waits up to `waitMs`, while the waiting ones stay under their own count and byte caps. The caller gets what waited in vain from {@link expire} and decides what to do with it.
 */
export class ProcessNetworkJoin<T> {
  private readonly processes = new Map<string, CachedProcess>();
  private readonly waiting = new Map<string, Waiting<T>[]>();
  private waitingTotal = 0;
  private cachedBytes = 0;
  private waitingBytesTotal = 0;
  private newestSeenMs = -Infinity;
  evicted = 0;

  constructor(private readonly options: JoinOptions) {}

  get size(): number {
    return this.processes.size;
  }

  get waitingCount(): number {
    return this.waitingTotal;
  }

  /** Estimated bytes of the cached process contexts. */
  get bytes(): number {
    return this.cachedBytes;
  }

  /** Estimated bytes of the waiting connections. */
  get waitingBytes(): number {
    return this.waitingBytesTotal;
  }

  /** Caches a process seen at `nowMs` (service clock); returns the waiting connections it completes. */
  addProcess(doc: EventDocument, key: string, nowMs: number): Joined<T>[] {
    const context = processContext(doc);
    this.forget(key);
    const bytes = approximateBytes(context) + stringBytes(key) + OBJECT_BYTES;
    this.processes.set(key, { context, bytes, seenMs: nowMs });
    this.cachedBytes += bytes;
    if (nowMs > this.newestSeenMs) this.newestSeenMs = nowMs;
    this.evict();

    const waiters = this.waiting.get(key);
    if (waiters === undefined) return [];
    this.waiting.delete(key);
    this.waitingTotal -= waiters.length;
    for (const w of waiters) this.waitingBytesTotal -= w.bytes;
    return waiters.map((w) => ({ doc: w.doc, id: w.id, tag: w.tag, joined: joinDocument(w.doc, context, key) }));
  }

  /**
   * Joins a connection, or parks it to wait for its process. `keptBytes`: what the caller keeps beside a waiting
   * connection until it is settled (the service: a copy of the Kafka message), counted against `maxWaitingBytes`.
   */
  connect(connection: Connection<T>, key: string, now: number, keptBytes = 0): ConnectOutcome<T> {
    const cached = this.processes.get(key);
    if (cached !== undefined) {
      // Seen again: move to the young end of the eviction order.
      cached.seenMs = Math.max(cached.seenMs, now);
      this.processes.delete(key);
      this.processes.set(key, cached);
      return { kind: "joined", joined: { ...connection, joined: joinDocument(connection.doc, cached.context, key) } };
    }
    if (this.waitingTotal >= this.options.maxWaiting) return { kind: "overflow", connection };
    const bytes = approximateBytes(connection.doc) + keptBytes + OBJECT_BYTES;
    if (this.waitingBytesTotal + bytes > this.options.maxWaitingBytes) return { kind: "overflow", connection };
    const waiter: Waiting<T> = { ...connection, deadline: now + this.options.waitMs, bytes };
    const list = this.waiting.get(key);
    if (list === undefined) this.waiting.set(key, [waiter]);
    else list.push(waiter);
    this.waitingTotal++;
    this.waitingBytesTotal += bytes;
    return { kind: "waiting" };
  }

  /** Removes and returns the connections whose wait is over at `now`. */
  expire(now: number): Connection<T>[] {
    const expired: Connection<T>[] = [];
    for (const [key, list] of this.waiting) {
      const keep = list.filter((w) => w.deadline > now);
      if (keep.length === list.length) continue;
      for (const w of list) {
        if (w.deadline > now) continue;
        expired.push(w);
        this.waitingBytesTotal -= w.bytes;
      }
      this.waitingTotal -= list.length - keep.length;
      if (keep.length === 0) this.waiting.delete(key);
      else this.waiting.set(key, keep);
    }
    return expired;
  }

  /** Tags of connections still waiting (the service must not commit past their offsets). */
  *waitingTags(): Generator<T> {
    for (const list of this.waiting.values()) for (const w of list) yield w.tag;
  }

  private evict(): void {
    const { maxEntries, maxBytes, maxAgeMs } = this.options;
    const oldestAllowed = this.newestSeenMs - maxAgeMs;
    // Map order is the order in which processes were last seen: the oldest come first.
    for (const [key, entry] of this.processes) {
      if (this.processes.size <= maxEntries && this.cachedBytes <= maxBytes && entry.seenMs >= oldestAllowed) break;
      this.forget(key);
      this.evicted++;
    }
  }

  private forget(key: string): void {
    const entry = this.processes.get(key);
    if (entry === undefined) return;
    this.processes.delete(key);
    this.cachedBytes -= entry.bytes;
  }
}
