import { describe, expect, it } from "vitest";
import { dailyIndex, EVENTS_INDEX_PREFIX } from "../../enrichment/transforms/document-id.ts";
import { DEFAULT_CLOCK_SKEW_THRESHOLD_SECONDS, Enricher, type IndexAction } from "../../enrichment/transforms/index.ts";
import { recordingEvents } from "../../lib/datasets.ts";
import { expectedJoins } from "./raw-expectations.ts";
import { CLOCK_SHIFTS, isConnection, SKEW_RECORDINGS, withShiftedUtcTime } from "./skewed-recordings.ts";

const recorded: Record<string, unknown>[] = [];
for (const path of SKEW_RECORDINGS) for await (const e of recordingEvents(path)) recorded.push(e);

describe.each(CLOCK_SHIFTS)("connections whose host clock moved $label after their process (process in the cache)", ({ ms }) => {
  const events = recorded.map((e) => (isConnection(e) ? withShiftedUtcTime(e, ms) : e));
  const expected = expectedJoins(events);
  const enricher = new Enricher<number>();
  const joined: IndexAction[] = [];
  const connections: IndexAction[] = [];
  events.forEach((e, i) => {
    const outcome = enricher.enrich(JSON.stringify(e), { tag: i, now: i });
    if (!outcome.ok) throw new Error(`event ${i} rejected: ${outcome.reason}`);
    joined.push(...outcome.joined);
    if (isConnection(e)) connections.push(outcome.event);
  });
  const unjoined = enricher.expire(Number.MAX_SAFE_INTEGER);

  it("joins exactly the connections an independent computation (same host and ProcessGuid) joins", () => {
    expect(expected.size).toBe(33);
    expect(joined).toHaveLength(expected.size);
    expect(new Set(joined.map((j) => `${j.doc.host_name}|${j.doc.record_number}`))).toEqual(new Set(expected.keys()));
    expect(unjoined).toHaveLength(connections.length - expected.size);
    for (const j of joined) expect(j.doc.process_path).toBe(expected.get(`${j.doc.host_name}|${j.doc.record_number}`)!.image);
  });

  it("records both event times and the skew against the shipper's time, flagged", () => {
    for (const j of joined) {
      const process = events.find((e) => e.EventID === 1 && `${String(e.Hostname).toLowerCase()}|${String(e.ProcessGuid).toLowerCase()}` === j.doc.join_key)!;
      expect(j.doc.process_timestamp).toBe(`${String(process.UtcTime).replace(" ", "T")}Z`);
      expect(j.doc.shipper_timestamp).toBeDefined();
      // The recordings' own shipping delays are seconds; the shift is days.
      expect(Math.abs(j.doc.clock_skew_seconds! - ms / 1000)).toBeLessThan(DEFAULT_CLOCK_SKEW_THRESHOLD_SECONDS);
      expect(j.doc.clock_skewed).toBe(true);
      expect(j.index).toBe(dailyIndex("helk-process-network-", j.doc["@timestamp"]));
    }
  });

  it("files each connection by its own (shifted) time, the shipper's time beside it", () => {
    for (const c of connections) {
      expect(c.index).toBe(dailyIndex(EVENTS_INDEX_PREFIX, c.doc["@timestamp"]));
      expect(c.doc.clock_skew_seconds).toBe((Date.parse(c.doc["@timestamp"]) - Date.parse(c.doc.shipper_timestamp!)) / 1000);
    }
    const processCreate = enricher.enrich(JSON.stringify(events.find((e) => e.EventID === 1 && e.Channel === "Microsoft-Windows-Sysmon/Operational")), { tag: -1 });
    expect(processCreate.ok && processCreate.event.doc.clock_skewed).toBeUndefined();
  });
});

describe("the skew of events as recorded (event and shipper time on one day; the shifted days are checked above)", () => {
  it("equals the distance of the two parsed times", () => {
    const enricher = new Enricher<number>();
    let sameDay = 0;
    recorded.forEach((e, i) => {
      const outcome = enricher.enrich(JSON.stringify(e), { tag: i, now: i });
      if (!outcome.ok || outcome.event.doc.shipper_timestamp === undefined) return;
      const { "@timestamp": time, shipper_timestamp: shipper, clock_skew_seconds: skew } = outcome.event.doc;
      expect(skew, `${time} - ${shipper}`).toBe((Date.parse(time) - Date.parse(shipper)) / 1000);
      if (time.slice(0, 10) === shipper.slice(0, 10)) sameDay++;
    });
    expect(sameDay).toBeGreaterThan(1000);
  });
});
