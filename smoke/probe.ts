import { randomUUID } from "node:crypto";

/** The ATT&CK tag the probe's process-create event carries in RuleName, and the tactic it must gain. */
export const probeTag = { techniqueId: "T1136", techniqueName: "Create Account", tactic: "persistence" } as const;

const sysmonChannel = "Microsoft-Windows-Sysmon/Operational";

export interface ProbeEvents {
  processGuid: string;
  hostName: string;
  commandLine: string;
  /** Sysmon event 1 (process create) then event 3 (network connection) of the same process. */
  events: [Record<string, unknown>, Record<string, unknown>];
}

/**
 * A Sysmon process creation and a network connection of that process, in the nxlog flat JSON shape of
 * the Security-Datasets recordings, with fresh GUIDs, host and record numbers so the enrichment service
 * indexes them as new documents and they can be found (and deleted) by `process_guid` alone.
 */
export function probeEvents(now = new Date()): ProbeEvents {
  const processGuid = guid();
  const parentGuid = guid();
  const hostName = `helk-smoke-${processGuid.slice(1, 9)}.smoke.local`;
  const commandLine = `net.exe user helk-smoke-${processGuid.slice(1, 9)} /add`;
  const record = Number.parseInt(processGuid.slice(10, 14) + processGuid.slice(15, 19), 16);
  const utc = now.toISOString().replace("T", " ").replace("Z", "");
  const common = {
    "@timestamp": now.toISOString(),
    Channel: sysmonChannel,
    SourceName: "Microsoft-Windows-Sysmon",
    ProviderGuid: "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}",
    Hostname: hostName,
    UtcTime: utc,
    EventTime: utc.slice(0, 19),
    ProcessGuid: processGuid,
    ProcessId: "4242",
    Image: "C:\\Windows\\System32\\net.exe",
    User: "SMOKE\\helk",
    tags: ["helk-smoke"],
  };
  const processCreate = {
    ...common,
    EventID: 1,
    RecordNumber: record,
    Message: "Process Create",
    RuleName: `technique_id=${probeTag.techniqueId},technique_name=${probeTag.techniqueName}`,
    CommandLine: commandLine,
    CurrentDirectory: "C:\\Windows\\system32\\",
    LogonGuid: guid(),
    IntegrityLevel: "High",
    Hashes: "SHA1=0123456789ABCDEF0123456789ABCDEF01234567,MD5=0123456789ABCDEF0123456789ABCDEF,SHA256=0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
    ParentProcessGuid: parentGuid,
    ParentProcessId: "4000",
    ParentImage: "C:\\Windows\\System32\\cmd.exe",
    ParentCommandLine: "cmd.exe /c net.exe",
  };
  const networkConnect = {
    ...common,
    EventID: 3,
    RecordNumber: record + 1,
    Message: "Network connection detected",
    RuleName: "-",
    Protocol: "tcp",
    Initiated: "true",
    SourceIsIpv6: "false",
    SourceIp: "10.66.0.5",
    SourceHostname: hostName,
    SourcePort: "49777",
    DestinationIsIpv6: "false",
    DestinationIp: "10.66.0.10",
    DestinationHostname: "dc.smoke.local",
    DestinationPort: "445",
  };
  return { processGuid, hostName, commandLine, events: [processCreate, networkConnect] };
}

/** A GUID in Sysmon's notation: braces, lower case as nxlog records them. */
function guid(): string {
  return `{${randomUUID()}}`;
}
