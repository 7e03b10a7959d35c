import type { TechniqueContext } from "../lib/contract/attack-fields.ts";
import type { AttackModel, Technique } from "./model.ts";

export type { TechniqueContext };

/**
 * ATT&CK id → technique context, for enrichment at line rate. Every answer for a known id is built once, frozen
 * and kept in a Map, so a lookup of a canonical id is one Map read and allocates nothing. A deprecated technique
 * (no replacement in ATT&CK) is still `found`: the contract has no separate status for it.
 */
export class AttackLookup {
  private constructor(private readonly contexts: ReadonlyMap<string, TechniqueContext>) {}

  static fromModel(model: AttackModel): AttackLookup {
    const contexts = new Map<string, TechniqueContext>();
    for (const technique of model.techniquesById.values()) {
      const replacement = finalReplacement(model, technique);
      const status = technique.revoked ? "revoked" : "found";
      const shown = replacement ?? technique;
      const parent = shown.parentId ? model.techniquesById.get(shown.parentId) : undefined;
      const context: TechniqueContext = {
        technique_id: shown.id,
        technique_name: shown.name,
        // Frozen because every event shares them; typed as plain arrays to match the contract type.
        tactics: Object.freeze([...shown.tactics]) as string[],
        platforms: Object.freeze([...shown.platforms]) as string[],
        is_subtechnique: shown.isSubtechnique,
        ...(parent ? { parent_id: parent.id, parent_name: parent.name } : {}),
        url: shown.url,
        status,
        requested_id: technique.id,
      };
      contexts.set(technique.id, Object.freeze(context));
    }
    return new AttackLookup(contexts);
  }

  /** Number of ids (techniques of any status) the lookup knows. */
  get size(): number {
    return this.contexts.size;
  }

  /** Context for an ATT&CK technique id; tolerant of case, whitespace and `T1055/011`. Never throws. */
  resolve(id: string): TechniqueContext {
    const hit = this.contexts.get(id);
    if (hit) return hit;
    const normalized = typeof id === "string" ? id.trim().toUpperCase().replace("/", ".") : String(id);
    return this.contexts.get(normalized) ?? { technique_id: normalized, status: "unknown", requested_id: normalized };
  }
}

/** Follows `revoked-by` to the technique that finally replaces a revoked one (guarding against cycles). */
function finalReplacement(model: AttackModel, technique: Technique): Technique | undefined {
  let current = technique;
  const seen = new Set<string>();
  while (current.revoked && current.revokedBy && !seen.has(current.id)) {
    seen.add(current.id);
    const next = model.techniquesById.get(current.revokedBy);
    if (!next) break;
    current = next;
  }
  return current === technique ? undefined : current;
}
