import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { loadAttackBundle, type AttackModel } from "../../attack/bundle.ts";
import { computeCoverage, countEvents, type CoverageReport } from "../../attack/coverage.ts";
import { coverageLayer, coverageSummary, navigatorLayerSchema, observedLayer } from "../../attack/layer.ts";
import { AttackLookup } from "../../attack/lookup.ts";
import { attackBundlePath } from "../../lib/data.ts";
import { recording, recordingEvents } from "../../lib/datasets.ts";

const RECORDING = "cmd_process_herpaderping_snippingtool.zip";

let model: AttackModel;
let lookup: AttackLookup;
let report: CoverageReport;
/** (channel, EventID) pairs of the recording, lower-cased, counted by this test itself from the raw lines. */
const rawPairs = new Set<string>();

beforeAll(async () => {
  model = await loadAttackBundle(attackBundlePath());
  lookup = AttackLookup.fromModel(model);
  const path = recording(RECORDING).path;
  for await (const event of recordingEvents(path)) rawPairs.add(`${String(event.Channel).toLowerCase()}|${event.EventID}`);
  const counts = await countEvents(recordingEvents(path));
  report = computeCoverage(model, lookup, counts.eventSources, counts.observed);
});

/**
 * Independent of attack/model.ts and attack/logsources.ts: technique id → the log source references of the
 * analytics of the strategies that detect it, read straight from the raw STIX JSON.
 */
function rawLogSourcesByTechnique(): Map<string, { name: string; channel: string }[]> {
  const bundle = JSON.parse(gunzipSync(readFileSync(attackBundlePath())).toString()) as { objects: Record<string, any>[] };
  const byId = new Map(bundle.objects.map((o) => [o.id as string, o]));
  const attackId = (o: Record<string, any>) => o.external_references.find((r: any) => r.source_name === "mitre-attack").external_id as string;
  const out = new Map<string, { name: string; channel: string }[]>();
  for (const rel of bundle.objects) {
    if (rel.type !== "relationship" || rel.relationship_type !== "detects" || rel.revoked) continue;
    const strategy = byId.get(rel.source_ref)!;
    const technique = byId.get(rel.target_ref)!;
    const refs = (strategy.x_mitre_analytic_refs as string[]).flatMap((a) => byId.get(a)!.x_mitre_log_source_references ?? []);
    out.set(attackId(technique), [...(out.get(attackId(technique)) ?? []), ...refs]);
  }
  return out;
}

