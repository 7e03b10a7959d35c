import type { EventDocument } from "../normalize.ts";
import { applyRules, type ChannelMapping, type EventData } from "./fields.ts";
import { POWERSHELL_OPERATIONAL, WINDOWS_POWERSHELL } from "./powershell.ts";
import { SECURITY } from "./security.ts";
import { SYSMON } from "./sysmon.ts";
import { SYSTEM } from "./system.ts";
import { WMI_ACTIVITY } from "./wmi.ts";

/**
 * Per-channel, per-event-id field mappings (Security, Sysmon, PowerShell, System, WMI activity): each mapped
 * event gets an `action` name, its documented normalized fields and translated codes. Events of other
 * channels or ids keep what `normalize.ts` gives every event; all event data stays under `event_data`.
 */
export const CHANNEL_MAPPINGS: ReadonlyMap<string, ChannelMapping> = new Map([
  ["security", SECURITY],
  ["microsoft-windows-sysmon/operational", SYSMON],
  ["windows powershell", WINDOWS_POWERSHELL],
  ["microsoft-windows-powershell/operational", POWERSHELL_OPERATIONAL],
  ["system", SYSTEM],
  ["microsoft-windows-wmi-activity/operational", WMI_ACTIVITY],
]);

/** Channel spellings seen → mapping (a stream has few distinct spellings; bounded against made-up names). */
const byChannel = new Map<string, ChannelMapping | null>();

function channelMapping(name: string): ChannelMapping | undefined {
  let found = byChannel.get(name);
  if (found === undefined) {
    found = CHANNEL_MAPPINGS.get(name.toLowerCase()) ?? null;
    if (byChannel.size < 1_000) byChannel.set(name, found);
  }
  return found ?? undefined;
}

/** Adds the event's `action` and mapped fields to a normalized document. */
export function mapChannelFields(doc: EventDocument, data: EventData): void {
  const mapping = channelMapping(doc.channel)?.get(doc.event_id);
  if (mapping === undefined) return;
  doc.action = mapping.action;
  applyRules(mapping.fields, data, doc);
  mapping.parse?.(data, doc);
}

/** Every Windows event-data field a channel rule reads (for the `winlog.event_data.*` ECS aliases). */
export function mappedWindowsFields(): string[] {
  const names = new Set<string>();
  for (const events of CHANNEL_MAPPINGS.values()) for (const mapping of events.values()) for (const rule of mapping.fields) for (const name of rule.from) names.add(name);
  return [...names];
}
