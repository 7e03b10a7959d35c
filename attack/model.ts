import { eventSourcesOf, type EventSource } from "./logsources.ts";
import { AttackBundleError, attackReference, type StixObjects } from "./stix.ts";

/** A tactic, e.g. TA0003 Persistence (`persistence`). */
export interface Tactic {
  stixId: string;
  id: string;
  shortname: string;
  name: string;
  url: string;
}

/** A technique or sub-technique, including deprecated and revoked ones. */
export interface Technique {
  stixId: string;
  id: string;
  name: string;
  url: string;
  /** Tactic shortnames in matrix order. */
  tactics: readonly string[];
  platforms: readonly string[];
  isSubtechnique: boolean;
  /** ATT&CK id of the parent technique (sub-techniques only). */
  parentId?: string;
  deprecated: boolean;
  revoked: boolean;
  /** ATT&CK id of the technique that replaces a revoked one (from `revoked-by`). */
  revokedBy?: string;
  /** ATT&CK ids of the groups, software and mitigations related to this technique. */
  groups: readonly string[];
  software: readonly string[];
  mitigations: readonly string[];
  /** ATT&CK ids (DETxxxx) of the detection strategies that detect this technique. */
  detectionStrategies: readonly string[];
}

export interface Group {
  stixId: string;
  id: string;
  name: string;
  aliases: readonly string[];
  url: string;
}

export interface Software {
  stixId: string;
  id: string;
  name: string;
  kind: "malware" | "tool";
  url: string;
}

export interface Mitigation {
  stixId: string;
  id: string;
  name: string;
  url: string;
}

/** One log source an analytic reads, with the Windows (channel, event id) pairs it maps to. */
export interface LogSource {
  name: string;
  channel: string;
  events: readonly EventSource[];
}

export interface Analytic {
  stixId: string;
  id: string;
  name: string;
  platforms: readonly string[];
  logSources: readonly LogSource[];
}

export interface DetectionStrategy {
  stixId: string;
  id: string;
  name: string;
  /** ATT&CK ids of the analytics (ANxxxx), in the strategy's order. */
  analytics: readonly string[];
  /** ATT&CK ids of the techniques it detects. */
  techniques: readonly string[];
}

/** Enterprise ATT&CK as HELK uses it. Lists hold active (not revoked, not deprecated) objects unless named otherwise. */
export interface AttackModel {
  /** ATT&CK release, e.g. `18.1` (from the collection object, else the source name, else `unknown`). */
  version: string;
  specVersion: "2.0" | "2.1";
  /** Tactics in matrix order. */
  tactics: readonly Tactic[];
  /** Every technique in the bundle, revoked and deprecated included, by ATT&CK id. */
  techniquesById: ReadonlyMap<string, Technique>;
  /** Active techniques and sub-techniques. */
  techniques: readonly Technique[];
  groups: ReadonlyMap<string, Group>;
  software: ReadonlyMap<string, Software>;
  mitigations: ReadonlyMap<string, Mitigation>;
  detectionStrategies: ReadonlyMap<string, DetectionStrategy>;
  analytics: ReadonlyMap<string, Analytic>;
}

const isActive = (o: { revoked?: boolean; x_mitre_deprecated?: boolean }): boolean => !o.revoked && !o.x_mitre_deprecated;

