import { eventsDataView } from "./data-views.ts";
import type { Dashboard, DataView, Panel, PanelQuery, Terms } from "./model.ts";

/**
 * Builders for dashboard panels, one per query kind, and the row layout that places them on the 48-column
 * grid. A dashboard definition then reads as a list of rows of panels, one line each, and no panel carries
 * hand-computed coordinates that could overlap or leave gaps.
 */

const gridColumns = 48;

export interface PanelOptions {
  /** Lucene query restricting the panel's documents. */
  filter?: string;
  description?: string;
  /** Defaults to the enriched events, which most panels read. */
  dataView?: DataView;
  /** Columns of the 48-wide grid; the row shares what panels without one leave evenly among them. */
  width?: number;
}

/** A panel before the layout places it. */
export type UnplacedPanel = Omit<Panel, "grid"> & { width?: number };

export function terms(field: string, size: number): Terms {
  return { field, size };
}

export function panel(id: string, title: string, query: PanelQuery, options: PanelOptions = {}): UnplacedPanel {
  const { dataView = query.kind === "vega" ? undefined : eventsDataView, ...rest } = options;
  return { id, title, ...(dataView ? { dataView } : {}), ...rest, query };
}

/** Documents per time bucket, one series per top value of `split` when given. */
export function overTime(id: string, title: string, split: Terms | undefined, options?: PanelOptions): UnplacedPanel {
  return panel(id, title, { kind: "events_over_time", ...(split ? { split } : {}) }, options);
}

/** Top values of one field, or of a combination of fields joined by `separator`. */
export function topValues(
  id: string,
  title: string,
  fields: string[],
  size: number,
  options: PanelOptions & { separator?: string } = {},
): UnplacedPanel {
  const { separator, ...rest } = options;
  return panel(id, title, { kind: "top_values", fields, size, ...(separator === undefined ? {} : { separator }) }, rest);
}

/** Top values of `by`, each split by the top values of `split`. */
export function breakdown(id: string, title: string, by: Terms, split: Terms, options?: PanelOptions): UnplacedPanel {
  return panel(id, title, { kind: "breakdown", by, split }, options);
}

/** A saved search: the newest documents as a table of `columns`. */
export function documents(id: string, title: string, columns: string[], size: number, options?: PanelOptions): UnplacedPanel {
  return panel(id, title, { kind: "documents", columns, size }, options);
}

/** A row of the layout: its height followed by its panels, left to right. */
export type Row = [height: number, ...panels: UnplacedPanel[]];

/** A dashboard whose rows are laid out top to bottom. */
export function dashboard(id: string, title: string, description: string, layout: Row[]): Dashboard {
  return { id, title, description, panels: rows(layout) };
}

function rows(layout: Row[]): Panel[] {
  let y = 0;
  return layout.flatMap(([h, ...panels]) => {
    const fixed = panels.reduce((sum, { width }) => sum + (width ?? 0), 0);
    const flexible = panels.filter(({ width }) => width === undefined).length;
    const shared = flexible > 0 ? (gridColumns - fixed) / flexible : 0;
    if (!Number.isInteger(shared) || fixed + shared * flexible > gridColumns) {
      throw new Error(`dashboard row at y=${y}: widths ${panels.map(({ width }) => width ?? "auto").join(", ")} do not fit ${gridColumns} columns`);
    }
    let x = 0;
    const placed = panels.map(({ width, ...unplaced }) => {
      const w = width ?? shared;
      const grid = { x, y, w, h };
      x += w;
      return { ...unplaced, grid };
    });
    y += h;
    return placed;
  });
}
