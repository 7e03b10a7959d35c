import { z } from "zod";
import type { CoverageReport } from "./coverage.ts";
import type { AttackModel } from "./model.ts";

/**
 * ATT&CK Navigator layer, format 4.5 (https://github.com/mitre-attack/attack-navigator, `layers/spec/v4.5`).
 * The schema checks the fields the format requires (name, versions, domain) and, for our layers, that every
 * technique has a techniqueID and a score.
 */
export const navigatorLayerSchema = z.object({
  name: z.string().min(1),
  versions: z.object({
    attack: z.string().regex(/^\d+(\.\d+)?$/),
    navigator: z.string().regex(/^\d+\.\d+(\.\d+)?$/),
    layer: z.literal("4.5"),
  }),
  domain: z.literal("enterprise-attack"),
  description: z.string().optional(),
  sorting: z.number().int().min(0).max(3).optional(),
  hideDisabled: z.boolean().optional(),
  techniques: z.array(
    z.object({
      techniqueID: z.string().regex(/^T\d{4}(\.\d{3})?$/),
      tactic: z.string().optional(),
      score: z.number(),
      color: z.string().optional(),
      comment: z.string().optional(),
      enabled: z.boolean().optional(),
      metadata: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
      showSubtechniques: z.boolean().optional(),
    }),
  ),
  gradient: z.object({ colors: z.array(z.string()).min(2), minValue: z.number(), maxValue: z.number() }).optional(),
  legendItems: z.array(z.object({ label: z.string(), color: z.string() })).optional(),
  metadata: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
});

export type NavigatorLayer = z.infer<typeof navigatorLayerSchema>;

/** Navigator release whose layer format is 4.5. */
const NAVIGATOR_VERSION = "5.1.0";

export function baseLayer(report: CoverageReport, name: string, description: string): Omit<NavigatorLayer, "techniques"> {
  return {
    name,
    description,
    versions: { attack: report.attackVersion.split(".")[0]!, navigator: NAVIGATOR_VERSION, layer: "4.5" },
    domain: "enterprise-attack",
    sorting: 3,
    hideDisabled: false,
  };
}

/** Techniques some collected event source can detect, scored 0..100 by analytic coverage. */
export function coverageLayer(report: CoverageReport, name = "HELK detection coverage"): NavigatorLayer {
  const techniques = report.techniques
    .filter((c) => c.score > 0)
    .map((c) => ({
      techniqueID: c.technique.id,
      score: c.score,
      comment: `${c.analyticsCovered.length} of ${c.analyticsTotal} analytics have their log sources collected`,
      metadata: [
        { name: "analytics", value: c.analyticsCovered.join(", ") },
        { name: "event sources", value: c.presentSources.join(", ") },
      ],
      showSubtechniques: true,
    }));
  return navigatorLayerSchema.parse({
    ...baseLayer(report, name, "Share of each technique's ATT&CK analytics whose Windows event sources are present in the engine"),
    techniques,
    gradient: { colors: ["#ff6666", "#ffe766", "#8ec843"], minValue: 0, maxValue: 100 },
  });
}

/** Techniques actually seen in tagged events, scored by event count. */
export function observedLayer(report: CoverageReport, name = "HELK observed techniques"): NavigatorLayer {
  const seen = report.techniques.filter((c) => c.observedCount > 0);
  return navigatorLayerSchema.parse({
    ...baseLayer(report, name, "Techniques tagged on events in the engine (mitre_technique_id / attack.technique_id), scored by event count"),
    techniques: seen.map((c) => ({ techniqueID: c.technique.id, score: c.observedCount, comment: `${c.observedCount} tagged events`, showSubtechniques: true })),
    gradient: { colors: ["#ffffff", "#66b1ff"], minValue: 0, maxValue: Math.max(1, ...seen.map((c) => c.observedCount)) },
  });
}

/** Plain-text coverage per tactic, in matrix order. */
export function coverageSummary(model: AttackModel, report: CoverageReport): string {
  const lines = [
    `ATT&CK ${report.attackVersion} coverage from ${report.eventSources.length} event sources ` +
      `(${report.eventSources.reduce((n, s) => n + s.count, 0)} events)`,
    "",
    `${"tactic".padEnd(22)} ${"techniques".padStart(10)} ${"detectable".padStart(10)} ${"avg score".padStart(9)} ${"observed".padStart(8)}`,
  ];
  for (const tactic of model.tactics) {
    const inTactic = report.techniques.filter((c) => c.technique.tactics.includes(tactic.shortname));
    const detectable = inTactic.filter((c) => c.score > 0).length;
    const avg = inTactic.length ? inTactic.reduce((n, c) => n + c.score, 0) / inTactic.length : 0;
    const observed = inTactic.filter((c) => c.observedCount > 0).length;
    lines.push(`${tactic.name.padEnd(22)} ${String(inTactic.length).padStart(10)} ${String(detectable).padStart(10)} ${avg.toFixed(1).padStart(9)} ${String(observed).padStart(8)}`);
  }
  const total = report.techniques.filter((c) => c.score > 0).length;
  lines.push("", `${total} of ${report.techniques.length} techniques have at least one analytic whose log source is collected.`);
  if (report.unknownObserved.size > 0) lines.push(`Tags ATT&CK does not know: ${[...report.unknownObserved.keys()].join(", ")}`);
  return lines.join("\n") + "\n";
}
