import { expect } from "vitest";
import { Enricher, type EventDocument } from "../../enrichment/transforms/index.ts";
import { convertNxlogEvent } from "../../lib/replay.ts";
import { eventsOf } from "./samples.ts";

/**
 * Real events for the channel-mapping tests: the first event of a channel and id in a named Security-Datasets
 * recording (throws, never skips, when the recording has none), enriched by the whole chain.
 */

const recordings = new Map<string, Promise<Record<string, unknown>[]>>();

function recordingEvents(name: string): Promise<Record<string, unknown>[]> {
  let found = recordings.get(name);
  if (found === undefined) recordings.set(name, (found = eventsOf(name)));
  return found;
}

export async function realEvent(recording: string, channel: string, eventId: number, where: (e: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
  const found = (await recordingEvents(recording)).find(
    (e) => String(e.Channel).toLowerCase() === channel.toLowerCase() && e.EventID === eventId && where(e),
  );
  if (found === undefined) throw new Error(`no ${channel} ${eventId} event in ${recording}`);
  return found;
}

export async function realEvents(recording: string, channel: string, eventId: number): Promise<Record<string, unknown>[]> {
  return (await recordingEvents(recording)).filter((e) => String(e.Channel).toLowerCase() === channel.toLowerCase() && e.EventID === eventId);
}

export function enriched(raw: object): EventDocument {
  const outcome = new Enricher().enrich(raw, { tag: undefined, now: 0, receivedAt: 0 });
  if (!outcome.ok) throw new Error(`rejected: ${outcome.reason}`);
  return outcome.event.doc;
}

/** The event enriched as nxlog sent it; its winlogbeat 6 and 7 forms must give the same fields. */
export function enrichedInEveryShape(raw: Record<string, unknown>): EventDocument {
  const strip = ({ envelope: _e, source_shape: _s, ...rest }: EventDocument) => rest;
  const doc = enriched(raw);
  for (const shape of ["winlogbeat6", "winlogbeat7"] as const) expect(strip(enriched(convertNxlogEvent(raw, shape)))).toEqual(strip(doc));
  return doc;
}

/** Every event data field of the raw event is kept under event_data (as text). */
export function expectDataKept(raw: Record<string, unknown>, doc: EventDocument, envelope: ReadonlySet<string>): void {
  for (const [key, value] of Object.entries(raw)) {
    if (envelope.has(key) || value === null) continue;
    expect(doc.event_data[key.replaceAll(".", "_")], key).toBe(typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value));
  }
}

/** A winlogbeat 7 event as the Windows event log would give it, for ids no recording holds. */
export function winlogbeat7(channel: string, eventId: number, eventData: Record<string, string>, extra: { user_data?: Record<string, string>; message?: string } = {}) {
  return {
    "@timestamp": "2024-05-06T07:08:09.123Z",
    host: { name: "WS01.example.local" },
    message: extra.message,
    winlog: { channel, event_id: eventId, record_id: 4242, computer_name: "WS01.example.local", event_data: eventData, user_data: extra.user_data },
  };
}
