import { describe, expect, it } from "vitest";
import { convertNxlogEvent } from "../../lib/replay.ts";
import { eventsOf, first, isSysmon, normalized, rejectionOf, SYSMON, WITH_RECORD_NUMBERS } from "./samples.ts";

const events = await eventsOf(WITH_RECORD_NUMBERS);
const processCreate = first(events, isSysmon(1), "Sysmon process create");
const networkConnect = first(events, isSysmon(3), "Sysmon network connection");
const security = first(events, (e) => e.Channel === "Security" && typeof e.RecordNumber === "number", "Security event");

/** The same real event as each shipper would send it. */
const shapes = (e: Record<string, unknown>) =>
  [
    ["nxlog", e],
    ["winlogbeat6", convertNxlogEvent(e, "winlogbeat6")],
    ["winlogbeat7", convertNxlogEvent(e, "winlogbeat7")],
  ] as const;

describe.each(shapes(processCreate))("a real Sysmon process create as %s", (shape, event) => {
  const doc = normalized(event);

  it("detects the shape and reads the envelope", () => {
    expect(doc.source_shape).toBe(shape);
    expect(doc.channel).toBe(SYSMON);
    expect(doc.event_id).toBe(1);
    expect(doc.host_name).toBe((processCreate.Hostname as string).toLowerCase());
    expect(doc.record_number).toBe(processCreate.RecordNumber);
  });

  it("maps process fields to the HELK names", () => {
    const image = processCreate.Image as string;
    expect(doc.process_path).toBe(image);
    expect(doc.process_name).toBe(image.split("\\").pop());
    expect(doc.process_guid).toBe(processCreate.ProcessGuid);
    expect(doc.process_id).toBe(Number(processCreate.ProcessId));
    expect(doc.command_line).toBe(processCreate.CommandLine);
    expect(doc.parent_process_guid).toBe(processCreate.ParentProcessGuid);
    expect(doc.parent_process_id).toBe(Number(processCreate.ParentProcessId));
    expect(doc.parent_process_path).toBe(processCreate.ParentImage);
    expect(doc.parent_process_name).toBe((processCreate.ParentImage as string).split("\\").pop());
    expect(doc.parent_command_line).toBe(processCreate.ParentCommandLine);
    expect(doc.user_name).toBe(processCreate.User);
    expect(doc.hash_sha256).toBe(/SHA256=(\w+)/.exec(processCreate.Hashes as string)![1]!.toLowerCase());
    expect(doc.rule_name).toBeUndefined(); // Sysmon's "-"
  });

  it("takes @timestamp from UtcTime", () => {
    expect(doc["@timestamp"]).toBe(`${(processCreate.UtcTime as string).replace(" ", "T")}Z`);
  });

  it("keeps unmapped fields in event_data as strings", () => {
    expect(doc.event_data.IntegrityLevel).toBe(processCreate.IntegrityLevel);
    expect(doc.event_data.CurrentDirectory).toBe(processCreate.CurrentDirectory);
    expect(doc.event_data.Hashes).toBe(processCreate.Hashes);
    expect(Object.values(doc.event_data).every((v) => typeof v === "string")).toBe(true);
  });
});

describe.each(shapes(networkConnect))("a real Sysmon network connection as %s", (_shape, event) => {
  const doc = normalized(event);
  it("maps the network fields", () => {
    expect(doc.src_ip).toBe(networkConnect.SourceIp);
    expect(doc.src_port).toBe(Number(networkConnect.SourcePort));
    expect(doc.dst_ip).toBe(networkConnect.DestinationIp);
    expect(doc.dst_port).toBe(Number(networkConnect.DestinationPort));
    expect(doc.network_protocol).toBe(networkConnect.Protocol);
    expect(doc.network_initiated).toBe(networkConnect.Initiated === "true");
    expect(doc.dst_hostname).toBeUndefined(); // "-" means none
    expect(doc.process_guid).toBe(networkConnect.ProcessGuid);
  });
});

describe.each(shapes(security))("a real Security event as %s", (_shape, event) => {
  const doc = normalized(event);
  it("normalizes the envelope and keeps the event data", () => {
    expect(doc.channel).toBe("Security");
    expect(doc.event_id).toBe(security.EventID);
    expect(doc["@timestamp"]).toBe(new Date(security["@timestamp"] as string).toISOString());
    const dataKeys = Object.keys(doc.event_data);
    expect(dataKeys.length).toBeGreaterThan(0);
    for (const key of dataKeys) expect(doc.event_data[key]).toBe(String(security[key]));
  });
});

describe("normalization across shapes", () => {
  it("gives the same document fields for every shape of every event of a recording (all but the envelope)", () => {
    let compared = 0;
    for (const event of events.slice(0, 800)) {
      const { envelope: _n, source_shape: _s, ...nx } = normalized(event);
      for (const shape of ["winlogbeat6", "winlogbeat7"] as const) {
        const { envelope: _e, source_shape: _t, ...other } = normalized(convertNxlogEvent(event, shape));
        expect(other).toEqual(nx);
        compared++;
      }
    }
    expect(compared).toBe(1600);
  });
});

describe("wrong field types are rejected with the field named", () => {
  it.each([
    [{ ...processCreate, EventID: "one" }, /EventID must be an event id/],
    [{ ...processCreate, EventID: 70000 }, /EventID/],
    [{ ...processCreate, Channel: 42 }, /Channel must be a non-empty string/],
    [{ ...processCreate, Hostname: { name: "x" } }, /Hostname/],
    [{ ...processCreate, ProcessId: "not a pid" }, /ProcessId must be a non-negative integer/],
    [{ ...processCreate, Image: ["a", "b"] }, /Image must be a string, got an array/],
    [{ ...processCreate, UtcTime: "yesterday" }, /UtcTime must be a time/],
    [{ ...processCreate, RecordNumber: -1 }, /RecordNumber/],
    [{ ...networkConnect, DestinationPort: "http" }, /DestinationPort/],
    [{ winlog: { channel: SYSMON, event_id: 1, event_data: "oops" }, host: { name: "h" } }, /winlog.event_data is string/],
    [{ log_name: "Security", event_id: 4624 }, /computer_name must be a non-empty string/],
    [{ hello: "world" }, /unknown event shape/],
    [[1, 2, 3], /not a JSON object/],
    ["text", /not a JSON object/],
  ])("%#", (event, reason) => {
    expect(rejectionOf(event)).toMatch(reason);
  });
});
