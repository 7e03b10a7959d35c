import { DEFAULT_ENRICHMENT_MEMORY } from "../../lib/contract/enrichment-env.ts";
import { attackContext, noAttackKnowledge, type TechniqueResolver } from "./attack.ts";
import { ChannelFilter, DEFAULT_KNOWN_CHANNELS } from "./channels.ts";
import { dailyIndex, documentId, EVENTS_INDEX_PREFIX, PROCESS_NETWORK_INDEX_PREFIX } from "./document-id.ts";
import {
  type Connection,
  type JoinOptions,
  joinKey,
  NETWORK_CONNECT,
  PROCESS_CREATE,
  ProcessNetworkJoin,
  SYSMON_CHANNEL,
} from "./join.ts";
import { addFingerprints } from "./fingerprint.ts";
import { parseRuleName } from "./kv.ts";
import { enrichNetwork, type GeoResolver } from "./network.ts";
import { type EventDocument, normalize } from "./normalize.ts";
import { EventRejected, reject } from "./rejection.ts";
import { type EventShape, type EventView, shapeOf, takenForReason, viewAs } from "./shape.ts";

export type { EventDocument } from "./normalize.ts";
export type { TechniqueContext, TechniqueResolver } from "./attack.ts";
export type { Connection, JoinOptions } from "./join.ts";
export type { GeoInfo, GeoResolver } from "./network.ts";
export { EventRejected } from "./rejection.ts";
export { DEFAULT_KNOWN_CHANNELS } from "./channels.ts";

/** One document to index: where, under which id. */
export interface IndexAction {
  index: string;
  id: string;
  doc: EventDocument;
}

export type EnrichOutcome =
  | {
      ok: true;
      /** The enriched event, for `helk-events-*`. */
      event: IndexAction;
      /** Joined process/network documents this event completed (for `helk-process-network-*`). */
      joined: IndexAction[];
      /** The event is a connection now waiting for its process. */
      waiting: boolean;
      /** The event is a connection given up at once because too many were waiting. */
      overflow?: Connection<unknown>;
    }
  | { ok: false; reason: string };

export interface EnricherOptions {
  /** ATT&CK knowledge (`AttackLookup` from `attack/lookup.ts`); without it every technique is "unknown". */
  attack?: TechniqueResolver;
  /** Accepted channels (patterns, see `channels.ts`); others are rejected. */
  knownChannels?: readonly string[];
  /** Larger messages are rejected. Default 1 MiB. */
  maxEventBytes?: number;
  join?: Partial<JoinOptions>;
  /**
   * An event whose own time (Sysmon `UtcTime`) is further than this from its shipper's time is flagged
   * `clock_skewed` (a host clock off, reset or tampered with). Default {@link DEFAULT_CLOCK_SKEW_THRESHOLD_SECONDS}.
   */
  clockSkewThresholdSeconds?: number;
  /** GeoIP/ASN of public addresses (`enrichment/geoip.ts` opens MaxMind databases); none by default. */
  geo?: GeoResolver;
}

/** The join's bounds; the byte budgets (estimates, join.ts `approximateBytes`) are the deploy side's defaults. */
export const DEFAULT_JOIN_OPTIONS: JoinOptions = {
  maxEntries: 30_000,
  maxBytes: DEFAULT_ENRICHMENT_MEMORY.joinCacheBytes,
  maxAgeMs: 24 * 3600_000,
  waitMs: 5_000,
  maxWaiting: 10_000,
  maxWaitingBytes: DEFAULT_ENRICHMENT_MEMORY.joinWaitingBytes,
};
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;
/** 10 minutes: above the shipping delays of the Security-Datasets' multi-host recordings (at most 150 s), below any time-zone offset. */
export const DEFAULT_CLOCK_SKEW_THRESHOLD_SECONDS = 600;

