import { recording } from "../../lib/datasets.ts";
import { isSysmon } from "./samples.ts";

/**
 * Multi-host recordings with Sysmon process creates (1) and network connections (3) that join: Covenant grunts
 * calling home over DCOM (3 hosts, 20 joins) and over PowerShell remoting (5 hosts, 13 joins).
 */
export const SKEW_RECORDINGS = ["covenant_dcom_executeexcel4macro_allowed.zip", "covenant_psremoting_grunt.zip"].map((n) => recording(n).path);

const DAY_MS = 86_400_000;

/** How far the hosts' Sysmon clocks moved between their process creates and their connections. */
export const CLOCK_SHIFTS = [
  { label: "-6 days", ms: -6 * DAY_MS },
  { label: "+3 days", ms: 3 * DAY_MS },
  { label: "+400 days", ms: 400 * DAY_MS },
] as const;

export const isConnection = isSysmon(3);

/** A Sysmon event whose host clock was `ms` off: `UtcTime` moved, the shipper's `@timestamp` as it was. */
export function withShiftedUtcTime(event: Record<string, unknown>, ms: number): Record<string, unknown> {
  const utc = Date.parse(`${String(event.UtcTime).replace(" ", "T")}Z`);
  if (Number.isNaN(utc)) throw new Error(`event ${String(event.RecordNumber)} has no UtcTime to shift: ${String(event.UtcTime)}`);
  return { ...event, UtcTime: new Date(utc + ms).toISOString().replace("T", " ").replace("Z", "") };
}
