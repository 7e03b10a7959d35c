import { XMLBuilder } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { Enricher } from "../../enrichment/transforms/index.ts";
import type { EventDocument } from "../../enrichment/transforms/normalize.ts";
import { convertNxlogEvent } from "../../lib/replay.ts";
import { eventsOf, first, isSysmon, normalized, rejectionOf, WITH_RECORD_NUMBERS } from "./samples.ts";

/**
 * Azure Monitor / Microsoft Sentinel exports of Windows events (Log Analytics tables `WindowsEvent` and
 * `SecurityEvent`), made from real recorded events: the columns those tables have, the event data as a JSON
 * string (WindowsEvent) or as the event's XML (SecurityEvent).
 */
const events = await eventsOf(WITH_RECORD_NUMBERS);
const processCreate = first(events, isSysmon(1), "Sysmon process create");
const networkConnect = first(events, isSysmon(3), "Sysmon network connection");
const security = first(events, (e) => e.Channel === "Security" && typeof e.RecordNumber === "number", "Security event");

const TENANT = { TenantId: "5a1d8ad9-0f0e-4b43-9c3c-1b0a2b3c4d5e", SourceSystem: "OpsManager", _ResourceId: "/subscriptions/0000/resourcegroups/lab/providers/microsoft.compute/virtualmachines/ws1" };

/** The event's data as Windows writes it (strings, by their Windows names). */
const eventData = (e: Record<string, unknown>) => (convertNxlogEvent(e, "winlogbeat7").winlog as { event_data: Record<string, string> }).event_data;

function asWindowsEvent(e: Record<string, unknown>): Record<string, unknown> {
  return {
    ...TENANT,
    TimeGenerated: e["@timestamp"],
    Computer: e.Hostname,
    EventOriginId: "8b7d6f0e-3c1a-4c55-9f0b-4c2b1b8f4a11",
    Channel: e.Channel,
    EventID: e.EventID,
    EventLevel: 4,
    EventLevelName: "Information",
    EventRecordId: String(e.RecordNumber),
    Provider: e.SourceName,
    Task: e.Category,
    EventData: JSON.stringify(eventData(e)),
    Type: "WindowsEvent",
  };
}

const xml = new XMLBuilder({ ignoreAttributes: false, suppressEmptyNode: true });

function asSecurityEvent(e: Record<string, unknown>): Record<string, unknown> {
  const data = Object.entries(eventData(e)).map(([name, value]) => ({ "@_Name": name, "#text": value }));
  return {
    ...TENANT,
    TimeGenerated: e["@timestamp"],
    Account: `${String(e.SubjectDomainName)}\\${String(e.SubjectUserName)}`,
    AccountType: "Machine",
    Computer: e.Hostname,
    EventSourceName: "Microsoft-Windows-Security-Auditing",
    Channel: "Security",
    Task: e.Category,
    Level: "8",
    EventData: xml.build({ EventData: { "@_xmlns": "http://schemas.microsoft.com/win/2004/08/events/event", Data: data } }),
    EventID: e.EventID,
    Activity: `${String(e.EventID)} - ${String(e.Message).split("\n")[0]}`,
    SubjectUserName: e.SubjectUserName,
    Type: "SecurityEvent",
  };
}

/** A document without what differs by shipper: envelope, shape, and the rendered message (the tables have none). */
const core = ({ envelope: _e, source_shape: _s, message: _m, ...rest }: EventDocument) => rest;

describe.each([
  ["Sysmon process create", processCreate],
  ["Sysmon network connection", networkConnect],
  ["Security event", security],
])("a real %s as an Azure Monitor WindowsEvent row (EventData as a JSON string)", (_what, event) => {
  const doc = normalized(asWindowsEvent(event));
  it("is read as the azure shape, host from Computer, record from EventRecordId", () => {
    expect(doc.source_shape).toBe("azure");
    expect(doc.host_name).toBe(String(event.Hostname).toLowerCase());
    expect(doc.record_number).toBe(event.RecordNumber);
    expect(doc.envelope.Type).toBe("WindowsEvent");
    expect(doc.envelope).not.toHaveProperty("EventData");
  });
  it("gives the same document as the event shipped by nxlog", () => {
    expect(core(doc)).toEqual(core(normalized(event)));
  });
});

