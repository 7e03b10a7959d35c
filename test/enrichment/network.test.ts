import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openGeoIp } from "../../enrichment/geoip.ts";
import { communityId, type Flow } from "../../enrichment/transforms/community-id.ts";
import { commandLineFingerprint, normalizeCommandLine, scriptBlockFingerprint } from "../../enrichment/transforms/fingerprint.ts";
import { Enricher } from "../../enrichment/transforms/index.ts";
import { classifyIp } from "../../enrichment/transforms/network.ts";
import { enriched, realEvents } from "./channel-samples.ts";

/**
 * Community ID v1 against the test vectors the specification publishes (corelight/community-id-spec,
 * baseline/README.md: "Default settings" and "A custom seed=1 value" tables, and baseline_deflt.json),
 * address classes for IPv4 and IPv6, fingerprints, and the GeoIP switch. Real events: Sysmon 3 from
 * covenant_copy_smb_CreateRequest.zip, Security 5156 from the same recording.
 */

const tcp = (s: string, d: string, sp: number, dp: number): Flow => ({ protocol: 6, sourceIp: s, destinationIp: d, sourcePort: sp, destinationPort: dp });
const v6a = "fe80:0001:0203:0405:0607:0809:0A0B:0C0D";
const v6b = "fe80:1011:1213:1415:1617:1819:1A1B:1C1D";

