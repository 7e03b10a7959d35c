import { describe, expect, it } from "vitest";
import { eventSourceKey, eventSourcesOf, windowsChannel } from "../../attack/logsources.ts";

describe("ATT&CK log sources → Windows (channel, event id)", () => {
  it("maps the short WinEventLog names to event log channels", () => {
    expect(windowsChannel("WinEventLog:Sysmon")).toBe("Microsoft-Windows-Sysmon/Operational");
    expect(windowsChannel("WinEventLog:Security")).toBe("Security");
    expect(windowsChannel("WinEventLog:PowerShell")).toBe("Microsoft-Windows-PowerShell/Operational");
    expect(windowsChannel("WinEventLog:Microsoft-Windows-Windows Firewall With Advanced Security/Firewall")).toBe(
      "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall",
    );
    expect(windowsChannel("linux:Sysmon")).toBeUndefined();
    expect(windowsChannel("etw:Microsoft-Windows-Security-Auditing")).toBeUndefined();
    expect(windowsChannel("WinEventLog:SomethingNew")).toBeUndefined();
  });

  it("reads single, listed and repeated event codes, and ignores prose", () => {
    expect(eventSourcesOf({ name: "WinEventLog:Sysmon", channel: "EventCode=1" })).toEqual([{ channel: "Microsoft-Windows-Sysmon/Operational", eventId: 1 }]);
    expect(eventSourcesOf({ name: "WinEventLog:Security", channel: "EventCode=4624, 4648" }).map((e) => e.eventId)).toEqual([4624, 4648]);
    expect(eventSourcesOf({ name: "WinEventLog:Security", channel: "EventCode=4778, EventCode=4779" }).map((e) => e.eventId)).toEqual([4778, 4779]);
    expect(eventSourcesOf({ name: "WinEventLog:Security", channel: "Anomalous logon without MFA enforcement" })).toEqual([]);
    expect(eventSourcesOf({ name: "WinEventLog:System", channel: "System shutdowns due to bugcheck (Event ID 1001)" })).toEqual([]);
    expect(eventSourcesOf({ name: "auditd:SYSCALL", channel: "EventCode=1" })).toEqual([]);
  });

  it("compares channels case-insensitively, as Windows does", () => {
    expect(eventSourceKey("security", 4624)).toBe(eventSourceKey("Security", 4624));
    expect(eventSourceKey("Security", 4624)).not.toBe(eventSourceKey("Security", 4625));
  });
});
