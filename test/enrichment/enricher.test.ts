import { describe, expect, it } from "vitest";
import { convertNxlogEvent } from "../../lib/replay.ts";
import { Enricher } from "../../enrichment/transforms/index.ts";
import { eventsOf, first, isSysmon, linesOf, WITH_RECORD_NUMBERS, WITHOUT_RECORD_NUMBERS } from "./samples.ts";

const lines = await linesOf(WITH_RECORD_NUMBERS);
const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
const processCreate = first(events, isSysmon(1), "Sysmon process create");
const enrich = (raw: string | Uint8Array | object, enricher = new Enricher()) => enricher.enrich(raw, { tag: undefined, receivedAt: Date.parse("2021-02-03T04:05:06Z") });

describe("the enrichment chain on a whole real recording", () => {
  it("enriches every event of a recording into a daily events index with a unique, stable id", () => {
    const enricher = new Enricher();
    const ids = new Set<string>();
    for (const line of lines) {
      const outcome = enrich(line, enricher);
      if (!outcome.ok) throw new Error(`rejected: ${outcome.reason}`);
      expect(outcome.event.index).toBe(`helk-events-${outcome.event.doc["@timestamp"].slice(0, 10).replaceAll("-", ".")}`);
      ids.add(outcome.event.id);
    }
    expect(ids.size).toBe(lines.length);
    // A replay (new enricher, same bytes, as bytes or winlogbeat 7 shape) gives the same ids.
    const again = new Enricher();
    expect(lines.slice(0, 50).map((l) => (enrich(Buffer.from(l), again) as { event: { id: string } }).event.id)).toEqual(
      lines.slice(0, 50).map((l) => (enrich(l, enricher) as { event: { id: string } }).event.id),
    );
    const asWinlogbeat = events.slice(0, 50).map((e) => (enrich(convertNxlogEvent(e, "winlogbeat7"), again) as { event: { id: string } }).event.id);
    expect(asWinlogbeat).toEqual(lines.slice(0, 50).map((l) => (enrich(l, enricher) as { event: { id: string } }).event.id));
  });

  it("ids events without a record number by their raw bytes: identical lines are one event", async () => {
    const raw = await linesOf(WITHOUT_RECORD_NUMBERS);
    expect(raw.some((l) => l.includes('"RecordNumber"'))).toBe(false);
    const ids = raw.map((l) => (enrich(l) as { event: { id: string } }).event.id);
    expect(new Set(ids).size).toBe(new Set(raw).size);
    expect(new Set(ids).size).toBeLessThan(raw.length); // the recording holds duplicated lines
  });

  it("adds kv tags and ATT&CK context from a tagged RuleName", () => {
    const tagged = { ...processCreate, RuleName: "technique_id=T1136,technique_name=Create Account" };
    const outcome = enrich(JSON.stringify(tagged));
    if (!outcome.ok) throw new Error(outcome.reason);
    expect(outcome.event.doc.rule_name).toBe("technique_id=T1136,technique_name=Create Account");
    expect(outcome.event.doc.mitre_technique_id).toBe("T1136");
    expect(outcome.event.doc.mitre_technique_name).toBe("Create Account");
    expect(outcome.event.doc.attack).toMatchObject({ technique_id: "T1136", requested_id: "T1136" });
  });
});

describe("bad input is rejected with a reason, never thrown", () => {
  const good = JSON.stringify(processCreate);
  it.each([
    ["unparseable JSON", good.slice(0, 100), /^not JSON/],
    ["binary garbage", Uint8Array.from([0xff, 0xfe, 0x00, 0x81, 0xc3, 0x28]), /not UTF-8/],
    ["a 2 MiB event", JSON.stringify({ ...processCreate, CommandLine: "A".repeat(2 * 1024 * 1024) }), /exceeds the 1048576-byte limit/],
    ["a 2 MiB event as bytes", Buffer.alloc(2 * 1024 * 1024, 0x20), /exceeds/],
    ["an unknown channel", JSON.stringify({ ...processCreate, Channel: "Totally/Made-Up" }), /unknown channel "Totally\/Made-Up"/],
    ["a wrong field type", JSON.stringify({ ...processCreate, SourcePort: { port: 1 }, ProcessId: true }), /ProcessId must be a non-negative integer, got boolean true/],
    ["an empty message", "", /^not JSON/],
    ["JSON that is not an object", "[1,2]", /not a JSON object/],
  ])("%s", (_what, raw, reason) => {
    const outcome = enrich(raw);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.reason).toMatch(reason);
  });
});
