import { replaceAliasedIndex, indexStamp, type AliasedIndexResult } from "../attack/aliased-index.ts";
import type { AttackLookup, TechniqueContext } from "../attack/lookup.ts";
import type { Engine } from "../lib/engine.ts";
import { isRunnable, type RuleReport } from "./convert.ts";

/** Where the setup job puts the rules the scheduler runs (an alias over a versioned index, swapped atomically). */
export const RULES_ALIAS = "helk-detection-rules";

/** A converted rule as the scheduler runs it, with its ATT&CK context. */
export interface DetectionRule {
  rule_id: string;
  title: string;
  level: string | null;
  status: string | null;
  author: string | null;
  /** Sigma rule file (inside its archive or folder): the DRL 1.1 attribution travels with the rule. */
  file: string;
  tags: string[];
  /** Lucene query over helk-events-* (query_string syntax). */
  query: string;
  /** The HELK fields the query reads. */
  fields: string[];
  attack: AttackContext;
}

export interface AttackContext {
  /** The rule's technique tags resolved against the loaded ATT&CK (unknown ids kept with `status: "unknown"`). */
  techniques: TechniqueContext[];
  /** Tactic short names: the rule's own tactic tags and those of its techniques. */
  tactics: string[];
}

const TECHNIQUE_TAG = /^attack\.(t\d{4}(?:\.\d{3})?)$/i;
/** `attack.g0007` (groups) and `attack.s0002` (software) are not tactics. */
const GROUP_OR_SOFTWARE_TAG = /^attack\.[gs]\d{4}$/i;

/** ATT&CK context from Sigma tags (`attack.t1003.001`, `attack.credential-access`). */
export function attackContext(tags: readonly string[], lookup: AttackLookup | undefined): AttackContext {
  const techniques: TechniqueContext[] = [];
  const tactics = new Set<string>();
  for (const tag of tags) {
    const technique = TECHNIQUE_TAG.exec(tag);
    if (technique) {
      const id = technique[1]!.toUpperCase();
      const context = lookup?.resolve(id) ?? { technique_id: id, status: "unknown", requested_id: id };
      techniques.push(context);
      for (const tactic of context.tactics ?? []) tactics.add(tactic);
    } else if (tag.toLowerCase().startsWith("attack.") && !GROUP_OR_SOFTWARE_TAG.test(tag)) {
      tactics.add(tag.slice("attack.".length).toLowerCase().replaceAll("_", "-"));
    }
  }
  return { techniques, tactics: [...tactics] };
}

/** The runnable rules of a conversion report (converted, every field indexed), with ATT&CK context. */
export function detectionRules(reports: readonly RuleReport[], lookup: AttackLookup | undefined): DetectionRule[] {
  return reports.filter(isRunnable).map((report) => ({
    rule_id: report.id,
    title: report.title ?? report.id,
    level: report.level ?? null,
    status: report.status ?? null,
    author: report.author ?? null,
    file: report.file,
    tags: report.tags ?? [],
    query: report.query,
    fields: (report.fields ?? []).flatMap((field) => field.helk.split("/")),
    attack: attackContext(report.tags ?? [], lookup),
  }));
}

const keyword = { type: "keyword", ignore_above: 8191 };

const rulesMappings = {
  dynamic_templates: [{ strings: { match_mapping_type: "string", mapping: keyword } }],
  properties: {
    rule_id: keyword,
    title: { type: "text", fields: { keyword } },
    query: { type: "keyword", index: false, doc_values: false },
  },
};

/** Replaces the deployed rules with `rules` in one atomic alias swap. */
export function installRules(engine: Engine, rules: readonly DetectionRule[], now = new Date()): Promise<AliasedIndexResult> {
  return replaceAliasedIndex(engine, {
    alias: RULES_ALIAS,
    index: `${RULES_ALIAS}-${indexStamp(now)}`,
    mappings: rulesMappings,
    docs: rules.map((rule) => ({ id: rule.rule_id, doc: { ...rule } })),
  });
}

/** Every deployed rule (the scheduler reads them at each run, so a new setup job run takes effect at once). */
export async function readRules(engine: Engine): Promise<DetectionRule[]> {
  const rules: DetectionRule[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const { status, body } = await engine.request<{ hits: { hits: { _source: DetectionRule; sort: unknown[] }[] } }>({
      method: "POST",
      path: `/${RULES_ALIAS}/_search`,
      body: { size: 1000, sort: [{ rule_id: "asc" }], ...(after ? { search_after: after } : {}) },
      ignore: [404],
    });
    if (status === 404) return rules;
    const hits = body.hits.hits;
    rules.push(...hits.map((hit) => hit._source));
    if (hits.length < 1000) return rules;
    after = hits[hits.length - 1]!.sort;
  }
}
