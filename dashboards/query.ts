import type { Engine } from "../lib/engine.ts";
import type { Panel, PanelQuery, Terms } from "./model.ts";

/**
 * A panel's query as engine searches, and its answer as rows for a chart. This is what the products
 * execute for the same saved objects (terms → `terms`, field pairs → `multi_terms`, filters → `filters`
 * with `query_string`, like the products' Lucene handling), so running it checks the dashboard's queries.
 */

/** One row of a panel's result: flat keys the chart encodings name, or (Vega views) a raw search hit. */
export type Row = Record<string, unknown>;

export interface PanelSearch {
  index: string;
  body: Record<string, unknown>;
}

/** Target number of time buckets, as the products aim for with an `auto` interval. */
const targetBuckets = 60;

/** Fixed intervals an `auto` interval can pick, shortest first (ms → engine notation). */
const intervalLadder: [number, string][] = [
  [1_000, "1s"],
  [5_000, "5s"],
  [10_000, "10s"],
  [30_000, "30s"],
  [60_000, "1m"],
  [300_000, "5m"],
  [600_000, "10m"],
  [1_800_000, "30m"],
  [3_600_000, "1h"],
  [10_800_000, "3h"],
  [43_200_000, "12h"],
  [86_400_000, "1d"],
  [604_800_000, "7d"],
  [2_592_000_000, "30d"],
  [31_536_000_000, "365d"],
];

/** The smallest ladder interval that splits [min, max] into at most {@link targetBuckets} buckets. */
export function autoInterval(minMs: number, maxMs: number): string {
  const span = Math.max(maxMs - minMs, 1);
  const fit = intervalLadder.find(([ms]) => span / ms <= targetBuckets);
  return (fit ?? intervalLadder[intervalLadder.length - 1]!)[1];
}

/** The Lucene panel filter as the engine query the products send for it. */
export function filterQuery(panel: Panel): Record<string, unknown> {
  return panel.filter ? { query_string: { query: panel.filter, analyze_wildcard: true } } : { match_all: {} };
}

const termsAgg = (terms: Terms, extra: Record<string, unknown> = {}) => ({
  terms: { field: terms.field, size: terms.size, order: { _count: "desc" } },
  ...extra,
});

/**
 * The engine search for a panel. `events_over_time` needs the data's time range for its interval
 * (`interval`, from {@link timeRange}); the other kinds need nothing else.
 */
export function panelSearch(panel: Panel, interval?: string): PanelSearch {
  const q = panel.query;
  if (q.kind === "vega") return { index: q.index, body: q.body };
  const dataView = panel.dataView;
  if (!dataView) throw new Error(`panel ${panel.id}: a ${q.kind} panel needs a data view`);
  const base = { size: 0, track_total_hits: true, query: filterQuery(panel) };
  return { index: dataView.pattern, body: { ...base, ...searchParts(panel, q, interval) } };
}

function searchParts(panel: Panel, q: Exclude<PanelQuery, { kind: "vega" }>, interval: string | undefined) {
  switch (q.kind) {
    case "events_over_time": {
      if (!interval) throw new Error(`panel ${panel.id}: events_over_time needs an interval`);
      const timeField = panel.dataView?.timeField;
      if (!timeField) throw new Error(`panel ${panel.id}: data view ${panel.dataView?.id} has no time field`);
      const histogram = { date_histogram: { field: timeField, fixed_interval: interval, min_doc_count: 1 } };
      return { aggs: { series: q.split ? termsAgg(q.split, { aggs: { time: histogram } }) : histogram } };
    }
    case "top_values":
      return {
        aggs: {
          top:
            q.fields.length === 1
              ? termsAgg({ field: q.fields[0]!, size: q.size })
              : { multi_terms: { terms: q.fields.map((field) => ({ field })), size: q.size, order: { _count: "desc" } } },
        },
      };
    case "breakdown":
      return { aggs: { by: termsAgg(q.by, { aggs: { split: termsAgg(q.split) } }) } };
    case "filters":
      return {
        aggs: {
          buckets: {
            filters: {
              filters: Object.fromEntries(
                q.buckets.map((b) => [b.label, { query_string: { query: b.lucene, analyze_wildcard: true } }]),
              ),
            },
          },
        },
      };
    case "documents": {
      const timeField = panel.dataView?.timeField;
      return {
        size: q.size,
        _source: q.columns,
        sort: timeField ? [{ [timeField]: { order: "desc" } }] : undefined,
      };
    }
  }
}

