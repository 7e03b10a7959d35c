import { fieldsMapped } from "../mappings.ts";

/**
 * The ATT&CK fields both sides read and write: the `attack` context the enrichment service puts on events (and
 * the events template maps), and the documents of the ATT&CK knowledge-base index (and the data view over it).
 */

/** The `attack` context object on an enriched event. */
export interface TechniqueContext {
  technique_id: string;
  technique_name?: string;
  tactics?: string[];
  platforms?: string[];
  is_subtechnique?: boolean;
  parent_id?: string;
  parent_name?: string;
  url?: string;
  status: "found" | "revoked" | "unknown";
  /** The id asked for, normalized (trimmed, upper case, `/` as `.`). */
  requested_id: string;
}

/** Engine field type of each `attack.*` field of an event (every field of {@link TechniqueContext}, no other). */
export const ATTACK_CONTEXT_FIELD_TYPES = {
  technique_id: "keyword",
  technique_name: "keyword",
  tactics: "keyword",
  platforms: "keyword",
  is_subtechnique: "boolean",
  parent_id: "keyword",
  parent_name: "keyword",
  url: "keyword",
  status: "keyword",
  requested_id: "keyword",
} as const satisfies Record<keyof TechniqueContext, "keyword" | "boolean">;

const keyword = { type: "keyword" } as const;
const boolean = { type: "boolean" } as const;
const text = { type: "text", fields: { keyword: { type: "keyword", ignore_above: 256 } } } as const;

/** Mappings of the ATT&CK knowledge-base index: strict, so a field the code does not know about is an error. */
export const ATTACK_INDEX_MAPPINGS = {
  dynamic: "strict",
  properties: {
    ...fieldsMapped(keyword, "attack_version", "technique_id"),
    technique_name: text,
    ...fieldsMapped(keyword, "tactics", "platforms"),
    is_subtechnique: boolean,
    parent_id: keyword,
    parent_name: text,
    ...fieldsMapped(keyword, "url", "status"),
    ...fieldsMapped(boolean, "deprecated", "revoked"),
    ...fieldsMapped(keyword, "replaced_by", "groups", "group_names", "software", "software_names", "mitigations", "mitigation_names"),
    ...fieldsMapped(keyword, "detection_strategies", "analytics", "log_sources", "event_sources"),
  },
} as const;

export type AttackIndexField = keyof typeof ATTACK_INDEX_MAPPINGS.properties;
