import { normalize, type EventDocument } from "../../enrichment/transforms/normalize.ts";
import { EventRejected } from "../../enrichment/transforms/rejection.ts";
import { viewEvent } from "../../enrichment/transforms/shape.ts";
import { recording, recordingEvents, recordingLines } from "../../lib/datasets.ts";

export const SYSMON = "Microsoft-Windows-Sysmon/Operational";

/** Recordings the unit tests read: one with nxlog record numbers, one exported without them. */
export const WITH_RECORD_NUMBERS = "msf_record_mic.zip";
export const WITHOUT_RECORD_NUMBERS = "cmd_psexec_lsa_secrets_dump.zip";

/** All parsed events of a recording (small ones only: held in memory). */
export async function eventsOf(nameSuffix: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const e of recordingEvents(recording(nameSuffix).path)) out.push(e);
  return out;
}

export async function linesOf(nameSuffix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const line of recordingLines(recording(nameSuffix).path)) out.push(line);
  return out;
}

/** The first event matching `predicate`; throws (never skips) when the recording has none. */
export function first(events: Record<string, unknown>[], predicate: (e: Record<string, unknown>) => boolean, what: string): Record<string, unknown> {
  const found = events.find(predicate);
  if (!found) throw new Error(`no ${what} in the sample recording`);
  return found;
}

export const isSysmon = (id: number) => (e: Record<string, unknown>) => e.Channel === SYSMON && e.EventID === id;

/** An event through shape detection and normalization (no channel filter, time fallback 0). */
export function normalized(event: unknown): EventDocument {
  const view = viewEvent(event);
  return normalize(view, view.channel, 0);
}

/** Why {@link normalized} rejects an event; throws when it does not. */
export function rejectionOf(event: unknown): string {
  try {
    normalized(event);
  } catch (err) {
    if (err instanceof EventRejected) return err.reason;
    throw err;
  }
  throw new Error("not rejected");
}
