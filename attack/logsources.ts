/**
 * ATT&CK v18 analytics name their log sources the Splunk way (`WinEventLog:Sysmon` + `EventCode=1`). The engine
 * holds Windows event log channel names (`Microsoft-Windows-Sysmon/Operational`) and numeric event ids. This maps
 * one to the other so coverage can compare them.
 */

/** One Windows event kind as the engine stores it: `channel` and `event_id` of enriched events. */
export interface EventSource {
  channel: string;
  eventId: number;
}

/** `WinEventLog:<short name>` → the event log channel that short name means. */
const channelByShortName: Record<string, string> = {
  sysmon: "Microsoft-Windows-Sysmon/Operational",
  security: "Security",
  system: "System",
  application: "Application",
  powershell: "Microsoft-Windows-PowerShell/Operational",
  wmi: "Microsoft-Windows-WMI-Activity/Operational",
  taskscheduler: "Microsoft-Windows-TaskScheduler/Operational",
  codeintegrity: "Microsoft-Windows-CodeIntegrity/Operational",
  "windows defender": "Microsoft-Windows-Windows Defender/Operational",
  winrm: "Microsoft-Windows-WinRM/Operational",
};

/** `EventCode=4624`, `EventCode=3, 22`, `EventCode=4778, EventCode=4779`; free text is not an event list. */
const eventCodeList = /^\s*EventCode\s*=\s*\d+(\s*,\s*(EventCode\s*=\s*)?\d+)*\s*$/i;

/** The channel a `WinEventLog:*` log source name refers to, or undefined for other sources (Linux, cloud, ETW, ...). */
export function windowsChannel(logSourceName: string): string | undefined {
  const match = /^WinEventLog:(.+)$/i.exec(logSourceName.trim());
  if (!match) return undefined;
  const rest = match[1]!.trim();
  // Full channel names (`Microsoft-Windows-Windows Firewall With Advanced Security/Firewall`) are used as they are.
  if (rest.includes("/")) return rest;
  return channelByShortName[rest.toLowerCase()];
}

/**
 * The (channel, event id) pairs a log source reference stands for; empty when it is not a Windows event log
 * source or its channel is a description rather than event codes.
 */
export function eventSourcesOf(ref: { name: string; channel: string }): EventSource[] {
  const channel = windowsChannel(ref.name);
  if (!channel || !eventCodeList.test(ref.channel)) return [];
  return [...ref.channel.matchAll(/\d+/g)].map((m) => ({ channel, eventId: Number(m[0]) }));
}

/** Key under which an event source is compared: channel names are case-insensitive in Windows. */
export function eventSourceKey(channel: string, eventId: number): string {
  return `${channel.toLowerCase()}|${eventId}`;
}
