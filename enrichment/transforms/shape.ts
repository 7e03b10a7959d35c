import { reject } from "./rejection.ts";

/** The shipper formats the service reads, detected per message. */
export type EventShape = "winlogbeat7" | "winlogbeat6" | "nxlog";

/**
 * One event seen through its shape: where the envelope keeps channel, event id, host, record number and
 * time, and which fields are the Windows event data (Sysmon/Security names like `Image`, `ProcessGuid`).
 */
export interface EventView {
  shape: EventShape;
  channel: string;
  eventId: number;
  host: string;
  /** Record number in the channel's log on `host`, when the shipper sent one. */
  recordNumber: number | undefined;
  /** The shipper's own time stamp (ISO string), when present. */
  shipperTimestamp: unknown;
  /** Windows event data fields, by their Windows names. */
  data: Record<string, unknown>;
  /** Everything else the shipper sent, as received (kept in the document, not indexed). */
  envelope: Record<string, unknown>;
  /** The rendered event message, when present. */
  message: string | undefined;
}

/**
 * nxlog's `im_msvistalog` puts its own fields and the event's System section at the top level beside the
 * event data; these are the envelope ones (everything else at the top level is event data).
 */
export const NXLOG_ENVELOPE: ReadonlySet<string> = new Set([
  "@timestamp", "@version", "EventTime", "EventReceivedTime", "Hostname", "Keywords", "EventType", "EventTypeOrignal",
  "SeverityValue", "Severity", "EventID", "SourceName", "ProviderGuid", "Version", "Task", "OpcodeValue", "Opcode",
  "Category", "RecordNumber", "ExecutionProcessID", "ThreadID", "Channel", "Domain", "AccountName", "UserID",
  "AccountType", "Message", "SourceModuleName", "SourceModuleType", "host", "port", "tags", "Level", "TimeCreated",
  "ERROR_EVT_UNRESOLVED", "ActivityID", "RelatedActivityID",
]);

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Detects the shape of a parsed message and splits it into envelope and event data. */
export function viewEvent(event: unknown): EventView {
  if (!isObject(event)) reject(`event is ${describe(event)}, not a JSON object`);
  if (isObject(event.winlog)) return viewWinlogbeat7(event, event.winlog);
  if ("log_name" in event && "event_id" in event) return viewWinlogbeat6(event);
  if ("Channel" in event && "EventID" in event) return viewNxlog(event);
  return reject("unknown event shape: none of winlog.channel (winlogbeat 7+), log_name/event_id (winlogbeat 6), Channel/EventID (nxlog)");
}

function viewWinlogbeat7(event: Json, winlog: Json): EventView {
  const { event_data, user_data, ...winlogRest } = winlog;
  const host = isObject(event.host) ? event.host.name : undefined;
  return {
    shape: "winlogbeat7",
    channel: requireString(winlog.channel, "winlog.channel"),
    eventId: requireEventId(winlog.event_id, "winlog.event_id"),
    host: requireString(host ?? winlog.computer_name, "host.name"),
    recordNumber: optionalRecord(winlog.record_id, "winlog.record_id"),
    shipperTimestamp: event["@timestamp"],
    data: mergeData(event_data, user_data, "winlog.event_data"),
    envelope: { ...event, winlog: winlogRest },
    message: optionalString(event.message, "message"),
  };
}

function viewWinlogbeat6(event: Json): EventView {
  const { event_data, user_data, ...rest } = event;
  return {
    shape: "winlogbeat6",
    channel: requireString(event.log_name, "log_name"),
    eventId: requireEventId(event.event_id, "event_id"),
    host: requireString(event.computer_name ?? (isObject(event.host) ? event.host.name : undefined), "computer_name"),
    recordNumber: optionalRecord(event.record_number, "record_number"),
    shipperTimestamp: event["@timestamp"],
    data: mergeData(event_data, user_data, "event_data"),
    envelope: rest,
    message: optionalString(event.message, "message"),
  };
}

function viewNxlog(event: Json): EventView {
  const data: Json = {};
  const envelope: Json = {};
  for (const key in event) {
    if (NXLOG_ENVELOPE.has(key)) envelope[key] = event[key];
    else data[key] = event[key];
  }
  return {
    shape: "nxlog",
    channel: requireString(event.Channel, "Channel"),
    eventId: requireEventId(event.EventID, "EventID"),
    host: requireString(event.Hostname, "Hostname"),
    recordNumber: optionalRecord(event.RecordNumber, "RecordNumber"),
    // Some Security-Datasets exports carry only the event's TimeCreated.
    shipperTimestamp: event["@timestamp"] ?? event.TimeCreated,
    data,
    envelope,
    message: optionalString(event.Message, "Message"),
  };
}

function mergeData(eventData: unknown, userData: unknown, field: string): Json {
  if (eventData !== undefined && eventData !== null && !isObject(eventData)) reject(`${field} is ${describe(eventData)}, not an object`);
  if (userData === undefined || userData === null) return (eventData as Json | undefined) ?? {};
  if (!isObject(userData)) reject(`${field.replace("event_data", "user_data")} is ${describe(userData)}, not an object`);
  return { ...(eventData as Json | undefined), ...userData };
}

function requireString(v: unknown, field: string): string {
  if (typeof v !== "string" || v.trim() === "") reject(`${field} must be a non-empty string, got ${describe(v)}`);
  return v;
}

function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") reject(`${field} must be a string, got ${describe(v)}`);
  return v;
}

function requireEventId(v: unknown, field: string): number {
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d{1,5}$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) reject(`${field} must be an event id (integer 0..65535), got ${describe(v)}`);
  return n;
}

function optionalRecord(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) reject(`${field} must be a record number (non-negative integer), got ${describe(v)}`);
  return n;
}

/** A short description of a value for rejection reasons (never the whole value). */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return v.length > 40 ? `string "${v.slice(0, 40)}…"` : `string "${v}"`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}
