import type { Engine } from "../lib/engine.ts";
import { indexStamp, replaceAliasedIndex, type AliasedIndexResult, type ProgressListener } from "./aliased-index.ts";
import { AttackLookup } from "./lookup.ts";
import { analyticsOf, type AttackModel } from "./model.ts";
import { ATTACK_INDEX_MAPPINGS } from "../lib/contract/attack-fields.ts";
import { ATTACK_ALIAS } from "../lib/contract/names.ts";

/** One document per technique (revoked and deprecated included, so old tags can still be looked up). */
export function attackDocuments(model: AttackModel): { id: string; doc: Record<string, unknown> }[] {
  const lookup = AttackLookup.fromModel(model);
  return [...model.techniquesById.values()].map((t) => {
    const context = lookup.resolve(t.id);
    const analytics = analyticsOf(model, t);
    const logSources = analytics.flatMap((a) => a.logSources);
    return {
      id: t.id,
      doc: {
        attack_version: model.version,
        technique_id: t.id,
        technique_name: t.name,
        tactics: t.tactics,
        platforms: t.platforms,
        is_subtechnique: t.isSubtechnique,
        parent_id: t.parentId,
        parent_name: t.parentId ? model.techniquesById.get(t.parentId)?.name : undefined,
        url: t.url,
        status: context.status,
        deprecated: t.deprecated,
        revoked: t.revoked,
        replaced_by: context.technique_id === t.id ? undefined : context.technique_id,
        groups: t.groups,
        group_names: t.groups.map((id) => model.groups.get(id)!.name),
        software: t.software,
        software_names: t.software.map((id) => model.software.get(id)!.name),
        mitigations: t.mitigations,
        mitigation_names: t.mitigations.map((id) => model.mitigations.get(id)!.name),
        detection_strategies: t.detectionStrategies,
        analytics: analytics.map((a) => a.id),
        log_sources: [...new Set(logSources.map((s) => `${s.name} ${s.channel}`))],
        event_sources: [...new Set(logSources.flatMap((s) => s.events.map((e) => `${e.channel}:${e.eventId}`)))],
      },
    };
  });
}

/** Loads the model into a new `helk-mitre-attack-<version>-<stamp>` index and swaps the alias onto it. */
export async function indexAttackModel(engine: Engine, model: AttackModel, onProgress?: ProgressListener): Promise<AliasedIndexResult> {
  return replaceAliasedIndex(engine, {
    alias: ATTACK_ALIAS,
    index: `${ATTACK_ALIAS}-${model.version.toLowerCase()}-${indexStamp()}`,
    mappings: ATTACK_INDEX_MAPPINGS,
    docs: attackDocuments(model),
    onProgress,
    // Small batches so `helk attack load` shows progress; ~850 docs make the extra requests negligible.
    batchSize: 250,
  });
}
