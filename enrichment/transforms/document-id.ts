import { hash } from "node:crypto";
import type { EventDocument } from "./normalize.ts";

export { EVENTS_INDEX_PREFIX, PROCESS_NETWORK_INDEX_PREFIX } from "../../lib/contract/names.ts";

/**
 * The document id of an event, the same every time the event is read again (a replay, a redelivery after a
 * crash), so indexing it twice overwrites instead of duplicating: host, channel and record number when the
 * shipper sent a record number, else a hash of the raw message (byte-identical messages are one event).
 */
export function documentId(doc: EventDocument, raw: string | Uint8Array): string {
  // One-shot hash (no Hash object per event); a collision-resistant 27-character id.
  if (doc.record_number !== undefined) return hash("sha1", `${doc.host_name}\n${doc.channel.toLowerCase()}\n${doc.record_number}`, "base64url");
  return hash("sha1", raw, "base64url");
}

/** Daily index of the event's own time (not arrival time), so a replay lands where the original did. */
export function dailyIndex(prefix: string, timestamp: string): string {
  return `${prefix}${timestamp.slice(0, 4)}.${timestamp.slice(5, 7)}.${timestamp.slice(8, 10)}`;
}
