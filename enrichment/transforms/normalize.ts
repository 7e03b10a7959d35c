import { mapChannelFields } from "./channels/index.ts";
import { PROTOCOL_NUMBERS } from "./channels/tables.ts";
import { splitHashes } from "./hashes.ts";
import { reject } from "./rejection.ts";
import { describe, type EventView } from "./shape.ts";

/**
 * The enriched event document (HELK/OSSEM-style names). Every field the mapping below does not name stays
 * in `event_data` (stringified, under its Windows name) or `envelope` (shipper fields as received).
 */
export interface EventDocument {
  "@timestamp": string;
  /** The shipper's time, beside an event time taken from the event itself (Sysmon `UtcTime`). */
  shipper_timestamp?: string;
  /** Event time minus shipper time, in seconds (when both are known): how far off the host's clock is. */
  clock_skew_seconds?: number;
  /** `clock_skew_seconds` is beyond the service's threshold. */
  clock_skewed?: boolean;
  event_id: number;
  channel: string;
  host_name: string;
  record_number?: number;
  source_shape: string;
  process_guid?: string;
  process_id?: number;
  process_name?: string;
  process_path?: string;
  command_line?: string;
  parent_process_guid?: string;
  parent_process_id?: number;
  parent_process_name?: string;
  parent_process_path?: string;
  parent_command_line?: string;
  user_name?: string;
  hash_sha1?: string;
  hash_md5?: string;
  hash_sha256?: string;
  hash_imphash?: string;
  src_ip?: string;
  src_port?: number;
  src_hostname?: string;
  dst_ip?: string;
  dst_port?: number;
  dst_hostname?: string;
  network_protocol?: string;
  network_initiated?: boolean;
  rule_name?: string;
  message?: string;
  /** What happened, per channel and event id (`channels/`): `process_create`, `logon_failed`, ... */
  action?: string;
  /** Community ID v1 of the flow, on events with both addresses and a protocol (`network.ts`). */
  community_id?: string;
  /** `host_name|process_guid` on process-create and network-connection events: what the join matches on. */
  join_key?: string;
  /** On joined documents: the process-create event's time (`@timestamp` is the connection's). */
  process_timestamp?: string;
  event_data: Record<string, string>;
  envelope: Record<string, unknown>;
  [field: string]: unknown;
}

/** String fields: schema name ← Windows field names, first present wins. */
export const STRING_FIELDS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["process_guid", ["ProcessGuid"]],
  ["process_path", ["Image", "NewProcessName", "ProcessName", "Application"]],
  ["command_line", ["CommandLine"]],
  ["parent_process_guid", ["ParentProcessGuid"]],
  ["parent_process_path", ["ParentImage", "ParentProcessName"]],
  ["parent_command_line", ["ParentCommandLine"]],
  ["user_name", ["User", "SubjectUserName", "UserName"]],
  ["src_ip", ["SourceIp", "SourceAddress"]],
  ["src_hostname", ["SourceHostname"]],
  ["dst_ip", ["DestinationIp", "DestAddress"]],
  ["dst_hostname", ["DestinationHostname"]],
  ["rule_name", ["RuleName"]],
];

/** Integer fields (decimal, or `0x` hex as Security events write process ids). */
export const INTEGER_FIELDS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["process_id", ["ProcessId", "NewProcessId"]],
  ["parent_process_id", ["ParentProcessId"]],
  ["src_port", ["SourcePort"]],
  ["dst_port", ["DestinationPort", "DestPort"]],
];

/** Every Windows event-data field the generic mapping reads. */
export const GENERIC_WINDOWS_FIELDS: readonly string[] = [
  ...[...STRING_FIELDS, ...INTEGER_FIELDS].flatMap(([, sources]) => sources),
  "Protocol", "Initiated", "Hashes", "Hash", "UtcTime",
];

const UTC_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)Z?$/;

/**
 * Normalizes one event: the fields every channel shares (below), then the channel's own per-event-id fields
 * and `action` name (`channels/`). `fallbackTime` (ms) dates an event that carries no time of its own (the Kafka
 * message time). Throws {@link EventRejected} when a mapped field has a type it cannot have.
 */
export function normalize(view: EventView, channel: string, fallbackTime: number): EventDocument {
  const data = view.data;
  const doc: EventDocument = {
    "@timestamp": eventTimestamp(view, fallbackTime),
    event_id: view.eventId,
    channel,
    host_name: view.host.toLowerCase(),
    source_shape: view.shape,
    event_data: stringifyData(data),
    envelope: view.envelope,
  };
  recordShipperTime(doc, view);
  if (view.recordNumber !== undefined) doc.record_number = view.recordNumber;
  if (view.message !== undefined) doc.message = view.message;

  for (const [name, sources] of STRING_FIELDS) {
    const value = firstString(data, sources);
    if (value !== undefined) doc[name] = value;
  }
  for (const [name, sources] of INTEGER_FIELDS) {
    const value = firstInteger(data, sources);
    if (value !== undefined) doc[name] = value;
  }
  if (doc.process_path !== undefined) doc.process_name = baseName(doc.process_path);
  if (doc.parent_process_path !== undefined) doc.parent_process_name = baseName(doc.parent_process_path);

  const protocol = firstString(data, ["Protocol"]);
  if (protocol !== undefined) doc.network_protocol = (PROTOCOL_NUMBERS.describe(protocol) as string | undefined) ?? protocol.toLowerCase();
  const initiated = firstString(data, ["Initiated"]);
  if (initiated !== undefined) doc.network_initiated = initiated.toLowerCase() === "true";

  const hashes = firstString(data, ["Hashes", "Hash"]);
  if (hashes !== undefined) Object.assign(doc, splitHashes(hashes));
  mapChannelFields(doc, data);
  return doc;
}

