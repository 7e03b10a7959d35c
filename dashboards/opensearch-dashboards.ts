import type { Dashboard, DataView, Panel, Terms } from "./model.ts";
import { dashboardSearchSource, panelSearchSource, productFieldType, searchSourceIndexRef, type SavedObject } from "./saved-objects.ts";
import { vegaSavedSpec } from "./vega.ts";

/**
 * OpenSearch Dashboards 2.x saved objects (Kibana 7.10 lineage): index patterns with their field list,
 * aggregation-based `visualization`s (visState), saved searches, a Vega visualization, and dashboards.
 */


/** OpenSearch Dashboards' own metadata fields, present in every index pattern's field list. */
const metaFields = [
  { name: "_id", type: "string", esTypes: ["_id"], searchable: true, aggregatable: true },
  { name: "_index", type: "string", esTypes: ["_index"], searchable: true, aggregatable: true },
  { name: "_score", type: "number", searchable: false, aggregatable: false },
  { name: "_source", type: "_source", esTypes: ["_source"], searchable: false, aggregatable: false },
];

export function osdIndexPattern(view: DataView): SavedObject {
  // The field list is stored: OpenSearch Dashboards only re-reads fields from the engine on request.
  const fields = [
    ...metaFields.map((f) => ({ count: 0, scripted: false, readFromDocValues: false, ...f })),
    ...Object.entries(view.fields).map(([name, type]) => {
      // A keyword sub-field of a text field (`command_line.keyword`) is marked as such, as the field list API does.
      const parent = name.endsWith(".keyword") ? name.slice(0, -".keyword".length) : undefined;
      return {
        name,
        type: productFieldType(type),
        esTypes: [type],
        count: 0,
        scripted: false,
        searchable: true,
        aggregatable: type !== "text",
        readFromDocValues: type !== "text",
        ...(parent && view.fields[parent] ? { subType: { multi: { parent } } } : {}),
      };
    }),
  ];
  return {
    type: "index-pattern",
    id: view.id,
    attributes: { title: view.pattern, ...(view.timeField ? { timeFieldName: view.timeField } : {}), fields: JSON.stringify(fields) },
    references: [],
    migrationVersion: { "index-pattern": "7.6.0" },
  };
}

type Agg = Record<string, unknown>;
const countAgg: Agg = { id: "1", enabled: true, type: "count", schema: "metric", params: {} };
const termsAgg = (id: string, schema: string, terms: Terms): Agg => ({
  id,
  enabled: true,
  type: "terms",
  schema,
  params: { field: terms.field, size: terms.size, order: "desc", orderBy: "1", otherBucket: false, missingBucket: false },
});

/** Parameters of the point-series charts (bar, line), as the visualization editor saves them. */
function seriesParams(type: "histogram" | "horizontal_bar" | "line", mode: "stacked" | "normal") {
  const horizontal = type === "horizontal_bar";
  return {
    type,
    grid: { categoryLines: false },
    categoryAxes: [
      {
        id: "CategoryAxis-1",
        type: "category",
        position: horizontal ? "left" : "bottom",
        show: true,
        style: {},
        scale: { type: "linear" },
        labels: { show: true, filter: !horizontal, truncate: horizontal ? 200 : 100 },
        title: {},
      },
    ],
    valueAxes: [
      {
        id: "ValueAxis-1",
        name: horizontal ? "BottomAxis-1" : "LeftAxis-1",
        type: "value",
        position: horizontal ? "bottom" : "left",
        show: true,
        style: {},
        scale: { type: "linear", mode: "normal" },
        labels: { show: true, rotate: 0, filter: horizontal, truncate: 100 },
        title: { text: "Count" },
      },
    ],
    seriesParams: [
      {
        show: true,
        type: type === "line" ? "line" : "histogram",
        mode,
        data: { label: "Count", id: "1" },
        valueAxis: "ValueAxis-1",
        drawLinesBetweenPoints: true,
        lineWidth: 2,
        showCircles: true,
      },
    ],
    addTooltip: true,
    addLegend: true,
    legendPosition: "right",
    times: [],
    addTimeMarker: false,
    labels: { show: false },
    thresholdLine: { show: false, value: 10, width: 1, style: "full", color: "#E7664C" },
  };
}

const tableParams = { perPage: 20, showPartialRows: false, showMetricsAtAllLevels: false, showTotal: false, totalFunc: "sum", percentageCol: "" };

