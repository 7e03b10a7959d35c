import type { DashboardsProduct, FieldType, Panel } from "./model.ts";

/** One saved object as the products' export/import NDJSON carries it. */
export interface SavedObject {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  references: SavedObjectReference[];
  /** Kibana 8+/9: the stack version whose core migrations the object has seen. */
  coreMigrationVersion?: string;
  /** Kibana 8+/9: the type's migration (or model) version the attributes are written for. */
  typeMigrationVersion?: string;
  /** OpenSearch Dashboards (Kibana 7.10 lineage): per-type migration version the attributes are written for. */
  migrationVersion?: Record<string, string>;
  managed?: boolean;
}

export interface SavedObjectReference {
  name: string;
  type: string;
  id: string;
}

/** The reference name by which a visualization or saved search names its data view, in both products. */
export const searchSourceIndexRef = "kibanaSavedObjectMeta.searchSourceJSON.index";

/** A panel's `kibanaSavedObjectMeta`: its Lucene filter as the query, and its data view by reference name. */
export function panelSearchSource(panel: Panel): { searchSourceJSON: string } {
  const query = { query: panel.filter ?? "", language: "lucene" };
  return { searchSourceJSON: JSON.stringify({ query, filter: [], ...(panel.dataView ? { indexRefName: searchSourceIndexRef } : {}) }) };
}

/** A dashboard's own search source: no query, no filters (the panels carry theirs). */
export const dashboardSearchSource = { searchSourceJSON: JSON.stringify({ query: { query: "", language: "kuery" }, filter: [] }) };

/** The import file: one JSON object per line. */
export function toNdjson(objects: SavedObject[]): string {
  return objects.map((o) => JSON.stringify(o)).join("\n") + "\n";
}

/** Parses an import/export NDJSON file, naming the line at fault. */
export function parseNdjson(text: string): SavedObject[] {
  return text
    .split("\n")
    .map((line, i) => ({ line: line.trim(), no: i + 1 }))
    .filter(({ line }) => line !== "")
    .map(({ line, no }) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new Error(`saved objects line ${no} is not JSON: ${(err as Error).message}`);
      }
      const o = value as Partial<SavedObject>;
      if (typeof o.type !== "string" || typeof o.id !== "string" || typeof o.attributes !== "object" || !Array.isArray(o.references)) {
        throw new Error(`saved objects line ${no}: needs type, id, attributes and references`);
      }
      return o as SavedObject;
    });
}

/** How the products' field lists name engine types (`keyword` → `string`, `long` → `number`, ...). */
export function productFieldType(type: FieldType): string {
  switch (type) {
    case "keyword":
    case "text":
      return "string";
    case "long":
    case "integer":
    case "float":
    case "double":
      return "number";
    default:
      return type;
  }
}

/** The reference a dashboard panel points at, resolved with the product's naming convention. */
export interface PanelLink {
  dashboard: string;
  panelIndex: string;
  reference: SavedObjectReference;
}

/**
 * The references of each dashboard panel. Kibana 8/9 names a panel's reference `<panelIndex>:panel_<panelIndex>`;
 * OpenSearch Dashboards (Kibana 7.10 lineage) names it by the panel's `panelRefName` alone.
 */
export function dashboardPanelLinks(product: DashboardsProduct, dashboard: SavedObject): PanelLink[] {
  const panels = JSON.parse(String(dashboard.attributes.panelsJSON)) as { panelIndex: string; panelRefName?: string }[];
  return panels.map((panel) => {
    if (!panel.panelRefName) throw new Error(`dashboard ${dashboard.id} panel ${panel.panelIndex} has no panelRefName`);
    const name = product === "kibana" ? `${panel.panelIndex}:${panel.panelRefName}` : panel.panelRefName;
    const reference = dashboard.references.find((r) => r.name === name);
    if (!reference) throw new Error(`dashboard ${dashboard.id} panel ${panel.panelIndex}: no reference named ${name}`);
    return { dashboard: dashboard.id, panelIndex: panel.panelIndex, reference };
  });
}

/**
 * Every reference that does not resolve to an object in the same file (the import API would answer
 * `missing_references` for these), plus panels without a reference. Empty means the file is self-contained.
 */
export function unresolvedReferences(product: DashboardsProduct, objects: SavedObject[]): string[] {
  const present = new Set(objects.map((o) => `${o.type}/${o.id}`));
  const problems: string[] = [];
  for (const o of objects) {
    for (const ref of o.references) {
      if (!present.has(`${ref.type}/${ref.id}`)) problems.push(`${o.type}/${o.id} → ${ref.type}/${ref.id} (${ref.name})`);
    }
    if (o.type === "dashboard") {
      try {
        dashboardPanelLinks(product, o);
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    const searchSource = (o.attributes.kibanaSavedObjectMeta as { searchSourceJSON?: string } | undefined)?.searchSourceJSON;
    const indexRefName = searchSource ? (JSON.parse(searchSource) as { indexRefName?: string }).indexRefName : undefined;
    if (indexRefName && !o.references.some((r) => r.name === indexRefName)) {
      problems.push(`${o.type}/${o.id}: searchSourceJSON names ${indexRefName}, which is not among its references`);
    }
  }
  return problems;
}
