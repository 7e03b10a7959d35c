import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for Kibana 9 or OpenSearch Dashboards 2.x, answering the two documented APIs `helk smoke` uses
 * (no real server of either can run here): `GET /api/status` and `GET /api/saved_objects/_find`. The response
 * bodies follow the products' documentation, including Kibana's 503 while not available and 401 bodies.
 */
export interface FakeDashboardsOptions {
  kind: "kibana" | "opensearch-dashboards";
  /** Kibana `status.overall.level` (available, degraded, unavailable, critical) or OSD state (green, yellow, red). */
  health: string;
  dashboards: Array<{ id: string; title: string }>;
  /** When set, requests without this basic-auth user/password get 401. */
  auth?: { username: string; password: string };
  /** Base path the server is mounted under (Kibana `server.basePath`), e.g. `/kibana`. */
  basePath?: string;
}

export interface FakeDashboards {
  url: string;
  requests: Array<{ method: string; path: string; authorization?: string }>;
  close(): Promise<void>;
}

export async function startFakeDashboards(options: FakeDashboardsOptions): Promise<FakeDashboards> {
  const requests: FakeDashboards["requests"] = [];
  const base = options.basePath ?? "";
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    requests.push({ method: req.method ?? "", path: url.pathname + url.search, authorization: req.headers.authorization });
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(body));
    };
    if (options.auth) {
      const expected = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString("base64")}`;
      if (req.headers.authorization !== expected) {
        return send(401, { statusCode: 401, error: "Unauthorized", message: "[security_exception]: unable to authenticate user" });
      }
    }
    if (req.method === "GET" && url.pathname === `${base}/api/status`) return sendStatus(options, send);
    if (req.method === "GET" && url.pathname === `${base}/api/saved_objects/_find`) {
      const types = url.searchParams.getAll("type");
      const perPage = Number(url.searchParams.get("per_page") ?? 20);
      const page = Number(url.searchParams.get("page") ?? 1);
      const all = types.includes("dashboard") ? options.dashboards : [];
      const slice = all.slice((page - 1) * perPage, page * perPage);
      return send(200, {
        page,
        per_page: perPage,
        total: all.length,
        saved_objects: slice.map((d) => ({
          type: "dashboard",
          id: d.id,
          attributes: { title: d.title },
          references: [],
          updated_at: "2026-11-29T00:00:00.000Z",
          version: "WzEsMV0=",
          namespaces: ["default"],
          score: 0,
        })),
      });
    }
    send(404, { statusCode: 404, error: "Not Found", message: "Not Found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${base}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function sendStatus(options: FakeDashboardsOptions, send: (status: number, body: unknown) => void): void {
  if (options.kind === "kibana") {
    // Kibana 8+: `status.overall.level`; the endpoint answers 503 unless the level is available or degraded.
    const ok = options.health === "available" || options.health === "degraded";
    return send(ok ? 200 : 503, {
      name: "kibana",
      uuid: "5b2de169-2785-441b-ae8c-186a1936b17d",
      version: { number: "9.1.0", build_hash: "0", build_number: 1, build_snapshot: false, build_flavor: "traditional" },
      status: {
        overall: { level: options.health, summary: options.health === "available" ? "All services and plugins are available" : "1 service is unavailable" },
        core: { elasticsearch: { level: options.health, summary: "" }, savedObjects: { level: options.health, summary: "" } },
        plugins: {},
      },
      metrics: { last_updated: "2026-11-29T00:00:00.000Z", collection_interval_in_millis: 5000 },
    });
  }
  // OpenSearch Dashboards 2.x (Kibana 7 legacy format): `status.overall.state`, 503 when red.
  return send(options.health === "red" ? 503 : 200, {
    name: "opensearch-dashboards",
    uuid: "0f8f3a8b-9b8e-4c8c-9a0b-0f7cb5a9e6a1",
    version: { number: "2.19.0", build_hash: "0", build_number: 1, build_snapshot: false },
    status: {
      overall: { since: "2026-11-29T00:00:00.000Z", state: options.health, title: options.health === "green" ? "Green" : "Red", nickname: "", icon: "", uiColor: "" },
      statuses: [],
    },
    metrics: {},
  });
}
