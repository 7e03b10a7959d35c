import { dashboards as helkDashboards } from "../../dashboards/definitions.ts";
import type { StackEndpoints } from "../../lib/contract/endpoints.ts";
import { basicAuth, excerpt, under } from "../../lib/http.ts";
import { httpGet } from "../http.ts";
import type { CheckGroup, SmokeCheck } from "../runner.ts";

type DashboardsEndpoint = NonNullable<StackEndpoints["dashboards"]>;

/**
 * Checks Kibana or OpenSearch Dashboards through their documented HTTP APIs: `GET /api/status` and
 * `GET /api/saved_objects/_find?type=dashboard`. Both products accept the engine's user (basic auth).
 * Skipped with the reason when the stack deploys no dashboards UI.
 */
export function dashboardsChecks(endpoints: StackEndpoints): CheckGroup {
  const ui = endpoints.dashboards;
  const skipped = (check: Omit<SmokeCheck, "run">): SmokeCheck => ({
    ...check,
    run: async () => ({ status: "skip", message: "the stack deploys no dashboards UI (endpoints.dashboards is null)" }),
  });
  const status = { id: "dashboards.status", component: "dashboards" as const, title: "status API reports available" };
  const saved = { id: "dashboards.saved-objects", component: "dashboards" as const, title: "HELK dashboards exist" };
  if (!ui) return { component: "dashboards", checks: [skipped(status), skipped(saved)] };

  const name = ui.kind;
  const headers = basicAuth(endpoints.engine.username, endpoints.engine.password);
  return {
    component: "dashboards",
    checks: [
      {
        ...status,
        // The UI's status follows the engine's; an engine outage is reported by the engine checks.
        needs: ["engine.health"],
        async run({ signal }) {
          const res = await httpGet(name, under(ui.url, "api/status"), { headers, signal });
          const verdict = statusVerdict(ui, res.body);
          if (!verdict.ok) throw new Error(`${name} at ${ui.url} answered ${res.status} for /api/status: ${verdict.detail}`);
          return { status: "pass", message: `${name} ${verdict.version ?? ""} ${verdict.detail}`.replace(/\s+/g, " ") };
        },
      },
      {
        ...saved,
        needs: ["engine.health"],
        async run({ signal }) {
          const url = under(ui.url, "api/saved_objects/_find", { type: "dashboard", per_page: "1000", fields: "title" });
          const res = await httpGet(name, url, { headers, signal });
          const objects = (res.body as { saved_objects?: Array<{ id?: string }> }).saved_objects;
          if (res.status !== 200 || !Array.isArray(objects)) {
            throw new Error(`${name} at ${ui.url} answered ${res.status} for the saved objects API: ${excerpt(res.body)}`);
          }
          // Saved-object ids are stable (`helk dashboards import` overwrites by id), titles may be edited by users.
          const ids = new Set(objects.map((o) => o.id));
          const missing = helkDashboards.filter((d) => !ids.has(d.id)).map((d) => `${d.title} (${d.id})`);
          if (missing.length > 0) throw new Error(`${name} at ${ui.url} lacks dashboard(s): ${missing.join(", ")}`);
          return { status: "pass", message: `${helkDashboards.length} HELK dashboard(s) present` };
        },
      },
    ],
  };
}

/** Reads the documented status shapes: Kibana 8+ `status.overall.level`, OpenSearch Dashboards `status.overall.state`. */
function statusVerdict(ui: DashboardsEndpoint, body: unknown): { ok: boolean; detail: string; version?: string } {
  const b = body as { version?: { number?: string }; status?: { overall?: { level?: string; state?: string; summary?: string } } };
  const overall = b?.status?.overall;
  if (!overall) return { ok: false, detail: `no status.overall in ${excerpt(body)}` };
  if (ui.kind === "kibana") {
    return { ok: overall.level === "available", detail: `overall level ${overall.level}${overall.summary ? ` (${overall.summary})` : ""}`, version: b.version?.number };
  }
  return { ok: overall.state === "green", detail: `overall state ${overall.state}`, version: b.version?.number };
}
