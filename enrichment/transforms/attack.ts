import type { AttackLookup, TechniqueContext } from "../../attack/lookup.ts";

export type { TechniqueContext } from "../../attack/lookup.ts";

/** What the transform needs from the ATT&CK knowledge base (`AttackLookup` from `attack/lookup.ts`). */
export type TechniqueResolver = Pick<AttackLookup, "resolve">;

/** Resolves every id as unknown: for running without an ATT&CK bundle (events are still indexed). */
export const noAttackKnowledge: TechniqueResolver = {
  resolve: (id) => ({ technique_id: id, requested_id: id, status: "unknown" }),
};

/** The `attack` context of the kv-parsed `mitre_technique_id` (the first one, when a rule tagged several). */
export function attackContext(resolver: TechniqueResolver, techniqueIds: unknown): TechniqueContext | undefined {
  const id = Array.isArray(techniqueIds) ? techniqueIds[0] : techniqueIds;
  return typeof id === "string" ? resolver.resolve(id) : undefined;
}
