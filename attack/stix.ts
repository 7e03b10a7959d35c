import { z } from "zod";

/**
 * Strict schemas for the STIX objects HELK reads from an ATT&CK bundle.
 *
 * Why our own schema and not `@mitre-attack/attack-data-model` (ADM): the only ADM on npm, 4.10.1, was tried
 * offline against the v18.1 bundle and does not fit: (1) it does not even import next to our zod 4.6.7 (its
 * discriminated unions crash at module load; it works with zod 4.3.6 only); (2) it accepts STIX 2.1 only, so
 * every object of a STIX 2.0 bundle (`mitre/cti`, our test data) fails on `spec_version`; (3) with `spec_version`
 * patched in, it still rejects 832 of 835 v18.1 techniques (empty `x_mitre_detection`, which v18 moved into
 * detection strategies), 790 relationships and 224 mitigations; it targets ATT&CK v15–v17 (v18 support is
 * announced for its 5.x line). These schemas cover STIX 2.0 and 2.1 and check exactly the fields the model
 * reads; other fields pass through untouched.
 */

const stixId = (type: string) =>
  z.string().regex(new RegExp(`^${type.replace(/[-]/g, "\\-")}--[0-9a-f-]{36}$`), `a ${type}--<uuid> id`);
const anyStixId = z.string().regex(/^[a-z0-9-]+--[0-9a-f-]{36}$/, "a <type>--<uuid> id");

const externalReference = z.looseObject({
  source_name: z.string(),
  external_id: z.string().optional(),
  url: z.string().optional(),
});

/** Fields every ATT&CK object we read shares. STIX 2.1 objects add `spec_version`; 2.0 objects have none. */
const common = {
  id: anyStixId,
  spec_version: z.enum(["2.0", "2.1"]).optional(),
  name: z.string().min(1),
  revoked: z.boolean().optional(),
  x_mitre_deprecated: z.boolean().optional(),
  external_references: z.array(externalReference).min(1),
};

const killChainPhase = z.looseObject({ kill_chain_name: z.string(), phase_name: z.string().min(1) });

export const attackPatternSchema = z.looseObject({
  ...common,
  type: z.literal("attack-pattern"),
  id: stixId("attack-pattern"),
  kill_chain_phases: z.array(killChainPhase).optional(),
  x_mitre_platforms: z.array(z.string()).optional(),
  x_mitre_is_subtechnique: z.boolean().optional(),
});

export const tacticSchema = z.looseObject({
  ...common,
  type: z.literal("x-mitre-tactic"),
  id: stixId("x-mitre-tactic"),
  x_mitre_shortname: z.string().min(1),
});

export const matrixSchema = z.looseObject({
  ...common,
  type: z.literal("x-mitre-matrix"),
  id: stixId("x-mitre-matrix"),
  tactic_refs: z.array(stixId("x-mitre-tactic")).min(1),
});

export const groupSchema = z.looseObject({
  ...common,
  type: z.literal("intrusion-set"),
  id: stixId("intrusion-set"),
  aliases: z.array(z.string()).optional(),
});

export const softwareSchema = z.looseObject({
  ...common,
  type: z.enum(["malware", "tool"]),
  x_mitre_platforms: z.array(z.string()).optional(),
});

export const mitigationSchema = z.looseObject({
  ...common,
  type: z.literal("course-of-action"),
  id: stixId("course-of-action"),
});

export const detectionStrategySchema = z.looseObject({
  ...common,
  type: z.literal("x-mitre-detection-strategy"),
  id: stixId("x-mitre-detection-strategy"),
  x_mitre_analytic_refs: z.array(stixId("x-mitre-analytic")),
});

const logSourceReferenceSchema = z.looseObject({
  x_mitre_data_component_ref: stixId("x-mitre-data-component").optional(),
  name: z.string().min(1),
  channel: z.string(),
});

export const analyticSchema = z.looseObject({
  ...common,
  type: z.literal("x-mitre-analytic"),
  id: stixId("x-mitre-analytic"),
  x_mitre_platforms: z.array(z.string()).optional(),
  x_mitre_log_source_references: z.array(logSourceReferenceSchema).optional(),
});

export const relationshipSchema = z.looseObject({
  type: z.literal("relationship"),
  id: stixId("relationship"),
  spec_version: z.enum(["2.0", "2.1"]).optional(),
  relationship_type: z.string().min(1),
  source_ref: anyStixId,
  target_ref: anyStixId,
  revoked: z.boolean().optional(),
  x_mitre_deprecated: z.boolean().optional(),
});

export const collectionSchema = z.looseObject({
  type: z.literal("x-mitre-collection"),
  id: stixId("x-mitre-collection"),
  name: z.string(),
  x_mitre_version: z.string().optional(),
});

/** Objects of any other type only need a type and a well-formed id. */
const otherObjectSchema = z.looseObject({ type: z.string().min(1), id: anyStixId });

export const bundleSchema = z.looseObject({
  type: z.literal("bundle"),
  id: stixId("bundle"),
  spec_version: z.enum(["2.0", "2.1"]).optional(),
  objects: z.array(z.unknown()),
});

