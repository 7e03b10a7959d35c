import { describe, expect, it } from "vitest";
import { dataViews } from "../../dashboards/data-views.ts";
import { dashboards } from "../../dashboards/definitions.ts";
import { savedObjects } from "../../dashboards/generate.ts";
import type { DashboardsProduct } from "../../dashboards/model.ts";
import {
  dashboardPanelLinks,
  parseNdjson,
  searchSourceIndexRef,
  toNdjson,
  unresolvedReferences,
  type SavedObject,
} from "../../dashboards/saved-objects.ts";

const products: DashboardsProduct[] = ["kibana", "opensearch-dashboards"];
const key = (o: { type: string; id: string }) => `${o.type}/${o.id}`;

/** Follows dashboard → panel object → data view by reference, returning the data view objects reached. */
function resolveChain(product: DashboardsProduct, objects: SavedObject[], dashboard: SavedObject): SavedObject[][] {
  const byKey = new Map(objects.map((o) => [key(o), o]));
  return dashboardPanelLinks(product, dashboard).map((link) => {
    const panelObject = byKey.get(key(link.reference));
    if (!panelObject) throw new Error(`${dashboard.id} panel ${link.panelIndex}: ${key(link.reference)} not in the file`);
    return panelObject.references.map((ref) => {
      const target = byKey.get(key(ref));
      if (!target) throw new Error(`${key(panelObject)} → ${key(ref)} not in the file`);
      return target;
    });
  });
}

describe.each(products)("saved objects for %s", (product) => {
  const objects = parseNdjson(toNdjson(savedObjects(product)));

  it("has no reference that fails to resolve, and no duplicate type/id", () => {
    expect(unresolvedReferences(product, objects)).toEqual([]);
    expect(new Set(objects.map(key)).size).toBe(objects.length);
  });

  it("resolves every panel of every dashboard to its object, and each to the right data view", () => {
    const dashboardObjects = objects.filter((o) => o.type === "dashboard");
    expect(dashboardObjects.map((d) => d.attributes.title).sort()).toEqual(dashboards.map((d) => d.title).sort());
    for (const definition of dashboards) {
      const dashboard = dashboardObjects.find((d) => d.id === definition.id)!;
      const chains = resolveChain(product, objects, dashboard);
      expect(chains).toHaveLength(definition.panels.length);
      definition.panels.forEach((panel, i) => {
        // A panel on a data view must reach exactly that data view; a Vega panel names its index in its spec.
        expect(chains[i]!.map(key)).toEqual(panel.dataView ? [`index-pattern/${panel.dataView.id}`] : []);
        expect(chains[i]!.map((o) => o.attributes.title)).toEqual(panel.dataView ? [panel.dataView.pattern] : []);
      });
    }
  });

  it("holds a data view for the events, the joined process/network documents and the ATT&CK index", () => {
    const patterns = objects.filter((o) => o.type === "index-pattern").map((o) => o.attributes.title);
    expect(patterns).toEqual(expect.arrayContaining(["helk-events-*", "helk-process-network-*", "helk-mitre-attack"]));
  });

  it("is the same text when generated twice (fixed ids, so importing again overwrites)", () => {
    expect(toNdjson(savedObjects(product))).toBe(toNdjson(savedObjects(product)));
  });

  it("stores each panel's Lucene filter as the panel query", () => {
    for (const panel of dashboards.flatMap((d) => d.panels).filter((p) => p.filter)) {
      const o = objects.find((x) => x.id === panel.id)!;
      const query =
        o.type === "lens"
          ? (o.attributes.state as { query: unknown }).query
          : JSON.parse((o.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON).query;
      expect(query).toEqual({ query: panel.filter, language: "lucene" });
    }
  });

  it("saves the common pivots as saved searches: host, user, process GUID, command line fingerprint", () => {
    const pivots: Record<string, string> = {
      "helk-host-timeline": "host_name",
      "helk-user-activity": "user_name",
      "helk-process-events-by-guid": "process_guid",
      "helk-command-lines-by-fingerprint": "command_line_fingerprint",
    };
    for (const [id, field] of Object.entries(pivots)) {
      const search = objects.find((o) => o.id === id);
      expect(search?.type, id).toBe("search");
      expect(search!.attributes.columns, id).toContain(field);
      expect(search!.references).toEqual([{ name: searchSourceIndexRef, type: "index-pattern", id: "helk-events" }]);
    }
  });

  it("embeds the coverage Vega view with a search on helk-attack-coverage", () => {
    const vis = objects.find((o) => o.id === "helk-attack-coverage-matrix")!;
    const state = JSON.parse(String(vis.attributes.visState)) as { type: string; params: { spec: string } };
    expect(state.type).toBe("vega");
    const spec = JSON.parse(state.params.spec) as { $schema: string; data: { url: { index: string }; format: { property: string } } };
    expect(spec.$schema).toMatch(/vega-lite/);
    expect(spec.data.url.index).toBe("helk-attack-coverage");
    expect(spec.data.format.property).toBe("hits.hits");
  });
});

describe("Kibana 9 objects", () => {
  const objects = savedObjects("kibana");

  it("uses Lens whose every datasource layer has its data view reference, and fields the data view declares", () => {
    const lens = objects.filter((o) => o.type === "lens");
    expect(lens.length).toBeGreaterThan(0);
    for (const o of lens) {
      const layers = (o.attributes.state as { datasourceStates: { formBased: { layers: Record<string, { columns: Record<string, { sourceField?: string }> }> } } })
        .datasourceStates.formBased.layers;
      for (const [layerId, layer] of Object.entries(layers)) {
        const ref = o.references.find((r) => r.name === `indexpattern-datasource-layer-${layerId}`);
        expect(ref, `${o.id} layer ${layerId}`).toBeDefined();
        const view = dataViews.find((v) => v.id === ref!.id)!;
        for (const column of Object.values(layer.columns)) {
          if (column.sourceField && column.sourceField !== "___records___") expect(view.fields).toHaveProperty([column.sourceField]);
        }
      }
    }
  });
});

describe("OpenSearch Dashboards 2.x objects", () => {
  const objects = savedObjects("opensearch-dashboards");

  it("has only types OpenSearch Dashboards knows, with aggregation fields its index pattern lists as aggregatable", () => {
    expect(new Set(objects.map((o) => o.type))).toEqual(new Set(["index-pattern", "visualization", "search", "dashboard"]));
    const fieldsOf = new Map(
      objects
        .filter((o) => o.type === "index-pattern")
        .map((o) => [o.id, JSON.parse(String(o.attributes.fields)) as { name: string; aggregatable: boolean }[]]),
    );
    for (const vis of objects.filter((o) => o.type === "visualization")) {
      const state = JSON.parse(String(vis.attributes.visState)) as { aggs: { params: { field?: string } }[] };
      const fields = vis.references[0] ? fieldsOf.get(vis.references[0].id)! : [];
      for (const agg of state.aggs) {
        if (agg.params.field) expect(fields.find((f) => f.name === agg.params.field)?.aggregatable, `${vis.id} ${agg.params.field}`).toBe(true);
      }
    }
  });
});

describe("parseNdjson", () => {
  it("names the line that is not a saved object", () => {
    expect(() => parseNdjson('{"type":"x","id":"1","attributes":{},"references":[]}\nnot json\n')).toThrow(/line 2 is not JSON/);
    expect(() => parseNdjson('{"type":"x"}')).toThrow(/line 1: needs type, id, attributes and references/);
  });
});
