import type { Dashboard, DataView, Panel, Terms } from "./model.ts";
import { dashboardSearchSource, panelSearchSource, productFieldType, searchSourceIndexRef, type SavedObject } from "./saved-objects.ts";
import { vegaSavedSpec } from "./vega.ts";

/**
 * Kibana 9 saved objects: data views (`index-pattern` type, Kibana 8/9 attributes), Lens visualizations
 * (form-based datasource), saved searches for document tables, Vega visualizations, and dashboards.
 * The migration versions name the attribute shapes written here, so Kibana migrates them forward on import;
 * shapes and versions follow the objects Kibana itself ships (its sample data sets), e.g. by-reference panels
 * with references named `<panelIndex>:panel_<panelIndex>`.
 */

const coreMigrationVersion = "8.8.0";

export function kibanaDataView(view: DataView): SavedObject {
  return {
    type: "index-pattern",
    id: view.id,
    attributes: {
      title: view.pattern,
      name: view.name,
      ...(view.timeField ? { timeFieldName: view.timeField } : {}),
      // Kibana 8+ reads fields from the engine on load; the saved list only holds scripted fields.
      fields: "[]",
      fieldFormatMap: "{}",
      fieldAttrs: "{}",
      runtimeFieldMap: "{}",
      sourceFilters: "[]",
      typeMeta: "{}",
      // The dashboards are imported right after a deploy, before any event has created an index.
      allowNoIndex: true,
    },
    references: [],
    coreMigrationVersion,
    typeMigrationVersion: "8.0.0",
    managed: false,
  };
}

type LensColumn = Record<string, unknown>;
const countColumn: LensColumn = {
  label: "Count of records",
  dataType: "number",
  operationType: "count",
  isBucketed: false,
  scale: "ratio",
  sourceField: "___records___",
  params: { emptyAsNull: true },
};

function termsColumn(view: DataView, terms: Terms, secondaryFields: string[] = []): LensColumn {
  const type = view.fields[terms.field];
  if (!type) throw new Error(`data view ${view.id} has no field ${terms.field}`);
  return {
    label: `Top ${terms.size} values of ${[terms.field, ...secondaryFields].join(" + ")}`,
    dataType: productFieldType(type),
    operationType: "terms",
    sourceField: terms.field,
    isBucketed: true,
    scale: "ordinal",
    params: {
      size: terms.size,
      orderBy: { type: "column", columnId: "count" },
      orderDirection: "desc",
      otherBucket: false,
      missingBucket: false,
      ...(secondaryFields.length > 0 ? { secondaryFields } : {}),
      parentFormat: { id: secondaryFields.length > 0 ? "multi_terms" : "terms" },
    },
  };
}

interface LensShape {
  visualizationType: string;
  columns: Record<string, LensColumn>;
  /** Bucket nesting order (outermost first), then metrics. */
  columnOrder: string[];
  visualization: Record<string, unknown>;
}

const layerId = "layer1";

function xyLayer(seriesType: string, xAccessor: string, splitAccessor?: string) {
  return {
    legend: { isVisible: splitAccessor !== undefined, position: "right" },
    valueLabels: "hide",
    preferredSeriesType: seriesType,
    layers: [
      { layerId, layerType: "data", seriesType, xAccessor, accessors: ["count"], ...(splitAccessor ? { splitAccessor } : {}) },
    ],
  };
}

function lensShape(panel: Panel, view: DataView): LensShape {
  const q = panel.query;
  switch (q.kind) {
    case "events_over_time": {
      const time: LensColumn = {
        label: view.timeField,
        dataType: "date",
        operationType: "date_histogram",
        sourceField: view.timeField,
        isBucketed: true,
        scale: "interval",
        params: { interval: "auto", includeEmptyRows: false, dropPartials: false },
      };
      const columns: Record<string, LensColumn> = { time, count: countColumn };
      if (q.split) columns.split = termsColumn(view, q.split);
      return {
        visualizationType: "lnsXY",
        columns,
        columnOrder: q.split ? ["split", "time", "count"] : ["time", "count"],
        visualization: xyLayer("bar_stacked", "time", q.split ? "split" : undefined),
      };
    }
    case "top_values": {
      const [first, ...secondary] = q.fields;
      return {
        visualizationType: "lnsXY",
        columns: { top: termsColumn(view, { field: first!, size: q.size }, secondary), count: countColumn },
        columnOrder: ["top", "count"],
        visualization: xyLayer("bar_horizontal", "top"),
      };
    }
    case "breakdown":
      return {
        visualizationType: "lnsXY",
        columns: { by: termsColumn(view, q.by), split: termsColumn(view, q.split), count: countColumn },
        columnOrder: ["by", "split", "count"],
        visualization: xyLayer("bar_horizontal_stacked", "by", "split"),
      };
    case "filters":
      return {
        visualizationType: "lnsPie",
        columns: {
          buckets: {
            label: "Filters",
            dataType: "string",
            operationType: "filters",
            isBucketed: true,
            scale: "ordinal",
            params: { filters: q.buckets.map((b) => ({ label: b.label, input: { query: b.lucene, language: "lucene" } })) },
          },
          count: countColumn,
        },
        columnOrder: ["buckets", "count"],
        visualization: {
          shape: "donut",
          layers: [
            {
              layerId,
              layerType: "data",
              primaryGroups: ["buckets"],
              metrics: ["count"],
              numberDisplay: "percent",
              categoryDisplay: "default",
              legendDisplay: "default",
            },
          ],
        },
      };
    default:
      throw new Error(`panel ${panel.id}: ${q.kind} panels are not Lens visualizations`);
  }
}