export interface EnrichContext<T> {
  /** Where the event came from, handed back with joined documents completed later. */
  tag: T;
  /** Time of the Kafka message (ms): dates an event without a time of its own. Default now. */
  receivedAt?: number;
  /** The service's clock (ms): join waits and the age of cached processes. Default now. */
  now?: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The transform chain: raw message → shape detection and normalization (with the channel's per-event
 * fields) → address classes, Community ID, GeoIP → fingerprints → RuleName kv → ATT&CK context →
 * process/network join. Pure apart from the join cache it owns: no I/O, safe to reuse anywhere events need
 * enriching (the service, the dashboards' sample indexing, tests, benchmarks).
 */
export class Enricher<T = undefined> {
  readonly join: ProcessNetworkJoin<T>;
  private readonly attack: TechniqueResolver;
  private readonly channels: ChannelFilter;
  private readonly maxEventBytes: number;
  private readonly clockSkewThresholdSeconds: number;
  private readonly geo: GeoResolver | undefined;

  constructor(options: EnricherOptions = {}) {
    this.attack = options.attack ?? noAttackKnowledge;
    this.channels = new ChannelFilter(options.knownChannels ?? DEFAULT_KNOWN_CHANNELS);
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.clockSkewThresholdSeconds = options.clockSkewThresholdSeconds ?? DEFAULT_CLOCK_SKEW_THRESHOLD_SECONDS;
    this.geo = options.geo;
    this.join = new ProcessNetworkJoin<T>({ ...DEFAULT_JOIN_OPTIONS, ...options.join });
  }

  /** Enriches one event: a Kafka message value (bytes), a JSON line, or an already parsed object. */
  enrich(raw: string | Uint8Array | object, context: EnrichContext<T>): EnrichOutcome {
    // One try for the whole chain (no closure per event): a rejection after shape detection names the shape.
    let shape: EventShape | undefined;
    try {
      const { parsed, text } = parse(raw, this.maxEventBytes);
      shape = shapeOf(parsed);
      return this.enrichView(viewAs(shape, parsed), text ?? (raw as Uint8Array), context);
    } catch (err) {
      if (err instanceof EventRejected) return { ok: false, reason: shape === undefined ? err.reason : takenForReason(shape, err.reason) };
      throw err;
    }
  }

  /** Connections whose wait for their process is over: the caller looks further or counts them unjoined. */
  expire(now = Date.now()): Connection<T>[] {
    return this.join.expire(now);
  }

  /** The chain after shape detection; `original` is the message as received (for document ids). */
  private enrichView(view: EventView, original: string | Uint8Array, context: EnrichContext<T>): EnrichOutcome {
    const channel = this.channels.canonical(view.channel) ?? reject(`unknown channel "${view.channel.slice(0, 100)}"`);
    const doc = normalize(view, channel, context.receivedAt ?? Date.now());
    if (doc.clock_skew_seconds !== undefined && Math.abs(doc.clock_skew_seconds) > this.clockSkewThresholdSeconds) doc.clock_skewed = true;
    enrichNetwork(doc, this.geo);
    addFingerprints(doc);

    if (doc.rule_name !== undefined) {
      const tags = parseRuleName(doc.rule_name);
      if (tags !== undefined) Object.assign(doc, tags);
      const attack = attackContext(this.attack, doc.mitre_technique_id);
      if (attack !== undefined) doc.attack = attack;
    }

    const event: IndexAction = {
      index: dailyIndex(EVENTS_INDEX_PREFIX, doc["@timestamp"]),
      id: documentId(doc, original),
      doc,
    };
    const result: EnrichOutcome & { ok: true } = { ok: true, event, joined: [], waiting: false };
    if (channel !== SYSMON_CHANNEL || (doc.event_id !== PROCESS_CREATE && doc.event_id !== NETWORK_CONNECT)) return result;
    const key = joinKey(doc);
    if (key === undefined) return result;
    doc.join_key = key;
    const now = context.now ?? Date.now();
    if (doc.event_id === PROCESS_CREATE) {
      result.joined = this.join.addProcess(doc, key, now).map(joinedAction);
      return result;
    }
    // The caller keeps the message's bytes beside a waiting connection (to dead-letter it if need be).
    const outcome = this.join.connect({ doc, id: event.id, tag: context.tag }, key, now, typeof original === "string" ? original.length : original.byteLength);
    if (outcome.kind === "joined") result.joined.push(joinedAction(outcome.joined));
    else if (outcome.kind === "waiting") result.waiting = true;
    else result.overflow = outcome.connection;
    return result;
  }
}

/** The process-network index action for a joined connection (same id as the connection event). */
export function joinedAction(joined: { id: string; joined: EventDocument }): IndexAction {
  // The process's command line arrived with the join: fingerprint it as on the process event.
  addFingerprints(joined.joined);
  return { index: dailyIndex(PROCESS_NETWORK_INDEX_PREFIX, joined.joined["@timestamp"]), id: joined.id, doc: joined.joined };
}

function parse(raw: string | Uint8Array | object, maxBytes: number): { parsed: unknown; text: string | undefined } {
  if (raw instanceof Uint8Array) {
    if (raw.byteLength > maxBytes) reject(`event of ${raw.byteLength} bytes exceeds the ${maxBytes}-byte limit`);
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      reject("message is not UTF-8 text (binary data)");
    }
    return { parsed: parseJson(text), text: undefined };
  }
  if (typeof raw === "string") {
    // UTF-16 length ≤ UTF-8 bytes: only long strings need the exact byte count.
    if (raw.length * 3 > maxBytes && Buffer.byteLength(raw) > maxBytes) reject(`event of ${Buffer.byteLength(raw)} bytes exceeds the ${maxBytes}-byte limit`);
    return { parsed: parseJson(raw), text: raw };
  }
  return { parsed: raw, text: JSON.stringify(raw) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    return reject(`not JSON: ${(err as Error).message.slice(0, 200)}`);
  }
}