describe("coverage of a replayed Security-Datasets recording", () => {
  it("counts the recording's Sysmon and Security event sources", () => {
    const channels = new Set(report.eventSources.map((s) => s.channel.toLowerCase()));
    expect(channels).toContain("microsoft-windows-sysmon/operational");
    expect(channels).toContain("security");
    expect(report.eventSources.reduce((n, s) => n + s.count, 0)).toBe(282);
  });

  it("gives a non-empty layer whose every technique has a Sysmon or Security analytic source present in the recording", () => {
    const layer = coverageLayer(report);
    expect(navigatorLayerSchema.safeParse(layer).success).toBe(true);
    expect(layer.techniques.length).toBeGreaterThan(10);
    const raw = rawLogSourcesByTechnique();
    const shortChannel: Record<string, string> = { "WinEventLog:Sysmon": "microsoft-windows-sysmon/operational", "WinEventLog:Security": "security" };
    for (const entry of layer.techniques) {
      const present = (raw.get(entry.techniqueID) ?? []).some((ref) => {
        const channel = shortChannel[ref.name];
        const codes = /^EventCode=/.test(ref.channel) ? ref.channel.match(/\d+/g) ?? [] : [];
        return channel !== undefined && codes.some((code) => rawPairs.has(`${channel}|${code}`));
      });
      expect(present, `${entry.techniqueID} has no Sysmon/Security analytic source in ${RECORDING}`).toBe(true);
      expect(entry.score).toBeGreaterThan(0);
      expect(entry.score).toBeLessThanOrEqual(100);
    }
  });

  it("scores a technique by the share of its analytics whose sources are present", () => {
    for (const c of report.techniques) {
      expect(c.score).toBe(c.analyticsTotal ? Math.round((100 * c.analyticsCovered.length) / c.analyticsTotal) : 0);
    }
    // Nothing collected means nothing detectable.
    const empty = computeCoverage(model, lookup, []);
    expect(empty.techniques.every((c) => c.score === 0)).toBe(true);
    expect(coverageLayer(empty).techniques).toEqual([]);
    // Restricting to Windows analytics can only raise a technique's share.
    const windows = computeCoverage(model, lookup, report.eventSources, new Map(), { platforms: ["Windows"] });
    const processInjection = (r: CoverageReport) => r.techniques.find((c) => c.technique.id === "T1055")!;
    expect(processInjection(windows).analyticsTotal).toBeLessThan(processInjection(report).analyticsTotal);
    expect(processInjection(windows).score).toBeGreaterThanOrEqual(processInjection(report).score);
  });

  it("writes a per-tactic plain-text summary in matrix order", () => {
    const summary = coverageSummary(model, report);
    const tacticLines = summary.split("\n").filter((line) => model.tactics.some((t) => line.startsWith(t.name)));
    expect(tacticLines.map((l) => l.split(/\s{2,}/)[0]!.trim())).toEqual(model.tactics.map((t) => t.name));
    expect(summary).toContain(`${coverageLayer(report).techniques.length} of 691 techniques`);
  });
});

describe("observed-techniques layer", () => {
  it("counts tagged events per technique, revoked tags under their replacement, unknown ones apart", async () => {
    const events = [
      { channel: "Security", event_id: 4720, mitre_technique_id: "T1136.001" },
      { channel: "Security", event_id: 4720, attack: { technique_id: "T1136.001" }, mitre_technique_id: "T1136.001" },
      { Channel: "Microsoft-Windows-Sysmon/Operational", EventID: 1, mitre_technique_id: "T1066" },
      { Channel: "Microsoft-Windows-Sysmon/Operational", EventID: 1, mitre_technique_id: "T1027.005" },
      { channel: "Security", event_id: 4624, mitre_technique_id: "T9999" },
    ];
    const counts = await countEvents(events);
    const observed = computeCoverage(model, lookup, counts.eventSources, counts.observed);
    const layer = observedLayer(observed);
    expect(navigatorLayerSchema.safeParse(layer).success).toBe(true);
    expect(layer.techniques.map((t) => [t.techniqueID, t.score])).toEqual([["T1027.005", 2], ["T1136.001", 2]]);
    expect([...observed.unknownObserved]).toEqual([["T9999", 1]]);
    expect(coverageSummary(model, observed)).toContain("Tags ATT&CK does not know: T9999");
  });
});

describe("Navigator layer schema", () => {
  it("rejects layers missing the format's required fields or a technique's id or score", () => {
    const layer = coverageLayer(report);
    const without = (key: string) => Object.fromEntries(Object.entries(layer).filter(([k]) => k !== key));
    for (const key of ["name", "versions", "domain", "techniques"]) expect(navigatorLayerSchema.safeParse(without(key)).success, key).toBe(false);
    expect(navigatorLayerSchema.safeParse({ ...layer, versions: { ...layer.versions, layer: "4.4" } }).success).toBe(false);
    expect(navigatorLayerSchema.safeParse({ ...layer, domain: "mobile-attack" }).success).toBe(false);
    expect(navigatorLayerSchema.safeParse({ ...layer, techniques: [{ score: 1 }] }).success).toBe(false);
    expect(navigatorLayerSchema.safeParse({ ...layer, techniques: [{ techniqueID: "T1136" }] }).success).toBe(false);
    expect(layer).toMatchObject({ versions: { attack: "18", layer: "4.5" }, domain: "enterprise-attack" });
  });
});