/** The earliest and latest time-field values among the panel's documents; null when there are none. */
export async function timeRange(engine: Engine, panel: Panel): Promise<{ min: number; max: number } | null> {
  const timeField = panel.dataView?.timeField;
  if (!panel.dataView || !timeField) throw new Error(`panel ${panel.id}: data view has no time field`);
  const res = await engine.request<{ aggregations?: { range?: { min: number | null; max: number | null } } }>({
    method: "POST",
    path: `/${panel.dataView.pattern}/_search`,
    body: { size: 0, query: filterQuery(panel), aggs: { range: { stats: { field: timeField } } } },
  });
  const range = res.body.aggregations?.range;
  return range && range.min !== null && range.max !== null ? { min: range.min, max: range.max } : null;
}

interface Bucket {
  key: unknown;
  key_as_string?: string;
  doc_count: number;
  [sub: string]: unknown;
}
const buckets = (agg: unknown): Bucket[] => ((agg as { buckets?: Bucket[] } | undefined)?.buckets ?? []) as Bucket[];
const keyText = (b: Bucket): string => b.key_as_string ?? String(b.key);

/** Reads a dotted path (`attack.tactics`, `hits.hits`) out of a JSON value. */
export function valueAt(value: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((v, key) => (v && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined), value);
}

const cell = (v: unknown): string | number | null =>
  v === undefined || v === null ? null : typeof v === "number" || typeof v === "string" ? v : Array.isArray(v) ? v.join(", ") : JSON.stringify(v);

/** The search answer as flat rows: what the chart for the panel plots. */
export function panelRows(panel: Panel, response: unknown): Row[] {
  const q = panel.query;
  const aggs = (response as { aggregations?: Record<string, unknown> }).aggregations ?? {};
  switch (q.kind) {
    case "events_over_time":
      return q.split
        ? buckets(aggs.series).flatMap((s) =>
            buckets(s.time).map((t) => ({ time: Number(t.key), series: keyText(s), count: t.doc_count })),
          )
        : buckets(aggs.series).map((t) => ({ time: Number(t.key), series: "all", count: t.doc_count }));
    case "top_values":
      return buckets(aggs.top).map((b) => ({
        label: Array.isArray(b.key) ? b.key.map(String).join(q.separator ?? " → ") : keyText(b),
        count: b.doc_count,
      }));
    case "breakdown":
      return buckets(aggs.by).flatMap((by) =>
        buckets(by.split).map((s) => ({ category: keyText(by), series: keyText(s), count: s.doc_count })),
      );
    case "filters": {
      const keyed = (aggs.buckets as { buckets?: Record<string, { doc_count: number }> } | undefined)?.buckets ?? {};
      return q.buckets.map((b) => ({ label: b.label, count: keyed[b.label]?.doc_count ?? 0 }));
    }
    case "documents": {
      const hits = (valueAt(response, "hits.hits") as { _source?: unknown }[] | undefined) ?? [];
      return hits.map((hit) => Object.fromEntries(q.columns.map((c) => [c, cell(valueAt(hit._source, c))])));
    }
    case "vega": {
      const values = valueAt(response, q.property);
      if (!Array.isArray(values)) throw new Error(`panel ${panel.id}: search answer has no array at ${q.property}`);
      return values.map((v) => v as Row);
    }
  }
}

/** Whether a panel's rows show anything: at least one row with a non-zero count (or any row without counts). */
export function hasData(rows: Row[]): boolean {
  return rows.some((r) => !("count" in r) || Number(r.count) > 0);
}

/** Runs a panel's query against the engine and returns its rows. */
export async function runPanel(engine: Engine, panel: Panel): Promise<Row[]> {
  let interval: string | undefined;
  if (panel.query.kind === "events_over_time") {
    const range = await timeRange(engine, panel);
    if (!range) return [];
    interval = autoInterval(range.min, range.max);
  }
  const search = panelSearch(panel, interval);
  const res = await engine.request({
    method: "POST",
    path: `/${search.index}/_search`,
    body: search.body,
    query: { ignore_unavailable: true, allow_no_indices: true },
  });
  return panelRows(panel, res.body);
}
