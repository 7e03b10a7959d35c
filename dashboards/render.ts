import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { Engine } from "../lib/engine.ts";
import { dashboards as allDashboards } from "./definitions.ts";
import type { Dashboard, Panel } from "./model.ts";
import { hasData, runPanel, type Row } from "./query.ts";
import { panelChartSpec } from "./vega.ts";

/** A Vega-Lite spec drawn headless to SVG (Vega's own SVG renderer, no browser or canvas). */
export async function specToSvg(spec: Record<string, unknown>): Promise<string> {
  const { spec: vegaSpec } = compile(spec as unknown as TopLevelSpec);
  const view = new vega.View(vega.parse(vegaSpec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG to PNG with resvg (its native binary ships in npm packages); text uses the system's fonts. */
export function svgToPng(svg: string): Buffer {
  return new Resvg(svg, { background: "white", fitTo: { mode: "zoom", value: 1.5 }, font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } })
    .render()
    .asPng();
}

export interface RenderedPanel {
  dashboard: string;
  panel: string;
  rows: number;
  /** Whether the query returned anything to show (a non-zero count). */
  hasData: boolean;
  svg: string;
  png: string;
}

/** Runs one panel's query and draws its answer; returns the rows so callers can check them. */
export async function renderPanel(engine: Engine, panel: Panel): Promise<{ rows: Row[]; svg: string; png: Buffer }> {
  const rows = await runPanel(engine, panel);
  const svg = await specToSvg(panelChartSpec(panel, rows));
  return { rows, svg, png: svgToPng(svg) };
}

/**
 * For every panel of `dashboards`: run its query against the engine and write
 * `<out>/<dashboard id>/<panel id>.svg` and `.png`, plus `<out>/index.json` listing what was drawn (with paths
 * relative to `<out>`, so the folder can be archived or moved as build output).
 */
export async function renderDashboards(engine: Engine, out: string, dashboards: Dashboard[] = allDashboards): Promise<RenderedPanel[]> {
  const rendered: RenderedPanel[] = [];
  for (const dashboard of dashboards) {
    const folder = join(out, dashboard.id);
    await mkdir(folder, { recursive: true });
    for (const panel of dashboard.panels) {
      const { rows, svg, png } = await renderPanel(engine, panel);
      const files = { svg: join(folder, `${panel.id}.svg`), png: join(folder, `${panel.id}.png`) };
      await writeFile(files.svg, svg);
      await writeFile(files.png, png);
      rendered.push({ dashboard: dashboard.id, panel: panel.id, rows: rows.length, hasData: hasData(rows), ...files });
    }
  }
  const index = rendered.map((r) => ({ ...r, svg: relative(out, r.svg), png: relative(out, r.png) }));
  await writeFile(join(out, "index.json"), JSON.stringify(index, null, 2) + "\n");
  return rendered;
}