/** Builds the model from validated STIX objects; `sourceName` helps find the release when the bundle does not say. */
export function buildAttackModel(stix: StixObjects, sourceName: string, version?: string): AttackModel {
  const attackIdByStixId = new Map<string, string>();
  const remember = <T extends { id: string; external_references: { source_name: string; external_id?: string; url?: string }[] }>(
    o: T,
  ): { attackId: string; url: string } => {
    const ref = attackReference(o);
    attackIdByStixId.set(o.id, ref.attackId);
    return ref;
  };

  const tacticsByStixId = new Map<string, Tactic>();
  for (const t of stix.tactics.filter(isActive)) {
    const { attackId, url } = remember(t);
    tacticsByStixId.set(t.id, { stixId: t.id, id: attackId, shortname: t.x_mitre_shortname, name: t.name, url });
  }
  const matrix = stix.matrices.find(isActive);
  if (!matrix) throw new AttackBundleError("ATT&CK bundle has no active x-mitre-matrix, so tactic order is unknown");
  const tactics = matrix.tactic_refs.map((ref, i) => {
    const tactic = tacticsByStixId.get(ref);
    if (!tactic) throw new AttackBundleError(`object ${matrix.id}: field tactic_refs[${i}]: ${ref} is not an active tactic in the bundle`, matrix.id, `tactic_refs[${i}]`);
    return tactic;
  });
  const tacticRank = new Map(tactics.map((t, i) => [t.shortname, i]));

  const groups = new Map<string, Group>();
  for (const g of stix.groups.filter(isActive)) {
    const { attackId, url } = remember(g);
    groups.set(attackId, { stixId: g.id, id: attackId, name: g.name, aliases: g.aliases ?? [], url });
  }
  const software = new Map<string, Software>();
  for (const s of stix.software.filter(isActive)) {
    const { attackId, url } = remember(s);
    software.set(attackId, { stixId: s.id, id: attackId, name: s.name, kind: s.type, url });
  }
  const mitigations = new Map<string, Mitigation>();
  for (const m of stix.mitigations.filter(isActive)) {
    const { attackId, url } = remember(m);
    mitigations.set(attackId, { stixId: m.id, id: attackId, name: m.name, url });
  }
  const analytics = new Map<string, Analytic>();
  for (const a of stix.analytics.filter(isActive)) {
    const { attackId } = remember(a);
    const logSources = (a.x_mitre_log_source_references ?? []).map((ref) => ({
      name: ref.name,
      channel: ref.channel,
      events: eventSourcesOf(ref),
    }));
    analytics.set(attackId, { stixId: a.id, id: attackId, name: a.name, platforms: a.x_mitre_platforms ?? [], logSources });
  }
  for (const t of stix.techniques) remember(t);
  for (const s of stix.detectionStrategies.filter(isActive)) remember(s);

  // Relationships, collected per technique stix id before the technique objects are frozen into the model.
  const related = new Map<string, { groups: Set<string>; software: Set<string>; mitigations: Set<string>; strategies: Set<string> }>();
  const relatedOf = (stixId: string) => {
    let r = related.get(stixId);
    if (!r) related.set(stixId, (r = { groups: new Set(), software: new Set(), mitigations: new Set(), strategies: new Set() }));
    return r;
  };
  const parentOf = new Map<string, string>();
  const revokedBy = new Map<string, string>();
  const strategyTechniques = new Map<string, string[]>();
  for (const rel of stix.relationships) {
    if (rel.revoked || rel.x_mitre_deprecated) continue;
    const source = attackIdByStixId.get(rel.source_ref);
    const target = attackIdByStixId.get(rel.target_ref);
    // Relationships to objects that are revoked or deprecated (and so not in the model) are dropped.
    if (!source || !target) continue;
    const sourceType = rel.source_ref.slice(0, rel.source_ref.indexOf("--"));
    const targetIsTechnique = rel.target_ref.startsWith("attack-pattern--");
    if (rel.relationship_type === "revoked-by") {
      if (rel.source_ref.startsWith("attack-pattern--")) revokedBy.set(source, target);
    } else if (rel.relationship_type === "subtechnique-of") {
      parentOf.set(source, target);
    } else if (rel.relationship_type === "uses" && targetIsTechnique) {
      if (sourceType === "intrusion-set" && groups.has(source)) relatedOf(rel.target_ref).groups.add(source);
      else if ((sourceType === "malware" || sourceType === "tool") && software.has(source)) relatedOf(rel.target_ref).software.add(source);
    } else if (rel.relationship_type === "mitigates" && targetIsTechnique && mitigations.has(source)) {
      relatedOf(rel.target_ref).mitigations.add(source);
    } else if (rel.relationship_type === "detects" && targetIsTechnique && sourceType === "x-mitre-detection-strategy") {
      relatedOf(rel.target_ref).strategies.add(source);
      strategyTechniques.set(source, [...(strategyTechniques.get(source) ?? []), target]);
    }
  }

  const detectionStrategies = new Map<string, DetectionStrategy>();
  for (const s of stix.detectionStrategies.filter(isActive)) {
    const { attackId } = attackReference(s);
    const analyticIds = s.x_mitre_analytic_refs.map((ref) => attackIdByStixId.get(ref)).filter((id): id is string => id !== undefined && analytics.has(id));
    detectionStrategies.set(attackId, { stixId: s.id, id: attackId, name: s.name, analytics: analyticIds, techniques: strategyTechniques.get(attackId) ?? [] });
  }

  const techniquesById = new Map<string, Technique>();
  for (const t of stix.techniques) {
    const { attackId, url } = attackReference(t);
    const r = relatedOf(t.id);
    const tacticNames = [...new Set((t.kill_chain_phases ?? []).filter((p) => p.kill_chain_name === "mitre-attack").map((p) => p.phase_name))];
    tacticNames.sort((a, b) => (tacticRank.get(a) ?? Infinity) - (tacticRank.get(b) ?? Infinity));
    const isSubtechnique = t.x_mitre_is_subtechnique ?? attackId.includes(".");
    techniquesById.set(attackId, {
      stixId: t.id,
      id: attackId,
      name: t.name,
      url,
      tactics: tacticNames,
      platforms: t.x_mitre_platforms ?? [],
      isSubtechnique,
      parentId: isSubtechnique ? (parentOf.get(attackId) ?? attackId.split(".")[0]) : undefined,
      deprecated: t.x_mitre_deprecated ?? false,
      revoked: t.revoked ?? false,
      revokedBy: revokedBy.get(attackId),
      groups: [...r.groups].sort(),
      software: [...r.software].sort(),
      mitigations: [...r.mitigations].sort(),
      detectionStrategies: [...r.strategies].filter((id) => detectionStrategies.has(id)).sort(),
    });
  }
  const techniques = [...techniquesById.values()].filter((t) => !t.revoked && !t.deprecated).sort((a, b) => compareAttackIds(a.id, b.id));

  return {
    version: version ?? stix.collections[0]?.x_mitre_version ?? /(\d+\.\d+)/.exec(sourceName.replace(/^.*[/\\]/, ""))?.[1] ?? "unknown",
    specVersion: stix.specVersion,
    tactics,
    techniquesById,
    techniques,
    groups,
    software,
    mitigations,
    detectionStrategies,
    analytics,
  };
}

/** Orders `T1003` < `T1003.001` < `T1005` (numeric, parent before its sub-techniques). */
function compareAttackIds(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

/** The analytics behind a technique, through its detection strategies (each analytic once). */
export function analyticsOf(model: AttackModel, technique: Technique): Analytic[] {
  const ids = new Set(technique.detectionStrategies.flatMap((s) => model.detectionStrategies.get(s)?.analytics ?? []));
  return [...ids].map((id) => model.analytics.get(id)!);
}
