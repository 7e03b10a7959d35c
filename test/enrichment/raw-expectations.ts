import { recordingEvents } from "../../lib/datasets.ts";

const SYSMON = "Microsoft-Windows-Sysmon/Operational";

export interface RawExpectations {
  /** `host|channel|record` of every event (recordings with record numbers: one per line). */
  events: Set<string>;
  /** `host|record` of each connection with a process create of the same host and GUID → fields from the raw files. */
  joins: Map<string, { image: unknown; commandLine: unknown; parentImage: unknown; dstIp: unknown }>;
}

/** What the service must index for these recordings, computed straight from the raw files (independently of its code). */
export async function expectedFromRawFiles(paths: string[]): Promise<RawExpectations> {
  const events = new Set<string>();
  const sysmon: Record<string, unknown>[] = [];
  for (const path of paths) {
    for await (const e of recordingEvents(path)) {
      events.add(`${String(e.Hostname).toLowerCase()}|${String(e.Channel).toLowerCase()}|${e.RecordNumber}`);
      if (e.Channel === SYSMON) sysmon.push(e);
    }
  }
  return { events, joins: expectedJoins(sysmon) };
}

/**
 * The process/network join over raw nxlog events, whatever their order and times: each Sysmon connection (3)
 * with a process create (1) of the same host and `ProcessGuid`, keyed `host|record`.
 */
export function expectedJoins(events: Iterable<Record<string, unknown>>): RawExpectations["joins"] {
  const processes = new Map<string, Record<string, unknown>>();
  const connections: Record<string, unknown>[] = [];
  for (const e of events) {
    if (e.Channel !== SYSMON) continue;
    const key = `${String(e.Hostname).toLowerCase()}|${String(e.ProcessGuid).toLowerCase()}`;
    if (e.EventID === 1) processes.set(key, e);
    if (e.EventID === 3) connections.push(e);
  }
  const joins: RawExpectations["joins"] = new Map();
  for (const c of connections) {
    const host = String(c.Hostname).toLowerCase();
    const p = processes.get(`${host}|${String(c.ProcessGuid).toLowerCase()}`);
    if (p) joins.set(`${host}|${c.RecordNumber}`, { image: p.Image, commandLine: p.CommandLine, parentImage: p.ParentImage, dstIp: c.DestinationIp });
  }
  return joins;
}
