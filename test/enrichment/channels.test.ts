import { describe, expect, it } from "vitest";
import { ChannelFilter } from "../../enrichment/transforms/channels.ts";
import { eventsOf } from "./samples.ts";

describe("known channels", () => {
  const filter = new ChannelFilter();

  it("accepts every channel of a real recording, fixing the spelling of exact entries", async () => {
    const channels = new Set((await eventsOf("cmd_dumping_ntds_dit_file_ntdsutil.zip")).map((e) => e.Channel as string));
    expect(channels.size).toBeGreaterThan(2);
    for (const channel of channels) expect(filter.canonical(channel)).toBeDefined();
    expect(filter.canonical("security")).toBe("Security");
    expect(filter.canonical("microsoft-windows-sysmon/operational")).toBe("Microsoft-Windows-Sysmon/Operational");
  });

  it("matches * patterns case-insensitively and rejects other names", () => {
    expect(filter.canonical("Microsoft-Windows-TaskScheduler/Operational")).toBe("Microsoft-Windows-TaskScheduler/Operational");
    expect(filter.canonical("Not A Channel")).toBeUndefined();
    expect(filter.canonical("Microsoft-Windows")).toBeUndefined();
    const custom = new ChannelFilter(["Custom.Log(1)", "Lab-*"]);
    expect(custom.canonical("custom.log(1)")).toBe("Custom.Log(1)");
    expect(custom.canonical("customXlog(1)")).toBeUndefined();
    expect(custom.canonical("LAB-x/y")).toBe("LAB-x/y");
  });
});
