import { createHash } from "node:crypto";
import { ALERTS_INDEX_PREFIX } from "../lib/contract/names.ts";
import type { Engine } from "../lib/engine.ts";
import { date, fieldsMapped, keyword } from "../lib/mappings.ts";
import type { DetectionRule } from "./rules.ts";

export { ALERTS_INDEX_PREFIX };

/** One event a rule matched, as the scheduler read it. */
export interface MatchedEvent {
  index: string;
  id: string;
  timestamp: string;
  indexedAt: string;
  host: string;
}

/** Matched event ids kept on one alert; `event_count` says how many were merged in (capped likewise). */
export const MAX_EVENT_IDS_PER_ALERT = 1000;

/** Mapping of `helk-alerts-*`. */
export const ALERTS_TEMPLATE = {
  index_patterns: [`${ALERTS_INDEX_PREFIX}*`],
  priority: 200,
  template: {
    settings: { "index.auto_expand_replicas": "0-1" },
    mappings: {
      dynamic_templates: [{ strings: { match_mapping_type: "string", mapping: keyword } }],
      properties: {
        ...fieldsMapped(date, "@timestamp", "first_seen", "last_seen", "first_indexed_at", "detected_at", "updated_at"),
        event_count: { type: "integer" },
        ...fieldsMapped(keyword, "host_name", "matched_event_ids"),
        rule: { properties: { id: keyword, title: { type: "text", fields: { keyword } }, level: keyword, query: { type: "keyword", index: false, doc_values: false } } },
      },
    },
  },
};

export async function installAlertsTemplate(engine: Engine): Promise<void> {
  await engine.request({ method: "PUT", path: "/_index_template/helk-alerts", body: ALERTS_TEMPLATE });
}

/**
 * An alert gathers one rule's matches on one host within one hour of event time. Its id is derived from the
 * rule and the event (its host and hour), so running a rule again over the same events, after a restart or
 * an overlapping window, updates the same alert instead of adding one.
 */
export function alertId(ruleId: string, event: MatchedEvent): string {
  return createHash("sha1").update(`${ruleId}|${event.host}|${hourOf(event.timestamp)}`).digest("hex");
}

function hourOf(timestamp: string): string {
  return timestamp.slice(0, 13);
}

/** `helk-alerts-YYYY.MM.DD` of the event's own day, so an alert id always lands in the same index. */
export function alertIndex(event: MatchedEvent): string {
  return `${ALERTS_INDEX_PREFIX}${event.timestamp.slice(0, 10).replaceAll("-", ".")}`;
}

/** Merges new matches into the stored alert: ids as a set, earliest first and latest last seen; unchanged → noop. */
const MERGE_SCRIPT = `
if (ctx._source.rule == null) { ctx._source.putAll(params.alert); return; }
boolean changed = false;
for (def id : params.alert.matched_event_ids) {
  if (ctx._source.matched_event_ids.size() >= params.max) break;
  if (!ctx._source.matched_event_ids.contains(id)) { ctx._source.matched_event_ids.add(id); changed = true; }
}
if (((String) params.alert.first_seen).compareTo((String) ctx._source.first_seen) < 0) { ctx._source.first_seen = params.alert.first_seen; ctx._source['@timestamp'] = params.alert.first_seen; changed = true; }
if (((String) params.alert.last_seen).compareTo((String) ctx._source.last_seen) > 0) { ctx._source.last_seen = params.alert.last_seen; changed = true; }
if (!changed) { ctx.op = 'noop'; return; }
ctx._source.event_count = ctx._source.matched_event_ids.size();
ctx._source.updated_at = params.alert.updated_at;
`;

/** Bulk actions that create or merge the alerts for one rule's matches (scripted upserts). */
export function alertActions(rule: DetectionRule, events: readonly MatchedEvent[], now: Date): unknown[] {
  const groups = new Map<string, { index: string; events: MatchedEvent[] }>();
  for (const event of events) {
    const id = alertId(rule.rule_id, event);
    const group = groups.get(id) ?? { index: alertIndex(event), events: [] };
    group.events.push(event);
    groups.set(id, group);
  }
  const actions: unknown[] = [];
  for (const [id, group] of groups) {
    const times = group.events.map((e) => e.timestamp).sort();
    const indexedTimes = group.events.map((e) => e.indexedAt).sort();
    const ids = [...new Set(group.events.map((e) => e.id))].slice(0, MAX_EVENT_IDS_PER_ALERT);
    const alert = {
      "@timestamp": times[0],
      rule: { id: rule.rule_id, title: rule.title, level: rule.level, status: rule.status, author: rule.author, tags: rule.tags, file: rule.file },
      attack: rule.attack,
      host_name: group.events[0]!.host,
      matched_event_ids: ids,
      matched_index: group.events[0]!.index,
      event_count: ids.length,
      first_seen: times[0],
      last_seen: times[times.length - 1],
      first_indexed_at: indexedTimes[0],
      detected_at: now.toISOString(),
      updated_at: now.toISOString(),
    };
    actions.push(
      { update: { _index: group.index, _id: id, retry_on_conflict: 3 } },
      { scripted_upsert: true, upsert: {}, script: { lang: "painless", source: MERGE_SCRIPT, params: { alert, max: MAX_EVENT_IDS_PER_ALERT } } },
    );
  }
  return actions;
}
