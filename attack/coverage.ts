import { COVERAGE_ALIAS } from "../lib/contract/names.ts";
import type { Engine } from "../lib/engine.ts";
import { date, fieldsMapped } from "../lib/mappings.ts";
import { indexStamp, replaceAliasedIndex, type AliasedIndexResult } from "./aliased-index.ts";
import { eventSourceKey, type EventSource } from "./logsources.ts";
import type { AttackLookup } from "./lookup.ts";
import { analyticsOf, type AttackModel, type Technique } from "./model.ts";

/** How many events of one (channel, event id) the engine or a recording holds. */
export interface EventSourceCount extends EventSource {
  count: number;
}

export interface TechniqueCoverage {
  technique: Technique;
  /** 0..100: share of the technique's analytics with at least one log source present. */
  score: number;
  analyticsTotal: number;
  /** ATT&CK ids of the analytics whose log sources are present. */
  analyticsCovered: string[];
  /** `channel:event_id` of the present event sources those analytics read. */
  presentSources: string[];
  /** Events tagged with this technique (revoked ids counted under their replacement). */
  observedCount: number;
  /** Names of the groups and software ATT&CK relates to the technique (who is known to use it). */
  groupNames: string[];
  softwareNames: string[];
}

export interface CoverageReport {
  attackVersion: string;
  /** Every active technique in id order, scored (0 when nothing collected serves it). */
  techniques: TechniqueCoverage[];
  eventSources: EventSourceCount[];
  /** Tagged ids ATT&CK does not know, with their event counts. */
  unknownObserved: Map<string, number>;
}

export interface CoverageOptions {
  /** Only count analytics for these platforms (e.g. `Windows`); all analytics when empty. */
  platforms?: readonly string[];
}

/**
 * Scores every active technique by the share of its analytics (through its detection strategies) for which at
 * least one log source is collected, i.e. one of its (channel, event id) pairs occurs in `eventSources`.
 * Pure: the engine and in-memory paths both end here.
 */
export function computeCoverage(
  model: AttackModel,
  lookup: AttackLookup,
  eventSources: readonly EventSourceCount[],
  observed: ReadonlyMap<string, number> = new Map(),
  opts: CoverageOptions = {},
): CoverageReport {
  const present = new Set(eventSources.filter((s) => s.count > 0).map((s) => eventSourceKey(s.channel, s.eventId)));
  const { counts: observedById, unknown } = canonicalObserved(lookup, observed);
  const platforms = opts.platforms?.length ? new Set(opts.platforms.map((p) => p.toLowerCase())) : undefined;
  const techniques = model.techniques.map((technique): TechniqueCoverage => {
    const analytics = analyticsOf(model, technique).filter((a) => !platforms || a.platforms.some((p) => platforms.has(p.toLowerCase())));
    const covered: string[] = [];
    const sources = new Set<string>();
    for (const analytic of analytics) {
      const hits = analytic.logSources.flatMap((s) => s.events).filter((e) => present.has(eventSourceKey(e.channel, e.eventId)));
      if (hits.length === 0) continue;
      covered.push(analytic.id);
      for (const e of hits) sources.add(`${e.channel}:${e.eventId}`);
    }
    return {
      technique,
      score: analytics.length === 0 ? 0 : Math.round((100 * covered.length) / analytics.length),
      analyticsTotal: analytics.length,
      analyticsCovered: covered,
      presentSources: [...sources].sort(),
      observedCount: observedById.get(technique.id) ?? 0,
      groupNames: technique.groups.map((id) => model.groups.get(id)!.name),
      softwareNames: technique.software.map((id) => model.software.get(id)!.name),
    };
  });
  return { attackVersion: model.version, techniques, eventSources: [...eventSources], unknownObserved: unknown };
}

/** Merges tagged ids by the technique they resolve to; ids ATT&CK does not know are kept apart. */
function canonicalObserved(lookup: AttackLookup, observed: ReadonlyMap<string, number>): { counts: Map<string, number>; unknown: Map<string, number> } {
  const counts = new Map<string, number>();
  const unknown = new Map<string, number>();
  for (const [id, count] of observed) {
    const context = lookup.resolve(id);
    const target = context.status === "unknown" ? unknown : counts;
    target.set(context.technique_id, (target.get(context.technique_id) ?? 0) + count);
  }
  return { counts, unknown };
}

/** Tallies (channel, event id) and technique tags over events, raw (`Channel`, `EventID`) or normalized (`channel`, `event_id`). */
export async function countEvents(
  events: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>,
): Promise<{ eventSources: EventSourceCount[]; observed: Map<string, number> }> {
  const sources = new Map<string, EventSourceCount>();
  const observed = new Map<string, number>();
  for await (const event of events) {
    const channel = event.channel ?? event.Channel;
    const eventId = Number(event.event_id ?? event.EventID);
    if (typeof channel === "string" && Number.isInteger(eventId)) {
      const key = eventSourceKey(channel, eventId);
      const entry = sources.get(key) ?? { channel, eventId, count: 0 };
      entry.count++;
      sources.set(key, entry);
    }
    const tag = (event.attack as { technique_id?: unknown } | undefined)?.technique_id ?? event.mitre_technique_id;
    if (typeof tag === "string" && tag !== "") observed.set(tag, (observed.get(tag) ?? 0) + 1);
  }
  return { eventSources: [...sources.values()], observed };
}

