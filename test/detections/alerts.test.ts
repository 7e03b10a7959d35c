import { describe, expect, it } from "vitest";
import type { CoverageReport } from "../../attack/coverage.ts";
import { navigatorLayerSchema } from "../../attack/layer.ts";
import type { Technique } from "../../attack/model.ts";
import { alertActions, alertId, alertIndex, type MatchedEvent } from "../../detections/alerts.ts";
import { detectionGapLayer, detectionsLayer, GAP_STATES } from "../../detections/layer.ts";
import type { DetectionRule } from "../../detections/rules.ts";
import { nextCheckpoint } from "../../detections/scheduler.ts";

const rule = (id: string, techniques: string[]): DetectionRule => ({
  rule_id: id,
  title: `rule ${id}`,
  level: "high",
  status: "test",
  author: "tests",
  file: `${id}.yml`,
  tags: techniques.map((t) => `attack.${t.toLowerCase()}`),
  query: "event_id:1",
  fields: ["event_id"],
  attack: {
    techniques: techniques.map((t) => (t === "T9999" ? { technique_id: t, status: "unknown", requested_id: t } : { technique_id: t, technique_name: t, tactics: ["execution"], status: "found", requested_id: t })),
    tactics: ["execution"],
  },
});

const event = (id: string, timestamp: string, host = "wks01", indexedAt = "2026-12-02T10:00:00.000Z"): MatchedEvent => ({ index: "helk-events-2020.10.19", id, timestamp, indexedAt, host });

describe("alerts", () => {
  it("derive their id from rule, host and the event's hour, and land in the event day's index", () => {
    const a = event("a", "2020-10-19T03:30:46.330Z");
    expect(alertId("r1", a)).toBe(alertId("r1", event("b", "2020-10-19T03:59:59.999Z")));
    expect(alertId("r1", a)).not.toBe(alertId("r1", event("c", "2020-10-19T04:00:00.000Z")));
    expect(alertId("r1", a)).not.toBe(alertId("r2", a));
    expect(alertId("r1", a)).not.toBe(alertId("r1", event("a", "2020-10-19T03:30:46.330Z", "wks02")));
    expect(alertIndex(a)).toBe("helk-alerts-2020.10.19");
  });

  it("group one rule's matches per alert with first and last seen, as scripted upserts", () => {
    const events = [event("a", "2020-10-19T03:40:00.000Z"), event("b", "2020-10-19T03:30:00.000Z"), event("a", "2020-10-19T03:40:00.000Z"), event("c", "2020-10-19T05:00:00.000Z")];
    const actions = alertActions(rule("r1", ["T1059"]), events, new Date("2026-12-02T10:00:05.000Z")) as Record<string, any>[];
    expect(actions).toHaveLength(4);
    expect(actions[0]).toEqual({ update: { _index: "helk-alerts-2020.10.19", _id: alertId("r1", events[0]!), retry_on_conflict: 3 } });
    const alert = actions[1]!.script.params.alert;
    expect(alert).toMatchObject({ matched_event_ids: ["a", "b"], event_count: 2, first_seen: "2020-10-19T03:30:00.000Z", last_seen: "2020-10-19T03:40:00.000Z", host_name: "wks01" });
    expect(alert.rule).toMatchObject({ id: "r1", level: "high" });
    expect(actions[1]!.scripted_upsert).toBe(true);
    expect(actions[3]!.script.params.alert.matched_event_ids).toEqual(["c"]);
  });
});

describe("scheduler checkpoints", () => {
  const at = (ms: number) => event(String(ms), "2020-10-19T03:30:00.000Z", "h", new Date(ms).toISOString());
  it("move to the window's end when a run handled every match", () => {
    expect(nextCheckpoint([at(100), at(200)], 50, 1_000, 500)).toBe(1_000);
    expect(nextCheckpoint([], 50, 1_000, 500)).toBe(1_000);
  });
  it("continue from the last handled match when the page was full, and always make progress", () => {
    expect(nextCheckpoint([at(100), at(200)], 50, 1_000, 2)).toBe(200);
    expect(nextCheckpoint([at(200), at(200)], 50, 1_000, 2)).toBe(201);
  });
});

describe("detection coverage layers", () => {
  const technique = (id: string) => ({ id, name: id, tactics: ["execution"] }) as unknown as Technique;
  const report: CoverageReport = {
    attackVersion: "18.1",
    techniques: [
      { technique: technique("T1059"), score: 50, analyticsTotal: 2, analyticsCovered: ["AN1"], presentSources: [], observedCount: 0, groupNames: [], softwareNames: [] },
      { technique: technique("T1003"), score: 0, analyticsTotal: 1, analyticsCovered: [], presentSources: [], observedCount: 0, groupNames: [], softwareNames: [] },
      { technique: technique("T1105"), score: 100, analyticsTotal: 1, analyticsCovered: ["AN2"], presentSources: [], observedCount: 0, groupNames: [], softwareNames: [] },
    ],
    eventSources: [],
    unknownObserved: new Map(),
  };
  const rules = [rule("r1", ["T1059", "T9999"]), rule("r2", ["T1059", "T1003"])];

  it("score techniques by deployed rules, leaving out ids ATT&CK does not know", () => {
    const layer = detectionsLayer(report, rules);
    expect(navigatorLayerSchema.parse(layer)).toBeTruthy();
    expect(layer.techniques.map((t) => [t.techniqueID, t.score])).toEqual([["T1003", 1], ["T1059", 2]]);
  });

  it("show collected and detected, the gap, and rules without their events", () => {
    const layer = detectionGapLayer(report, rules);
    expect(layer.techniques.map((t) => [t.techniqueID, t.score])).toEqual([
      ["T1003", GAP_STATES.detectedOnly.score],
      ["T1059", GAP_STATES.both.score],
      ["T1105", GAP_STATES.collectedOnly.score],
    ]);
    expect(layer.legendItems).toHaveLength(3);
  });
});
