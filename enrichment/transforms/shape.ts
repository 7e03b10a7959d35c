import { XMLParser } from "fast-xml-parser";
import { NXLOG_ENVELOPE } from "../../lib/contract/shipper-events.ts";
import { EventRejected, reject } from "./rejection.ts";

/** The shipper formats the service reads, detected per message. */
export type EventShape = "winlogbeat7" | "winlogbeat6" | "nxlog" | "azure";

/** Each shape as rejection reasons name it: what the event was taken for, and why. */
export const SHAPE_DESCRIPTIONS: Readonly<Record<EventShape, string>> = {
  winlogbeat7: "winlogbeat 7+: it has a winlog object",
  winlogbeat6: "winlogbeat 6: it has log_name and event_id",
  nxlog: "nxlog flat: it has Channel and EventID at the top level",
  azure: "an Azure Monitor WindowsEvent/SecurityEvent row: it has Computer, EventID and EventData",
};

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

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Which shipper format a parsed message is in (rejected when none). */
export function shapeOf(event: unknown): EventShape {
  if (!isObject(event)) reject(`event is ${describe(event)}, not a JSON object`);
  if (isObject(event.winlog)) return "winlogbeat7";
  if ("log_name" in event && "event_id" in event) return "winlogbeat6";
  // Before nxlog: Azure rows carry Channel and EventID too.
  if ("Computer" in event && "EventID" in event && "EventData" in event) return "azure";
  if ("Channel" in event && "EventID" in event) return "nxlog";
  return reject(
    "unknown event shape: none of winlog.channel (winlogbeat 7+), log_name/event_id (winlogbeat 6), Computer/EventID/EventData (Azure Monitor), Channel/EventID (nxlog)",
  );
}

const VIEWS: Readonly<Record<EventShape, (event: Json) => EventView>> = {
  winlogbeat7: (event) => viewWinlogbeat7(event, event.winlog as Json),
  winlogbeat6: viewWinlogbeat6,
  azure: viewAzure,
  nxlog: viewNxlog,
};

/** Splits a message of `shape` (from {@link shapeOf}) into envelope and event data. */
export function viewAs(shape: EventShape, event: unknown): EventView {
  return VIEWS[shape](event as Json);
}

/** A rejection reason of an event taken for `shape`, naming that shape (why the event was read as it was). */
export function takenForReason(shape: EventShape, reason: string): string {
  return `${reason} (event taken for ${SHAPE_DESCRIPTIONS[shape]})`;
}

/** Detects the shape of a parsed message and splits it into envelope and event data. */
export function viewEvent(event: unknown): EventView {
  const shape = shapeOf(event);
  try {
    return viewAs(shape, event);
  } catch (err) {
    if (err instanceof EventRejected) reject(takenForReason(shape, err.reason));
    throw err;
  }
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

/**
 * Azure Monitor / Microsoft Sentinel rows as exported (Log Analytics tables): `WindowsEvent` carries the event
 * data as JSON (a string in exports, an object when already parsed), `SecurityEvent` as the event's XML
 * (`<EventData><Data Name="…">…</Data></EventData>`). The other columns are the envelope.
 */
function viewAzure(event: Json): EventView {
  const { EventData, ...envelope } = event;
  return {
    shape: "azure",
    channel: requireString(event.Channel, "Channel"),
    eventId: requireEventId(event.EventID, "EventID"),
    host: requireString(event.Computer, "Computer"),
    recordNumber: optionalRecord(event.EventRecordId, "EventRecordId"),
    shipperTimestamp: event.TimeGenerated ?? event.TimeCreated,
    data: azureEventData(EventData),
    envelope,
    message: undefined,
  };
}

function azureEventData(v: unknown): Json {
  if (v === undefined || v === null || v === "") return {};
  if (isObject(v)) return v;
  if (typeof v !== "string") return reject(`EventData must be JSON or XML text, got ${describe(v)}`);
  const text = v.trimStart();
  if (text.startsWith("<")) return eventDataXml(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return reject(`EventData is neither XML nor JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  return isObject(parsed) ? parsed : reject(`EventData must hold a JSON object, got ${describe(parsed)}`);
}

/**
 * Values kept as strings, exactly as written (no trimming, no number parsing), `Data` always a list. Windows
 * writes control characters as numeric references (`&#13;&#10;`), which this version of the parser decodes only
 * with `htmlEntities` on (it then also knows HTML's named entities, which Windows never writes).
 */
const xmlParser = new XMLParser({
  ignoreAttributes: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  htmlEntities: true,
  isArray: (name) => name === "Data",
});

/**
 * The fields of a Windows event's data XML: `<EventData>` with `<Data Name="x">value</Data>` (unnamed `Data`
 * become `param1`, `param2`… as winlogbeat names them), or `<UserData>` with one element whose children are the
 * fields.
 */
function eventDataXml(text: string): Json {
  let root: Json;
  try {
    root = xmlParser.parse(text, true) as Json;
  } catch (err) {
    return reject(`EventData is not well-formed XML: ${(err as Error).message.slice(0, 200)}`);
  }
  const data: Json = {};
  // An element without children (`<EventData/>`) parses to "": an event without data.
  if (root.EventData !== undefined) {
    const items = isObject(root.EventData) && Array.isArray(root.EventData.Data) ? (root.EventData.Data as unknown[]) : [];
    let unnamed = 0;
    for (const item of items) {
      const name = isObject(item) ? item["@_Name"] : undefined;
      data[typeof name === "string" && name !== "" ? name : `param${++unnamed}`] = xmlText(isObject(item) ? item["#text"] : item);
    }
    return data;
  }
  if (root.UserData !== undefined) {
    const inner = isObject(root.UserData) ? Object.entries(root.UserData).find(([name]) => !name.startsWith("@_"))?.[1] : undefined;
    if (isObject(inner)) {
      for (const [name, value] of Object.entries(inner)) {
        if (!name.startsWith("@_")) data[name] = typeof value === "object" && value !== null ? JSON.stringify(value) : xmlText(value);
      }
    }
    return data;
  }
  return reject("EventData XML has neither <EventData> nor <UserData> at its root");
}

function xmlText(v: unknown): string {
  return v === undefined || v === null ? "" : String(v);
}

function mergeData(eventData: unknown, userData: unknown, field: string): Json {
  if (eventData !== undefined && eventData !== null && !isObject(eventData)) reject(`${field} is ${describe(eventData)}, not an object`);
  if (userData === undefined || userData === null) return (eventData as Json | undefined) ?? {};
  if (!isObject(userData)) reject(`${field.replace("event_data", "user_data")} is ${describe(userData)}, not an object`);
  return { ...(eventData as Json | undefined), ...userData };
}

function requireString(v: unknown, field: string): string {
  if (typeof v !== "string" || v.trim() === "") reject(`${field} must be a non-empty string, ${got(v)}`);
  return v;
}

function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") reject(`${field} must be a string, ${got(v)}`);
  return v;
}

function requireEventId(v: unknown, field: string): number {
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d{1,5}$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) reject(`${field} must be an event id (integer 0..65535), ${got(v)}`);
  return n;
}

function optionalRecord(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) reject(`${field} must be a record number (non-negative integer), ${got(v)}`);
  return n;
}

/** The end of a "must be …" reason: what was there instead. */
function got(v: unknown): string {
  return v === undefined ? "but it is missing" : `got ${describe(v)}`;
}

/** A short description of a value for rejection reasons (never the whole value). */
export function describe(v: unknown): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return v.length > 40 ? `string "${v.slice(0, 40)}…"` : `string "${v}"`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}
