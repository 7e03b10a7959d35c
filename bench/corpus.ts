import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../lib/data.ts";
import { listRecordings, type Recording, recordingLines } from "../lib/datasets.ts";

/**
 * Security-Datasets recordings no test or e2e run names (by file name in their sources), so a benchmark never
 * measures on the data the tests were tuned on.
 */
export function recordingsUnusedByTests(): Recording[] {
  const named = new Set<string>();
  const scan = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) scan(path);
      else if (entry.name.endsWith(".ts")) for (const m of readFileSync(path, "utf8").matchAll(/["'`]([\w.-]+\.zip)["'`]/g)) named.add(m[1]!);
    }
  };
  for (const folder of ["test", "e2e"]) scan(join(projectRoot, folder));
  const unused = listRecordings().filter((r) => ![...named].some((name) => r.name.endsWith(name)));
  if (unused.length === 0) throw new Error("every Security-Datasets recording is named by a test; none is left to benchmark on");
  return unused;
}

/** The Sysmon process-create events (event id 1) of the given recordings. */
export async function processCreates(recordings: Recording[] = listRecordings()): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  for (const r of recordings) {
    for await (const line of recordingLines(r.path)) {
      if (!line.includes('"EventID":1,')) continue;
      const e = JSON.parse(line) as Record<string, unknown>;
      if (e.EventID === 1 && e.Channel === "Microsoft-Windows-Sysmon/Operational") found.push(e);
    }
  }
  return found;
}

/**
 * A process-create event as a new process: fresh GUID and record number, dated (event and shipper time) after
 * every recording, so the dataset streaming through later never ages it out of the join cache (only the entry
 * bound evicts).
 */
export function syntheticProcess(event: Record<string, unknown>, i: number): Record<string, unknown> {
  return { ...event, ProcessGuid: `{bench-${i}}`, RecordNumber: 1e9 + i, UtcTime: "2030-01-01 00:00:00.000", "@timestamp": "2030-01-01T00:00:00.000Z" };
}
