import { describe, expect, it } from "vitest";
import { listRecordings, recording, recordingEvents, recordingLines } from "../../lib/datasets.ts";

describe("Security-Datasets readers", () => {
  it("lists every recording once, sorted by name", () => {
    const names = listRecordings().map((r) => r.name);
    expect(names.length).toBeGreaterThan(0);
    expect([...names].sort((a, b) => a.localeCompare(b))).toEqual(names);
    expect(new Set(names).size).toBe(names.length);
  });

  it("skips macOS resource forks, so every line of a recording that has one is JSON", async () => {
    // This recording's zip also holds __MACOSX/._<name>.json, which is binary.
    let events = 0;
    for await (const event of recordingEvents(recording("cmd_psh_stop_netprofm_eventlog_after_reboot.zip").path)) {
      expect(typeof event.Channel).toBe("string");
      events++;
    }
    expect(events).toBeGreaterThan(10_000);
  });

  it("can be left early, again and again, without breaking the next read", async () => {
    const path = recording("covenant_dcom_iertutil_dll_hijack.zip").path;
    for (let round = 0; round < 5; round++) {
      let seen = 0;
      for await (const _line of recordingLines(path)) if (++seen === 10) break;
      expect(seen).toBe(10);
    }
    // Give a stream still reading from a closed file the chance to fail the process.
    await new Promise((ok) => setTimeout(ok, 200));
    let count = 0;
    for await (const _line of recordingLines(recording("msf_record_mic.zip").path)) count++;
    expect(count).toBeGreaterThan(0);
  });
});