/** The visState of an aggregation-based or Vega panel. */
function visState(panel: Panel): Record<string, unknown> {
  const q = panel.query;
  const title = panel.title;
  switch (q.kind) {
    case "events_over_time": {
      const timeField = panel.dataView?.timeField;
      const time: Agg = {
        id: "2",
        enabled: true,
        type: "date_histogram",
        schema: "segment",
        params: { field: timeField, useNormalizedOpenSearchInterval: true, interval: "auto", drop_partials: false, min_doc_count: 1, extended_bounds: {} },
      };
      return {
        title,
        type: "histogram",
        params: seriesParams("histogram", "stacked"),
        aggs: q.split ? [countAgg, termsAgg("3", "group", q.split), time] : [countAgg, time],
      };
    }
    case "top_values":
      // A field combination is a table split by each field in turn (nested terms), one row per combination.
      return q.fields.length === 1
        ? {
            title,
            type: "horizontal_bar",
            params: seriesParams("horizontal_bar", "normal"),
            aggs: [countAgg, termsAgg("2", "segment", { field: q.fields[0]!, size: q.size })],
          }
        : {
            title,
            type: "table",
            params: tableParams,
            aggs: [countAgg, ...q.fields.map((field, i) => termsAgg(String(i + 2), "bucket", { field, size: i === 0 ? q.size : 10 }))],
          };
    case "breakdown":
      return {
        title,
        type: "horizontal_bar",
        params: seriesParams("horizontal_bar", "stacked"),
        aggs: [countAgg, termsAgg("2", "segment", q.by), termsAgg("3", "group", q.split)],
      };
    case "filters":
      return {
        title,
        type: "pie",
        params: {
          type: "pie",
          addTooltip: true,
          addLegend: true,
          legendPosition: "right",
          isDonut: true,
          labels: { show: true, values: true, last_level: true, truncate: 100 },
        },
        aggs: [
          countAgg,
          {
            id: "2",
            enabled: true,
            type: "filters",
            schema: "segment",
            params: { filters: q.buckets.map((b) => ({ input: { query: b.lucene, language: "lucene" }, label: b.label })) },
          },
        ],
      };
    case "vega":
      return { title, type: "vega", aggs: [], params: { spec: vegaSavedSpec("opensearch-dashboards", q) } };
    case "documents":
      throw new Error(`panel ${panel.id}: document tables are saved searches, not visualizations`);
  }
}

/** The saved object a panel embeds: saved search or visualization. */
export function osdPanelObject(panel: Panel): SavedObject {
  const q = panel.query;
  const view = panel.dataView;
  const references = view ? [{ name: searchSourceIndexRef, type: "index-pattern", id: view.id }] : [];
  const kibanaSavedObjectMeta = panelSearchSource(panel);
  if (q.kind === "documents") {
    return {
      type: "search",
      id: panel.id,
      attributes: {
        title: panel.title,
        description: panel.description ?? "",
        hits: 0,
        columns: q.columns,
        sort: view?.timeField ? [[view.timeField, "desc"]] : [],
        version: 1,
        kibanaSavedObjectMeta,
      },
      references,
      migrationVersion: { search: "7.9.3" },
    };
  }
  return {
    type: "visualization",
    id: panel.id,
    attributes: {
      title: panel.title,
      description: panel.description ?? "",
      visState: JSON.stringify(visState(panel)),
      uiStateJSON: "{}",
      version: 1,
      kibanaSavedObjectMeta,
    },
    references,
    migrationVersion: { visualization: "7.10.0" },
  };
}

export function osdDashboard(dashboard: Dashboard): SavedObject {
  const types = dashboard.panels.map((panel) => osdPanelObject(panel).type);
  const panels = dashboard.panels.map((panel, i) => ({
    version: "2.19.0",
    panelIndex: String(i + 1),
    gridData: { ...panel.grid, i: String(i + 1) },
    embeddableConfig: {},
    panelRefName: `panel_${i}`,
  }));
  return {
    type: "dashboard",
    id: dashboard.id,
    attributes: {
      title: dashboard.title,
      description: dashboard.description,
      hits: 0,
      panelsJSON: JSON.stringify(panels),
      optionsJSON: JSON.stringify({ hidePanelTitles: false, useMargins: true }),
      version: 1,
      timeRestore: false,
      kibanaSavedObjectMeta: dashboardSearchSource,
    },
    references: dashboard.panels.map((panel, i) => ({ name: `panel_${i}`, type: types[i]!, id: panel.id })),
    migrationVersion: { dashboard: "7.9.3" },
  };
}
