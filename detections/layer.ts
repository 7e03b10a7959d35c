import type { CoverageReport } from "../attack/coverage.ts";
import { baseLayer, navigatorLayerSchema, type NavigatorLayer } from "../attack/layer.ts";
import type { DetectionRule } from "./rules.ts";

/** Deployed rules per ATT&CK technique (revoked tags counted under their replacement; unknown ids apart). */
export function rulesByTechnique(rules: readonly DetectionRule[]): { byTechnique: Map<string, DetectionRule[]>; unknown: Set<string> } {
  const byTechnique = new Map<string, DetectionRule[]>();
  const unknown = new Set<string>();
  for (const rule of rules) {
    for (const technique of rule.attack.techniques) {
      if (technique.status === "unknown") {
        unknown.add(technique.requested_id);
        continue;
      }
      const list = byTechnique.get(technique.technique_id) ?? [];
      if (!list.includes(rule)) list.push(rule);
      byTechnique.set(technique.technique_id, list);
    }
  }
  return { byTechnique, unknown };
}

/** Techniques the deployed Sigma rules detect, scored by how many rules do. */
export function detectionsLayer(report: CoverageReport, rules: readonly DetectionRule[], name = "HELK deployed detections"): NavigatorLayer {
  const { byTechnique } = rulesByTechnique(rules);
  const techniques = [...byTechnique].sort(([a], [b]) => a.localeCompare(b)).map(([id, list]) => ({
    techniqueID: id,
    score: list.length,
    comment: `${list.length} deployed Sigma rules`,
    metadata: list.slice(0, 20).map((rule) => ({ name: rule.level ?? "rule", value: `${rule.title} (${rule.rule_id})` })),
    showSubtechniques: true,
  }));
  return navigatorLayerSchema.parse({
    ...baseLayer(report, name, `Techniques tagged on the ${rules.length} Sigma rules deployed to the scheduler, scored by rule count`),
    techniques,
    gradient: { colors: ["#ffffff", "#a066ff"], minValue: 0, maxValue: Math.max(1, ...techniques.map((t) => t.score)) },
  });
}

/** What a technique has in the stack: events collected for it, rules detecting it, both, or neither (left out). */
export const GAP_STATES = {
  both: { score: 3, color: "#8ec843", label: "collected and detected" },
  collectedOnly: { score: 2, color: "#ffe766", label: "collected, no deployed rule (the gap)" },
  detectedOnly: { score: 1, color: "#ff9966", label: "rule deployed, its events not collected" },
} as const;

/**
 * Collected (the data-source coverage layer's score > 0) against detected (a deployed rule): the techniques a
 * hunter can see but no rule watches, and the rules whose events never arrive.
 */
export function detectionGapLayer(report: CoverageReport, rules: readonly DetectionRule[], name = "HELK collected vs detected"): NavigatorLayer {
  const { byTechnique } = rulesByTechnique(rules);
  const collected = new Set(report.techniques.filter((c) => c.score > 0).map((c) => c.technique.id));
  const ids = [...new Set([...collected, ...byTechnique.keys()])].sort();
  const techniques = ids.map((id) => {
    const state = collected.has(id) ? (byTechnique.has(id) ? GAP_STATES.both : GAP_STATES.collectedOnly) : GAP_STATES.detectedOnly;
    return { techniqueID: id, score: state.score, color: state.color, comment: `${state.label}; ${byTechnique.get(id)?.length ?? 0} rules`, showSubtechniques: true };
  });
  return navigatorLayerSchema.parse({
    ...baseLayer(report, name, "Techniques whose events are collected, detected by a deployed rule, or both"),
    techniques,
    legendItems: Object.values(GAP_STATES).map(({ label, color }) => ({ label, color })),
  });
}