export type AttackPattern = z.infer<typeof attackPatternSchema>;
export type StixTactic = z.infer<typeof tacticSchema>;
export type StixMatrix = z.infer<typeof matrixSchema>;
export type StixGroup = z.infer<typeof groupSchema>;
export type StixSoftware = z.infer<typeof softwareSchema>;
export type StixMitigation = z.infer<typeof mitigationSchema>;
export type StixDetectionStrategy = z.infer<typeof detectionStrategySchema>;
export type StixAnalytic = z.infer<typeof analyticSchema>;
export type StixRelationship = z.infer<typeof relationshipSchema>;
export type StixCollection = z.infer<typeof collectionSchema>;

const schemaByType: Record<string, z.ZodType> = {
  "attack-pattern": attackPatternSchema,
  "x-mitre-tactic": tacticSchema,
  "x-mitre-matrix": matrixSchema,
  "intrusion-set": groupSchema,
  malware: softwareSchema,
  tool: softwareSchema,
  "course-of-action": mitigationSchema,
  "x-mitre-detection-strategy": detectionStrategySchema,
  "x-mitre-analytic": analyticSchema,
  relationship: relationshipSchema,
  "x-mitre-collection": collectionSchema,
};

/** The validated objects of a bundle, grouped by what the model needs. */
export interface StixObjects {
  specVersion: "2.0" | "2.1";
  techniques: AttackPattern[];
  tactics: StixTactic[];
  matrices: StixMatrix[];
  groups: StixGroup[];
  software: StixSoftware[];
  mitigations: StixMitigation[];
  detectionStrategies: StixDetectionStrategy[];
  analytics: StixAnalytic[];
  relationships: StixRelationship[];
  collections: StixCollection[];
}

/** A bundle that does not have the shape ATT&CK promises; the message names the object id and field. */
export class AttackBundleError extends Error {
  constructor(
    message: string,
    readonly objectId?: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "AttackBundleError";
  }
}

/** Validates a parsed bundle and sorts its objects by kind; throws {@link AttackBundleError} on the first bad object. */
export function parseStixBundle(json: unknown, source: string): StixObjects {
  const bundle = bundleSchema.safeParse(json);
  if (!bundle.success) {
    const issue = bundle.error.issues[0]!;
    const field = formatPath(issue.path);
    throw new AttackBundleError(`ATT&CK bundle ${source}: not a STIX bundle: field ${field}: ${issue.message}`, undefined, field);
  }
  const out = emptyStixObjects(bundle.data.spec_version ?? "2.1");
  const objects = bundle.data.objects;
  for (let i = 0; i < objects.length; i++) addStixObject(out, objects[i], i, source, bundle.data.spec_version);
  return out;
}

export function emptyStixObjects(specVersion: StixObjects["specVersion"] = "2.1"): StixObjects {
  return {
    specVersion,
    techniques: [],
    tactics: [],
    matrices: [],
    groups: [],
    software: [],
    mitigations: [],
    detectionStrategies: [],
    analytics: [],
    relationships: [],
    collections: [],
  };
}

/**
 * Validates `objects[i]` of a bundle and files it under its kind in `out`; throws {@link AttackBundleError} naming
 * the object and field when it is malformed. `bundleSpecVersion` is the bundle's own, when it states one.
 */
export function addStixObject(out: StixObjects, raw: unknown, i: number, source: string, bundleSpecVersion?: string): void {
  const type = (raw as { type?: unknown } | null)?.type;
  const schema = (typeof type === "string" && schemaByType[type]) || otherObjectSchema;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const id = (raw as { id?: unknown } | null)?.id;
    const objectId = typeof id === "string" ? id : `objects[${i}] (no id)`;
    const field = formatPath(issue.path);
    throw new AttackBundleError(`ATT&CK bundle ${source}: object ${objectId} (objects[${i}]): field ${field}: ${issue.message}`, objectId, field);
  }
  // A 2.1 bundle has no bundle-level spec_version; its objects say which version they are.
  const obj = parsed.data as { type: string; spec_version?: "2.0" | "2.1" };
  if (bundleSpecVersion === undefined && obj.spec_version === undefined && obj.type !== "marking-definition") out.specVersion = "2.0";
  switch (obj.type) {
    case "attack-pattern": out.techniques.push(obj as AttackPattern); break;
    case "x-mitre-tactic": out.tactics.push(obj as StixTactic); break;
    case "x-mitre-matrix": out.matrices.push(obj as StixMatrix); break;
    case "intrusion-set": out.groups.push(obj as StixGroup); break;
    case "malware":
    case "tool": out.software.push(obj as StixSoftware); break;
    case "course-of-action": out.mitigations.push(obj as StixMitigation); break;
    case "x-mitre-detection-strategy": out.detectionStrategies.push(obj as StixDetectionStrategy); break;
    case "x-mitre-analytic": out.analytics.push(obj as StixAnalytic); break;
    case "relationship": out.relationships.push(obj as StixRelationship); break;
    case "x-mitre-collection": out.collections.push(obj as StixCollection); break;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(the object itself)";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

/** The ATT&CK id (`T1055.011`, `TA0003`, `G0007`, ...) and page of an object, from its `mitre-attack` reference. */
export function attackReference(obj: { id: string; external_references: { source_name: string; external_id?: string; url?: string }[] }): {
  attackId: string;
  url: string;
} {
  const ref = obj.external_references.find((r) => r.source_name === "mitre-attack" && r.external_id);
  if (!ref?.external_id) {
    throw new AttackBundleError(`object ${obj.id}: field external_references: no mitre-attack reference with an external_id`, obj.id, "external_references");
  }
  return { attackId: ref.external_id, url: ref.url ?? "" };
}