/** The event's own time as it wrote it: Sysmon's `UtcTime` (none when absent, null or `-`). */
function ownTime(view: EventView): unknown {
  const utcTime = view.data.UtcTime;
  return utcTime === null || utcTime === "-" ? undefined : utcTime;
}

/** `UtcTime` (Sysmon, UTC without zone) when present, else the shipper's `@timestamp`, else `fallbackTime`. */
function eventTimestamp(view: EventView, fallbackTime: number): string {
  const utcTime = ownTime(view);
  if (utcTime !== undefined) {
    return isoTime(utcTime) ?? reject(`UtcTime must be a time "YYYY-MM-DD hh:mm:ss.sss", got ${describe(utcTime)}`);
  }
  const shipper = view.shipperTimestamp;
  if (shipper !== undefined && shipper !== null) return isoTime(shipper) ?? reject(`@timestamp must be an ISO time, got ${describe(shipper)}`);
  return new Date(fallbackTime).toISOString();
}

/**
 * Beside an event time of the event's own (`UtcTime`), the shipper's time and their distance: a host whose
 * clock is off still files its events by their own time, and hunters find it by these. Nothing is added when
 * the event time is the shipper's time, or the shipper's time is not a time.
 */
function recordShipperTime(doc: EventDocument, view: EventView): void {
  if (ownTime(view) === undefined) return;
  const shipper = isoTime(view.shipperTimestamp);
  if (shipper === undefined) return;
  doc.shipper_timestamp = shipper;
  doc.clock_skew_seconds = isoDifferenceMs(doc["@timestamp"], shipper) / 1000;
}

/** `a - b` in ms for two canonical ISO times: on one day (nearly always) from the times of day, without parsing dates. */
function isoDifferenceMs(a: string, b: string): number {
  for (let i = 0; i < 10; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return Date.parse(a) - Date.parse(b);
  return timeOfDayMs(a) - timeOfDayMs(b);
}

/** Milliseconds since midnight of a canonical ISO time (`YYYY-MM-DDThh:mm:ss.sssZ`). */
function timeOfDayMs(iso: string): number {
  return ((decimalAt(iso, 11, 2) * 60 + decimalAt(iso, 14, 2)) * 60 + decimalAt(iso, 17, 2)) * 1000 + decimalAt(iso, 20, 3);
}

/** The number written by the `count` digits of `text` at `at`. */
function decimalAt(text: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) n = n * 10 + text.charCodeAt(i) - 48;
  return n;
}

/** Already canonical (`2020-06-10T02:50:55.662Z`): taken as it is, the common case, without a Date round trip. */
const CANONICAL_TIME = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** A time as a canonical ISO string; Windows times without a zone ("2020-10-19 03:30:46.330") are UTC. */
function isoTime(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  if (CANONICAL_TIME.test(value)) return value;
  const zoneless = UTC_TIME.exec(value);
  const text = zoneless ? `${zoneless[1]}T${zoneless[2]}Z` : value;
  if (CANONICAL_TIME.test(text)) return text;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** A mapped field's value: absent, empty and Sysmon's `-` count as not there. */
function firstString(data: Record<string, unknown>, sources: readonly string[]): string | undefined {
  for (const source of sources) {
    const v = data[source];
    if (v === undefined || v === null || v === "" || v === "-") continue;
    if (typeof v === "string") return v;
    if (typeof v === "number") return String(v);
    reject(`${source} must be a string, got ${describe(v)}`);
  }
  return undefined;
}

function firstInteger(data: Record<string, unknown>, sources: readonly string[]): number | undefined {
  for (const source of sources) {
    const v = data[source];
    if (v === undefined || v === null || v === "" || v === "-") continue;
    const n = typeof v === "number" ? v : typeof v === "string" ? parseInteger(v) : NaN;
    if (!Number.isSafeInteger(n) || n < 0) reject(`${source} must be a non-negative integer, got ${describe(v)}`);
    return n;
  }
  return undefined;
}

function parseInteger(s: string): number {
  if (/^\d+$/.test(s)) return Number(s);
  if (/^0x[0-9a-f]+$/i.test(s)) return Number.parseInt(s.slice(2), 16);
  return NaN;
}

/** `C:\Windows\System32\cmd.exe` → `cmd.exe` (also `/` separated paths). */
function baseName(path: string): string {
  const cut = Math.max(path.lastIndexOf("\\"), path.lastIndexOf("/"));
  return cut === -1 ? path : path.slice(cut + 1);
}

/**
 * Event data as strings (Windows event data is text; shippers turn some into numbers): one type per field
 * name in the index, whatever the source, so no shape can cause a mapping conflict. Nulls are dropped,
 * objects and arrays kept as JSON text, dots in names become `_`.
 */
function stringifyData(data: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in data) {
    const v = data[key];
    if (v === undefined || v === null) continue;
    // A dot would make the engine read the name as an object path (and clash with a plain field).
    out[key.includes(".") ? key.replaceAll(".", "_") : key] =
      typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
  }
  return out;
}
