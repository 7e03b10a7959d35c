import { describe, expect, it } from "vitest";
import { attackCoverageDashboard, dashboards } from "../../dashboards/definitions.ts";
import type { Panel } from "../../dashboards/model.ts";
import { autoInterval, panelRows, panelSearch } from "../../dashboards/query.ts";
import { specToSvg, svgToPng } from "../../dashboards/render.ts";
import { panelChartSpec, vegaSavedSpec } from "../../dashboards/vega.ts";

const panel = (id: string): Panel => dashboards.flatMap((d) => d.panels).find((p) => p.id === id)!;

describe("panel queries", () => {
  it("asks for field pairs with multi_terms and reads the pair keys joined by the panel's separator", () => {
    const pairs = panel("helk-parent-child-pairs");
    const search = panelSearch(pairs);
    expect(search.index).toBe("helk-events-*");
    expect(search.body).toMatchObject({
      size: 0,
      query: { query_string: { query: "event_id:1" } },
      aggs: { top: { multi_terms: { terms: [{ field: "parent_process_name" }, { field: "process_name" }], size: 20 } } },
    });
    const response = { aggregations: { top: { buckets: [{ key: ["cmd.exe", "whoami.exe"], doc_count: 3 }] } } };
    expect(panelRows(pairs, response)).toEqual([{ label: "cmd.exe → whoami.exe", count: 3 }]);
  });

  it("picks a time interval that gives at most 60 buckets over the data's range", () => {
    const hour = 3_600_000;
    expect(autoInterval(0, 30 * 60_000)).toBe("30s");
    expect(autoInterval(0, 24 * hour)).toBe("30m");
    expect(autoInterval(0, 90 * 24 * hour)).toBe("7d");
    expect(() => panelSearch(panel("helk-events-over-time"))).toThrow(/needs an interval/);
  });

  it("sends the coverage view's own search and hands back the hits", () => {
    const matrix = attackCoverageDashboard.panels[0]!;
    expect(panelSearch(matrix).index).toBe("helk-attack-coverage");
    const hits = [{ _source: { technique_id: "T1059.001" } }];
    expect(panelRows(matrix, { hits: { hits } })).toEqual(hits);
    expect(() => panelRows(matrix, { hits: {} })).toThrow(/no array at hits.hits/);
  });
});

describe("drawing panels", () => {
  it("draws the coverage matrix from coverage documents, with ids, observed counts and tactics", async () => {
    const matrix = attackCoverageDashboard.panels[0]!;
    const rows = [
      { _source: { technique_id: "T1059.001", technique_name: "PowerShell", tactic: "execution", score: 80, observed_count: 42 } },
      { _source: { technique_id: "T1136", technique_name: "Create Account", tactic: "persistence", score: 50, observed_count: 0 } },
    ];
    const svg = await specToSvg(panelChartSpec(matrix, rows));
    expect(svg).toContain("T1059.001 · 42");
    expect(svg).toContain("T1136<");
    expect(svg).toContain("persistence");
    const png = svgToPng(svg);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
  });

  it("draws a document table with every column and value", async () => {
    const table = panel("helk-process-network-table");
    const svg = await specToSvg(panelChartSpec(table, [{ host_name: "ws5", parent_process_name: "cmd.exe", dst_ip: "10.0.0.1", dst_port: 443 }]));
    for (const text of ["host_name", "dst_port", "ws5", "cmd.exe", "10.0.0.1", "443"]) expect(svg).toContain(`>${text}<`);
  });

  it("stores a Vega-Lite spec the renderer's Vega-Lite compiles, once its search answer is inlined", async () => {
    const matrix = attackCoverageDashboard.panels[0]!;
    if (matrix.query.kind !== "vega") throw new Error("coverage panel is not a Vega view");
    for (const product of ["kibana", "opensearch-dashboards"] as const) {
      const saved = JSON.parse(vegaSavedSpec(product, matrix.query)) as Record<string, unknown>;
      const inlined = { ...saved, data: { values: [{ _source: { technique_id: "T1047", tactic: "execution", score: 100, observed_count: 1 } }] } };
      expect(await specToSvg(inlined)).toContain("T1047 · 1");
    }
  });
});