/** [flow, default id, seed=1 id]: the spec's tables, each flow in both directions. */
const SPEC_TABLE: [string, Flow, string, string][] = [
  ["TCP out", tcp("1.2.3.4", "5.6.7.8", 1122, 3344), "1:wCb3OG7yAFWelaUydu0D+125CLM=", "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="],
  ["TCP back", tcp("5.6.7.8", "1.2.3.4", 3344, 1122), "1:wCb3OG7yAFWelaUydu0D+125CLM=", "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="],
  ["UDP out", { protocol: 17, sourceIp: "1.2.3.4", destinationIp: "5.6.7.8", sourcePort: 1122, destinationPort: 3344 }, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", "1:OShq+iKDAMVouh/4bMxB9Sz4amw="],
  ["UDP back", { protocol: 17, sourceIp: "5.6.7.8", destinationIp: "1.2.3.4", sourcePort: 3344, destinationPort: 1122 }, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", "1:OShq+iKDAMVouh/4bMxB9Sz4amw="],
  ["SCTP out", { protocol: 132, sourceIp: "1.2.3.4", destinationIp: "5.6.7.8", sourcePort: 1122, destinationPort: 3344 }, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=", "1:uitchpn5MMGAQKBJh7bIr/bAr7s="],
  ["SCTP back", { protocol: 132, sourceIp: "5.6.7.8", destinationIp: "1.2.3.4", sourcePort: 3344, destinationPort: 1122 }, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=", "1:uitchpn5MMGAQKBJh7bIr/bAr7s="],
  ["ICMP echo request", { protocol: 1, sourceIp: "1.2.3.4", destinationIp: "5.6.7.8", sourcePort: 8, destinationPort: 0 }, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=", "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="],
  ["ICMP echo reply", { protocol: 1, sourceIp: "5.6.7.8", destinationIp: "1.2.3.4", sourcePort: 0, destinationPort: 0 }, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=", "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="],
  ["ICMP one-way", { protocol: 1, sourceIp: "1.2.3.4", destinationIp: "5.6.7.8", sourcePort: 11, destinationPort: 0 }, "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=", "1:1DD7cWGC/Yg91YGsQeni8du3pIA="],
  ["ICMP6 echo request", { protocol: 58, sourceIp: v6a, destinationIp: v6b, sourcePort: 128, destinationPort: 0 }, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", "1:IO27GQzPuCtNnwFvjWALMHu5tJE="],
  ["ICMP6 echo reply", { protocol: 58, sourceIp: v6b, destinationIp: v6a, sourcePort: 129, destinationPort: 0 }, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", "1:IO27GQzPuCtNnwFvjWALMHu5tJE="],
  ["ICMP6 one-way", { protocol: 58, sourceIp: v6a, destinationIp: v6b, sourcePort: 146, destinationPort: 0 }, "1:fYC8+pz24E+EhANP1EZhpX0Dw10=", "1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s="],
  ["RSVP out (no ports)", { protocol: 46, sourceIp: "1.2.3.4", destinationIp: "5.6.7.8" }, "1:ikv3kmf89luf73WPz1jOs49S768=", "1:/buhqeOmaRCopOZFy9HnoJd5XW8="],
  ["RSVP back", { protocol: 46, sourceIp: "5.6.7.8", destinationIp: "1.2.3.4" }, "1:ikv3kmf89luf73WPz1jOs49S768=", "1:/buhqeOmaRCopOZFy9HnoJd5XW8="],
  ["RSVP IPv6 out", { protocol: 46, sourceIp: v6a, destinationIp: v6b }, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=", "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM="],
  ["RSVP IPv6 back", { protocol: 46, sourceIp: v6b, destinationIp: v6a }, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=", "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM="],
];

/** From baseline_deflt.json (flows of the spec's pcaps). */
const BASELINE: [Flow, string][] = [
  [{ protocol: 58, sourceIp: "fe80::200:86ff:fe05:80da", destinationIp: "fe80::260:97ff:fe07:69ea", sourcePort: 135, destinationPort: 136 }, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="],
  [{ protocol: 58, sourceIp: "3ffe:501:1800:2345::2", destinationIp: "3ffe:507:0:1:200:86ff:fe05:80da", sourcePort: 3, destinationPort: 0 }, "1:2ObVBgIn28oZvibYZhZMBgh7WdQ="],
  [{ protocol: 58, sourceIp: "fe80::200:86ff:fe05:80da", destinationIp: "ff02::2", sourcePort: 133, destinationPort: 134 }, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0="],
  [{ protocol: 1, sourceIp: "192.168.0.89", destinationIp: "192.168.0.1", sourcePort: 8, destinationPort: 0 }, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="],
  [{ protocol: 1, sourceIp: "10.0.0.1", destinationIp: "10.0.0.2", sourcePort: 11, destinationPort: 0 }, "1:YHxtAirCG//0OzkcVAukqKQN9xM="],
  [tcp("2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25), "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="],
  [tcp("2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943), "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="],
  [{ protocol: 132, sourceIp: "192.168.170.56", destinationIp: "192.168.170.8", sourcePort: 7, destinationPort: 7 }, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="],
  [tcp("128.232.110.120", "66.35.250.204", 34855, 80), "1:LQU9qZlK+B5F3KDmev6m5PMibrg="],
  [tcp("66.35.250.204", "128.232.110.120", 80, 34855), "1:LQU9qZlK+B5F3KDmev6m5PMibrg="],
  [{ protocol: 17, sourceIp: "8.8.8.8", destinationIp: "192.168.1.52", sourcePort: 53, destinationPort: 54585 }, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="],
  [{ protocol: 46, sourceIp: "10.1.12.2", destinationIp: "10.1.12.1" }, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="],
];

describe("Community ID v1", () => {
  it.each(SPEC_TABLE)("spec table: %s", (_name, flow, withDefaultSeed, withSeed1) => {
    expect(communityId(flow)).toBe(withDefaultSeed);
    expect(communityId(flow, 1)).toBe(withSeed1);
  });

  it.each(BASELINE)("baseline %#", (flow, id) => {
    expect(communityId(flow)).toBe(id);
  });

  it("is the same for a real Sysmon 3 connection and its reverse, and equal to an IPv4-mapped spelling", async () => {
    const [connection] = await realEvents("covenant_copy_smb_CreateRequest.zip", "Microsoft-Windows-Sysmon/Operational", 3);
    const doc = enriched(connection!);
    const reverse = enriched({ ...connection!, SourceIp: connection!.DestinationIp, DestinationIp: connection!.SourceIp, SourcePort: connection!.DestinationPort, DestinationPort: connection!.SourcePort });
    expect(doc.community_id).toMatch(/^1:/);
    expect(reverse.community_id).toBe(doc.community_id);
    expect(enriched({ ...connection!, SourceIp: `::ffff:${String(connection!.SourceIp)}` }).community_id).toBe(doc.community_id);
  });

  it("is on every Security 5156 event of a recording, from the WFP protocol number", async () => {
    const events = await realEvents("covenant_copy_smb_CreateRequest.zip", "Security", 5156);
    expect(events.length).toBeGreaterThan(10);
    for (const e of events) {
      const doc = enriched(e);
      const protocol = Number(e.Protocol);
      expect(doc.community_id, JSON.stringify(e)).toBe(communityId({ protocol, sourceIp: String(e.SourceAddress), destinationIp: String(e.DestAddress), sourcePort: Number(e.SourcePort), destinationPort: Number(e.DestPort) }));
    }
  });
});

describe("address classes", () => {
  it.each([
    ["10.1.2.3", "private", "private", 4],
    ["172.31.255.1", "private", "private", 4],
    ["192.168.0.1", "private", "private", 4],
    ["100.64.0.1", "private", "carrierGradeNat", 4],
    ["8.8.8.8", "public", "unicast", 4],
    ["127.0.0.1", "loopback", "loopback", 4],
    ["169.254.10.20", "link_local", "linkLocal", 4],
    ["224.0.0.251", "multicast", "multicast", 4],
    ["255.255.255.255", "broadcast", "broadcast", 4],
    ["0.0.0.0", "unspecified", "unspecified", 4],
    ["192.0.2.1", "reserved", "reserved", 4],
    ["::1", "loopback", "loopback", 6],
    ["fe80::1", "link_local", "linkLocal", 6],
    ["fd00::1", "private", "uniqueLocal", 6],
    ["ff02::fb", "multicast", "multicast", 6],
    ["2607:f8b0:4005:80a::200e", "public", "unicast", 6],
    ["::", "unspecified", "unspecified", 6],
    ["2001:db8::1", "reserved", "reserved", 6],
  ])("%s is %s (%s)", (ip, type, range, version) => {
    expect(classifyIp(ip)).toEqual({ ip, type, range, version });
  });

  it("writes IPv4-mapped IPv6 as IPv4 and classifies that", () => {
    expect(classifyIp("::ffff:10.0.0.5")).toEqual({ ip: "10.0.0.5", type: "private", range: "private", version: 4 });
  });

  it("leaves what is not an address unclassified", () => {
    expect(classifyIp("LOCAL")).toBeUndefined();
    expect(classifyIp("")).toBeUndefined();
  });
});

describe("fingerprints", () => {
  it("groups runs of one command that differ in case, quoting, spacing, GUIDs, hex and long numbers", () => {
    const a = 'C:\\Windows\\System32\\rundll32.exe  "C:\\Users\\x\\AppData\\Local\\Temp\\{6A910B9D-498A-5EE0-C903-000000000400}.dll",Start 0x7ff6 4242';
    const b = 'c:\\windows\\system32\\RUNDLL32.EXE C:\\Users\\x\\AppData\\Local\\Temp\\{11111111-2222-3333-4444-555555555555}.dll,Start 0x1 9999';
    expect(normalizeCommandLine(a)).toBe("c:\\windows\\system32\\rundll32.exe c:\\users\\x\\appdata\\local\\temp\\{<guid>}.dll,start <hex> <num>");
    expect(commandLineFingerprint(a)).toBe(commandLineFingerprint(b));
    expect(commandLineFingerprint(a)).not.toBe(commandLineFingerprint("C:\\Windows\\System32\\rundll32.exe other.dll,Start"));
    expect(commandLineFingerprint(a)).toMatch(/^[0-9a-f]{40}$/);
  });

  it("keeps script blocks as code: only line endings and trailing spaces are normalized", () => {
    expect(scriptBlockFingerprint("Write-Host 'a'  \r\nexit\r\n")).toBe(scriptBlockFingerprint("Write-Host 'a'\nexit"));
    expect(scriptBlockFingerprint("Write-Host 'a'")).not.toBe(scriptBlockFingerprint("write-host 'a'"));
  });
});

describe("GeoIP and ASN (MaxMind databases, off by default)", () => {
  it("is off without databases: no geo fields on public addresses", async () => {
    expect(await openGeoIp({})).toBeUndefined();
    const [connection] = await realEvents("covenant_copy_smb_CreateRequest.zip", "Microsoft-Windows-Sysmon/Operational", 3);
    const doc = enriched({ ...connection!, DestinationIp: "8.8.8.8" });
    expect(doc.dst_ip_type).toBe("public");
    expect(doc.dst_geo).toBeUndefined();
    expect(doc.dst_as).toBeUndefined();
  });

  it("names the file and the problem when a database cannot be used", async () => {
    await expect(openGeoIp({ city: "/nonexistent/GeoLite2-City.mmdb" })).rejects.toThrow(/GeoIP city database \/nonexistent\/GeoLite2-City\.mmdb cannot be read: .*ENOENT/);
    const notMmdb = join(mkdtempSync(join(tmpdir(), "helk-geoip-")), "GeoLite2-ASN.mmdb");
    writeFileSync(notMmdb, "this is not a MaxMind database");
    await expect(openGeoIp({ asn: notMmdb })).rejects.toThrow(new RegExp(`GeoIP asn database ${notMmdb} cannot be read: `));
  });

  it("places what a resolver answers on public addresses only", async () => {
    const [connection] = await realEvents("covenant_copy_smb_CreateRequest.zip", "Microsoft-Windows-Sysmon/Operational", 3);
    const asked: string[] = [];
    const enricher = new Enricher({
      geo: { lookup: (ip) => (asked.push(ip), { geo: { country_iso_code: "US", location: { lat: 37.75, lon: -97.82 } }, as: { number: 15169, organization: "GOOGLE" } }) },
    });
    const outcome = enricher.enrich({ ...connection!, SourceIp: "10.0.0.7", DestinationIp: "8.8.8.8" }, { tag: undefined, now: 0 });
    if (!outcome.ok) throw new Error(outcome.reason);
    expect(asked).toEqual(["8.8.8.8"]);
    expect(outcome.event.doc).toMatchObject({ dst_geo: { country_iso_code: "US" }, dst_as: { number: 15169, organization: "GOOGLE" } });
    expect(outcome.event.doc.src_geo).toBeUndefined();
  });
});