describe("a real Security event as an Azure Monitor SecurityEvent row (EventData as XML)", () => {
  const row = asSecurityEvent(security);
  const doc = normalized(row);
  it("parses the XML event data into the same document as the event shipped by nxlog", () => {
    expect(row.EventData).toMatch(/^<EventData xmlns=.*<Data Name="/);
    expect(doc.source_shape).toBe("azure");
    const { record_number: _r, ...fromNxlog } = core(normalized(security));
    expect(core(doc)).toEqual(fromNxlog); // SecurityEvent has no record number column
    expect(Object.keys(doc.event_data).length).toBeGreaterThan(5);
  });
});

describe("SecurityEvent XML as Windows writes it", () => {
  const row = {
    ...TENANT,
    TimeGenerated: "2024-03-05T10:11:12.345Z",
    Computer: "WS1.corp.example.com",
    Channel: "Security",
    EventID: 4688,
    Type: "SecurityEvent",
    EventData:
      '<EventData xmlns="http://schemas.microsoft.com/win/2004/08/events/event">' +
      '<Data Name="SubjectUserName">WS1$</Data><Data Name="NewProcessId">0x1a2c</Data>' +
      '<Data Name="NewProcessName">C:\\Windows\\System32\\cmd.exe</Data>' +
      '<Data Name="CommandLine">cmd.exe /c "echo a &amp; echo &lt;b&gt;"</Data>' +
      '<Data Name="TargetUserName">-</Data><Data Name="MandatoryLabel" />' +
      '<Data Name="Privileges">SeBackupPrivilege&#13;&#10;&#9;&#9;&#9;SeRestorePrivilege</Data>' +
      "<Data>unnamed one</Data><Data>unnamed two</Data></EventData>",
  };
  const doc = normalized(row);
  it("maps the named data, decodes entities and character references, names unnamed data param1, param2", () => {
    expect(doc.host_name).toBe("ws1.corp.example.com");
    expect(doc["@timestamp"]).toBe("2024-03-05T10:11:12.345Z");
    expect(doc.process_path).toBe("C:\\Windows\\System32\\cmd.exe");
    expect(doc.process_name).toBe("cmd.exe");
    expect(doc.process_id).toBe(0x1a2c);
    expect(doc.command_line).toBe('cmd.exe /c "echo a & echo <b>"');
    expect(doc.event_data.Privileges).toBe("SeBackupPrivilege\r\n\t\t\tSeRestorePrivilege");
    expect(doc.event_data.MandatoryLabel).toBe("");
    expect(doc.event_data.param1).toBe("unnamed one");
    expect(doc.event_data.param2).toBe("unnamed two");
    expect(doc.record_number).toBeUndefined();
  });
  it("reads <UserData> (log cleared) and an empty <EventData/>", () => {
    const cleared = normalized({
      ...row,
      EventID: 1102,
      EventData: '<UserData><LogFileCleared xmlns="http://manifests.microsoft.com/win/2004/08/windows/eventlog"><SubjectUserName>admin</SubjectUserName><SubjectDomainName>CORP</SubjectDomainName></LogFileCleared></UserData>',
    });
    expect(cleared.user_name).toBe("admin");
    expect(cleared.event_data).toEqual({ SubjectUserName: "admin", SubjectDomainName: "CORP" });
    expect(normalized({ ...row, EventData: "<EventData/>" }).event_data).toEqual({});
  });
});

describe("rejections name the shape the event was taken for, and say what is missing", () => {
  const row = asWindowsEvent(processCreate);
  it.each([
    ["EventData that is neither JSON nor XML", { ...row, EventData: "ProcessId=12" }, /^EventData is neither XML nor JSON: .* \(event taken for an Azure Monitor WindowsEvent\/SecurityEvent row: it has Computer, EventID and EventData\)$/],
    ["EventData XML that is not well-formed", { ...row, EventData: '<EventData><Data Name="a">x</EventData>' }, /^EventData is not well-formed XML: .*\(event taken for an Azure Monitor/],
    ["EventData XML of another root", { ...row, EventData: "<Event><System/></Event>" }, /^EventData XML has neither <EventData> nor <UserData> at its root \(event taken for an Azure Monitor/],
    ["EventData JSON that is no object", { ...row, EventData: "[1,2]" }, /^EventData must hold a JSON object, got an array \(event taken for an Azure/],
    ["an empty Computer", { ...row, Computer: "" }, /^Computer must be a non-empty string, got string "" \(event taken for an Azure/],
    // An Azure row without its EventData column looks like nxlog (Channel, EventID): what the issue saw.
    ["a row without EventData", { ...row, EventData: undefined }, /^Hostname must be a non-empty string, but it is missing \(event taken for nxlog flat: it has Channel and EventID at the top level\)$/],
    ["winlogbeat 6 without computer_name", { log_name: "Security", event_id: 4624 }, /^computer_name must be a non-empty string, but it is missing \(event taken for winlogbeat 6/],
    ["winlogbeat 7 without host", { winlog: { channel: "Security", event_id: 4624 } }, /^host.name must be a non-empty string, but it is missing \(event taken for winlogbeat 7\+/],
  ])("%s", (_what, event, reason) => {
    const got = rejectionOf(JSON.parse(JSON.stringify(event)));
    expect(got).toMatch(reason);
    expect(got).not.toMatch(/undefined/);
  });

  it("also for what the chain after the shape rejects", () => {
    const outcome = new Enricher().enrich({ ...row, EventData: JSON.stringify({ ...eventData(processCreate), ProcessId: "not-a-pid" }) }, { tag: undefined });
    expect(outcome).toEqual({ ok: false, reason: 'ProcessId must be a non-negative integer, got string "not-a-pid" (event taken for an Azure Monitor WindowsEvent/SecurityEvent row: it has Computer, EventID and EventData)' });
  });
});

describe("Azure rows through the whole chain", () => {
  it("join a WindowsEvent connection with its WindowsEvent process create", () => {
    const enricher = new Enricher<number>();
    const guid = "{aaaaaaaa-0000-0000-0000-000000000001}";
    const processRow = asWindowsEvent({ ...processCreate, ProcessGuid: guid });
    const connectionRow = asWindowsEvent({ ...networkConnect, Hostname: processCreate.Hostname, ProcessGuid: guid });
    const process = enricher.enrich(JSON.stringify(processRow), { tag: 1, now: 0 });
    const connection = enricher.enrich(JSON.stringify(connectionRow), { tag: 2, now: 0 });
    expect(process.ok && connection.ok).toBe(true);
    if (!connection.ok) return;
    expect(connection.joined).toHaveLength(1);
    expect(connection.joined[0]!.doc.command_line).toBe(processCreate.CommandLine);
    expect(connection.joined[0]!.doc.source_shape).toBe("azure");
  });
});