/** The saved object a panel embeds: Lens, saved search or Vega visualization. */
export function kibanaPanelObject(panel: Panel): SavedObject {
  const q = panel.query;
  const description = panel.description ?? "";
  if (q.kind === "vega") {
    return {
      type: "visualization",
      id: panel.id,
      attributes: {
        title: panel.title,
        description,
        uiStateJSON: "{}",
        visState: JSON.stringify({ title: panel.title, type: "vega", aggs: [], params: { spec: vegaSavedSpec("kibana", q) } }),
        kibanaSavedObjectMeta: panelSearchSource(panel),
      },
      references: [],
      coreMigrationVersion,
      typeMigrationVersion: "8.0.0",
      managed: false,
    };
  }
  const view = panel.dataView;
  if (!view) throw new Error(`panel ${panel.id}: needs a data view`);
  if (q.kind === "documents") {
    return {
      type: "search",
      id: panel.id,
      attributes: {
        title: panel.title,
        description,
        columns: q.columns,
        sort: view.timeField ? [[view.timeField, "desc"]] : [],
        grid: {},
        hideChart: true,
        isTextBasedQuery: false,
        kibanaSavedObjectMeta: panelSearchSource(panel),
      },
      references: [{ name: searchSourceIndexRef, type: "index-pattern", id: view.id }],
      coreMigrationVersion,
      typeMigrationVersion: "8.0.0",
      managed: false,
    };
  }
  const shape = lensShape(panel, view);
  return {
    type: "lens",
    id: panel.id,
    attributes: {
      title: panel.title,
      description,
      visualizationType: shape.visualizationType,
      state: {
        datasourceStates: {
          formBased: { layers: { [layerId]: { columns: shape.columns, columnOrder: shape.columnOrder, incompleteColumns: {} } } },
        },
        visualization: shape.visualization,
        query: { query: panel.filter ?? "", language: "lucene" },
        filters: [],
        adHocDataViews: {},
        internalReferences: [],
      },
    },
    references: [{ name: `indexpattern-datasource-layer-${layerId}`, type: "index-pattern", id: view.id }],
    coreMigrationVersion,
    // 8.6.0 is the Lens migration that named the datasource `formBased`, the shape written here.
    typeMigrationVersion: "8.6.0",
    managed: false,
  };
}

export function kibanaDashboard(dashboard: Dashboard): SavedObject {
  const panels = dashboard.panels.map((panel, i) => {
    const panelIndex = `p${i + 1}`;
    return {
      type: kibanaPanelObject(panel).type,
      panelIndex,
      gridData: { ...panel.grid, i: panelIndex },
      embeddableConfig: {},
      panelRefName: `panel_${panelIndex}`,
    };
  });
  return {
    type: "dashboard",
    id: dashboard.id,
    attributes: {
      title: dashboard.title,
      description: dashboard.description,
      panelsJSON: JSON.stringify(panels),
      optionsJSON: JSON.stringify({ useMargins: true, syncColors: false, syncCursor: true, syncTooltips: false, hidePanelTitles: false }),
      timeRestore: false,
      kibanaSavedObjectMeta: dashboardSearchSource,
    },
    // Kibana 8/9 prefixes each panel's reference name with its panel index.
    references: dashboard.panels.map((panel, i) => ({
      name: `p${i + 1}:panel_p${i + 1}`,
      type: panels[i]!.type,
      id: panel.id,
    })),
    coreMigrationVersion,
    typeMigrationVersion: "8.7.0",
    managed: false,
  };
}
