import type { DashboardsProduct, Panel, PanelQuery } from "./model.ts";
import type { Row } from "./query.ts";

/**
 * Vega-Lite specs: the one stored in a Vega panel's saved object (data from the engine through the
 * products' Elasticsearch `url` source), and the ones `helk dashboards render` draws each panel with.
 */

type VegaQuery = Extract<PanelQuery, { kind: "vega" }>;
type Spec = Record<string, unknown>;

/**
 * Both products refuse Vega specs without `$schema`, and warn when it names a newer Vega-Lite than they bundle:
 * Kibana 9 bundles Vega-Lite 5; OpenSearch Dashboards' own sample specs declare v4, so its specs say v4 (the
 * specs here use nothing newer). The renderer's Vega-Lite 6 reads both.
 */
const schema = "https://vega.github.io/schema/vega-lite/v5.json";
const savedSchema: Record<DashboardsProduct, string> = {
  kibana: schema,
  "opensearch-dashboards": "https://vega.github.io/schema/vega-lite/v4.json",
};

/** The spec text a Kibana / OpenSearch Dashboards Vega visualization stores. */
export function vegaSavedSpec(product: DashboardsProduct, q: VegaQuery): string {
  const spec = { $schema: savedSchema[product], data: { url: { index: q.index, body: q.body }, format: { property: q.property } }, ...q.spec };
  return JSON.stringify(spec, null, 2);
}

const width = 720;
const countAxis = { field: "count", type: "quantitative", title: "documents", axis: { format: "d", tickMinStep: 1 } } as const;

/** The spec that draws a panel's rows (the rows come from running the panel's query, see `query.ts`). */
export function panelChartSpec(panel: Panel, rows: Row[]): Spec {
  const q = panel.query;
  const base = { $schema: schema, title: panel.title, data: { values: rows }, config: { font: "DejaVu Sans", background: "white" } };
  switch (q.kind) {
    case "events_over_time":
      return {
        ...base,
        width,
        height: 260,
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "time", type: "temporal", title: "time" },
          y: countAxis,
          color: { field: "series", type: "nominal", title: q.split?.field ?? "" },
        },
      };
    case "top_values":
      return {
        ...base,
        width,
        mark: "bar",
        encoding: {
          // No axis title: the panel title names the field(s), and a title beside long labels overlaps them.
          y: { field: "label", type: "nominal", sort: "-x", title: null, axis: { labelLimit: 320 } },
          x: countAxis,
        },
      };
    case "breakdown":
      return {
        ...base,
        width,
        mark: "bar",
        encoding: {
          y: { field: "category", type: "nominal", sort: "-x", title: null, axis: { labelLimit: 320 } },
          x: { ...countAxis, aggregate: "sum" },
          // Up to by.size × split.size series: 20 colours keep neighbours apart.
          color: { field: "series", type: "nominal", title: q.split.field, scale: { scheme: "category20" } },
        },
      };
    case "filters":
      return {
        ...base,
        width: 360,
        height: 260,
        encoding: {
          theta: { field: "count", type: "quantitative", stack: true },
          color: { field: "label", type: "nominal", title: null, legend: { labelLimit: 420 } },
          tooltip: [{ field: "label" }, { field: "count" }],
        },
        layer: [
          { mark: { type: "arc", innerRadius: 60, outerRadius: 120 } },
          { mark: { type: "text", radius: 140, fontSize: 13 }, encoding: { text: { field: "count", type: "quantitative" } } },
        ],
      };
    case "documents":
      return documentsTableSpec(panel.title, q.columns, rows);
    case "vega": {
      const { title: _ignored, ...spec } = q.spec;
      return { ...base, ...spec, title: (q.spec.title as string | undefined) ?? panel.title, data: { values: rows } };
    }
  }
}

/** A document table drawn as text: one row per document, one column per field (long values cut). */
function documentsTableSpec(title: string, columns: string[], rows: Row[]): Spec {
  const cells = rows.flatMap((row, index) => columns.map((column) => ({ row: index + 1, column, value: row[column] ?? "" })));
  return {
    $schema: schema,
    title,
    config: { font: "DejaVu Sans", background: "white", view: { stroke: null } },
    data: { values: cells },
    width: { step: 230 },
    height: { step: 18 },
    // Vega measures text by estimate here (no canvas), about a third wider than DejaVu draws it: hence limit > step.
    mark: { type: "text", align: "left", limit: 290, fontSize: 10, dx: 2 },
    encoding: {
      x: {
        field: "column",
        type: "nominal",
        sort: columns,
        bandPosition: 0,
        axis: { orient: "top", title: null, labelAngle: 0, labelLimit: 290, labelAlign: "left", bandPosition: 0, ticks: false, labelFontWeight: "bold" },
      },
      y: { field: "row", type: "ordinal", axis: null },
      text: { field: "value" },
    },
  };
}
