/**
 * The product-neutral description of HELK's dashboards.
 *
 * Every panel carries ONE query definition ({@link PanelQuery}). The Kibana and OpenSearch Dashboards
 * generators (`kibana.ts`, `opensearch-dashboards.ts`) translate it into their saved-object shapes, and
 * `query.ts` translates it into the engine search that `helk dashboards render` runs, so what a reader
 * sees in a rendered image is what the dashboard asks the engine for.
 */

/** Engine field types the generators need to know (aggregatable or not, how the products label them). */
export type FieldType = "date" | "keyword" | "long" | "integer" | "float" | "double" | "ip" | "boolean" | "text";

/** A data view (Kibana) / index pattern (OpenSearch Dashboards) over one index pattern. */
export interface DataView {
  /** Saved-object id, stable across imports so a re-import overwrites. */
  id: string;
  /** The index pattern, e.g. `helk-events-*`. */
  pattern: string;
  /** Human name shown in the products. */
  name: string;
  timeField?: string;
  /** Fields the panels use, with their mapped types (from the index templates of the parts that write them). */
  fields: Record<string, FieldType>;
}

/** A terms bucket: the top `size` values of `field` by document count. */
export interface Terms {
  field: string;
  size: number;
}

/** What a panel asks the engine for. Counts are document counts throughout. */
export type PanelQuery =
  /** Documents per time bucket (interval chosen from the time range), optionally one series per top value. */
  | { kind: "events_over_time"; split?: Terms }
  /** Top values of one field, or of a combination of fields (`multi_terms`): e.g. parent → child pairs. */
  | { kind: "top_values"; fields: string[]; size: number; separator?: string }
  /** Top values of `by`, each broken down by the top values of `split` (nested terms). */
  | { kind: "breakdown"; by: Terms; split: Terms }
  /** Named buckets, each a Lucene query (e.g. internal vs external destinations). */
  | { kind: "filters"; buckets: { label: string; lucene: string }[] }
  /** The newest documents, as a table of columns. */
  | { kind: "documents"; columns: string[]; size: number }
  /**
   * A Vega-Lite view fed by a raw search on `index`. `spec` is the view without its `data`; the products get
   * it with Vega's Elasticsearch `url` data source, the renderer with the same search's answer inlined.
   */
  | { kind: "vega"; index: string; body: Record<string, unknown>; property: string; spec: Record<string, unknown> };

/** Position on the 48-column dashboard grid both products use. */
export interface GridPosition {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Panel {
  /** Stable id: the visualization's saved-object id derives from it. */
  id: string;
  title: string;
  description?: string;
  /** The data view the panel reads; absent only for `vega` panels, which name their index themselves. */
  dataView?: DataView;
  /** Lucene query restricting the panel's documents (both products store it as the panel query). */
  filter?: string;
  query: PanelQuery;
  grid: GridPosition;
}

export interface Dashboard {
  id: string;
  title: string;
  description: string;
  panels: Panel[];
}

export type DashboardsProduct = "kibana" | "opensearch-dashboards";
