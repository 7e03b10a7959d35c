import { dataViews as allDataViews } from "./data-views.ts";
import { dashboards as allDashboards } from "./definitions.ts";
import { kibanaDashboard, kibanaDataView, kibanaPanelObject } from "./kibana.ts";
import type { Dashboard, DashboardsProduct, DataView } from "./model.ts";
import { osdDashboard, osdIndexPattern, osdPanelObject } from "./opensearch-dashboards.ts";
import type { SavedObject } from "./saved-objects.ts";

const generators = {
  kibana: { dataView: kibanaDataView, panel: kibanaPanelObject, dashboard: kibanaDashboard },
  "opensearch-dashboards": { dataView: osdIndexPattern, panel: osdPanelObject, dashboard: osdDashboard },
} as const;

/**
 * All saved objects for one product, referenced objects before the objects referring to them:
 * data views, then each panel's object, then the dashboards. Ids are the definitions' ids, so
 * importing with overwrite replaces the previous import instead of adding copies.
 */
export function savedObjects(
  product: DashboardsProduct,
  dashboards: Dashboard[] = allDashboards,
  dataViews: DataView[] = allDataViews,
): SavedObject[] {
  const generate = generators[product];
  return [
    ...dataViews.map(generate.dataView),
    ...dashboards.flatMap((d) => d.panels.map(generate.panel)),
    ...dashboards.map(generate.dashboard),
  ];
}