/** The field to aggregate on for each wanted field: itself when keyword/numeric, else its `.keyword` sub-field. */
async function aggregatableFields(engine: Engine, pattern: string, fields: string[]): Promise<Map<string, string>> {
  const res = await engine.request<Record<string, { mappings: Record<string, { mapping: Record<string, { type?: string; fields?: Record<string, { type?: string }> }> }> }>>({
    method: "GET",
    path: `/${pattern}/_mapping/field/${fields.join(",")}`,
  });
  const chosen = new Map<string, string>();
  for (const index of Object.values(res.body)) {
    for (const [name, entry] of Object.entries(index.mappings)) {
      const mapping = Object.values(entry.mapping)[0];
      if (!mapping || chosen.has(name)) continue;
      if (mapping.type === "text") {
        if (mapping.fields?.keyword?.type === "keyword") chosen.set(name, `${name}.keyword`);
      } else {
        chosen.set(name, name);
      }
    }
  }
  return chosen;
}

/** (channel, event id) counts in the engine, from a composite aggregation over `pattern` (default `helk-events-*`). */
export async function eventSourceCountsFromEngine(engine: Engine, pattern = "helk-events-*"): Promise<EventSourceCount[]> {
  const fields = await aggregatableFields(engine, pattern, ["channel", "event_id"]);
  const channelField = fields.get("channel");
  const eventIdField = fields.get("event_id");
  if (!channelField || !eventIdField) return [];
  const counts: EventSourceCount[] = [];
  let after: Record<string, unknown> | undefined;
  do {
    const res = await engine.request<{ aggregations: { sources: { buckets: { key: { channel: string; event_id: number | string }; doc_count: number }[]; after_key?: Record<string, unknown> } } }>({
      method: "POST",
      path: `/${pattern}/_search`,
      body: {
        size: 0,
        aggs: {
          sources: {
            composite: {
              size: 1000,
              sources: [{ channel: { terms: { field: channelField } } }, { event_id: { terms: { field: eventIdField } } }],
              ...(after ? { after } : {}),
            },
          },
        },
      },
    });
    const agg = res.body.aggregations.sources;
    for (const b of agg.buckets) counts.push({ channel: b.key.channel, eventId: Number(b.key.event_id), count: b.doc_count });
    after = agg.buckets.length > 0 ? agg.after_key : undefined;
  } while (after);
  return counts;
}

/**
 * Technique tags in the engine: `attack.technique_id` (the enrichment's resolved id) where present, else the raw
 * `mitre_technique_id`, so an event tagged both ways is counted once.
 */
export async function observedTechniquesFromEngine(engine: Engine, pattern = "helk-events-*"): Promise<Map<string, number>> {
  const fields = await aggregatableFields(engine, pattern, ["attack.technique_id", "mitre_technique_id"]);
  const resolved = fields.get("attack.technique_id");
  const raw = fields.get("mitre_technique_id");
  const observed = new Map<string, number>();
  if (!resolved && !raw) return observed;
  type Terms = { buckets: { key: string; doc_count: number }[] };
  const res = await engine.request<{ aggregations: { resolved?: Terms; raw_only?: { ids: Terms } } }>({
    method: "POST",
    path: `/${pattern}/_search`,
    body: {
      size: 0,
      aggs: {
        ...(resolved ? { resolved: { terms: { field: resolved, size: 10_000 } } } : {}),
        ...(raw
          ? { raw_only: { filter: resolved ? { bool: { must_not: { exists: { field: "attack.technique_id" } } } } : { match_all: {} }, aggs: { ids: { terms: { field: raw, size: 10_000 } } } } }
          : {}),
      },
    },
  });
  for (const b of [...(res.body.aggregations.resolved?.buckets ?? []), ...(res.body.aggregations.raw_only?.ids.buckets ?? [])]) {
    observed.set(b.key, (observed.get(b.key) ?? 0) + b.doc_count);
  }
  return observed;
}

/** Mappings of the coverage scores the dashboards read (one doc per technique × tactic, alias COVERAGE_ALIAS). */
export const coverageIndexMappings = {
  dynamic: "strict",
  properties: {
    "@timestamp": date,
    ...fieldsMapped({ type: "keyword" }, "attack_version", "technique_id", "technique_name", "tactic"),
    is_subtechnique: { type: "boolean" },
    score: { type: "float" },
    observed_count: { type: "long" },
    ...fieldsMapped({ type: "integer" }, "analytics_total", "analytics_covered"),
    event_sources: { type: "keyword" },
    // Who is known to use the technique: the dashboards list the groups and software behind observed techniques.
    group_names: { type: "keyword" },
    software_names: { type: "keyword" },
  },
} as const;

/** Replaces the coverage scores in the engine (new versioned index, atomic alias swap, old copies deleted). */
export async function indexCoverage(engine: Engine, report: CoverageReport, now = new Date()): Promise<AliasedIndexResult> {
  const docs = report.techniques.flatMap((c) =>
    c.technique.tactics.map((tactic) => ({
      id: `${c.technique.id}:${tactic}`,
      doc: {
        "@timestamp": now.toISOString(),
        attack_version: report.attackVersion,
        technique_id: c.technique.id,
        technique_name: c.technique.name,
        tactic,
        is_subtechnique: c.technique.isSubtechnique,
        score: c.score,
        observed_count: c.observedCount,
        analytics_total: c.analyticsTotal,
        analytics_covered: c.analyticsCovered.length,
        event_sources: c.presentSources,
        group_names: c.groupNames,
        software_names: c.softwareNames,
      },
    })),
  );
  return replaceAliasedIndex(engine, { alias: COVERAGE_ALIAS, index: `${COVERAGE_ALIAS}-${indexStamp(now)}`, mappings: coverageIndexMappings, docs });
}
