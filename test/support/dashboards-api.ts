import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { DashboardsProduct } from "../../dashboards/model.ts";
import { parseNdjson, type SavedObject } from "../../dashboards/saved-objects.ts";

/**
 * A stand-in for Kibana 9 or OpenSearch Dashboards 2.x (no real server of either can run here), answering the
 * documented APIs HELK uses as the products' documentation describes:
 * - `GET /api/status`: Kibana's `status.overall.level` (503 unless available or degraded), OpenSearch
 *   Dashboards' legacy `status.overall.state` (503 when red);
 * - `GET /api/saved_objects/_find`: the stored objects of the asked `type`s, paged by `page` / `per_page`;
 * - `POST /api/saved_objects/_import`: the product's xsrf header required (400 otherwise), the multipart `file`
 *   field, `missing_references` for references neither in the file nor stored, `conflict` for an existing object
 *   without `overwrite=true`, `unsupported_type` for types the product does not have, and the documented body
 *   (`success`, `successCount`, `successResults[].overwrite`, `errors`).
 * With `auth`, requests without those basic-auth credentials (or a read-only user's) get 401, and read-only users
 * get 403 on the import. Every route sits under the optional base path (Kibana `server.basePath`). Stored
 * objects are kept in memory so a test can compare the state after each import.
 */
export interface DashboardsApiOptions {
  kind: DashboardsProduct;
  /** `version.number` in the status; 9.1.0 for Kibana, 2.19.0 for OpenSearch Dashboards unless given. */
  version?: string;
  /** Kibana `status.overall.level` (available, degraded, unavailable, critical) or OSD state (green, yellow, red); healthy unless given. */
  health?: string;
  /** Dashboards stored before the first request. */
  dashboards?: Array<{ id: string; title: string }>;
  /** When set, requests without this basic-auth user/password (or a read-only user's) get 401. */
  auth?: { username: string; password: string };
  /** Users that may log in but not write saved objects (403 on import). */
  readOnlyUsers?: Record<string, string>;
  /** Base path the server is mounted under (Kibana `server.basePath`), e.g. `/kibana`. */
  basePath?: string;
  /** Answer 503 to this many requests first, as a server does while it starts. */
  startingRequests?: number;
}

export interface DashboardsApi {
  /** The server's URL, base path included. */
  url: string;
  /** Stored objects by `type/id`. */
  store: Map<string, SavedObject>;
  /** Every request seen: method, path with query, headers. */
  requests: { method: string; path: string; headers: IncomingMessage["headers"] }[];
  close(): Promise<void>;
}

const savedObjectTypes: Record<DashboardsProduct, Set<string>> = {
  kibana: new Set(["index-pattern", "lens", "visualization", "search", "dashboard"]),
  "opensearch-dashboards": new Set(["index-pattern", "visualization", "search", "dashboard"]),
};
const xsrfHeader: Record<DashboardsProduct, string> = { kibana: "kbn-xsrf", "opensearch-dashboards": "osd-xsrf" };
const defaults: Record<DashboardsProduct, { version: string; health: string }> = {
  kibana: { version: "9.1.0", health: "available" },
  "opensearch-dashboards": { version: "2.19.0", health: "green" },
};

export async function startDashboardsApi(options: DashboardsApiOptions): Promise<DashboardsApi> {
  const { kind } = options;
  const base = options.basePath ?? "";
  const store = new Map<string, SavedObject>(
    (options.dashboards ?? []).map((d) => [`dashboard/${d.id}`, { type: "dashboard", id: d.id, attributes: { title: d.title }, references: [] }]),
  );
  const requests: DashboardsApi["requests"] = [];
  let starting = options.startingRequests ?? 0;

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(body));
  };
  const httpError = (res: ServerResponse, status: number, error: string, message: string) => reply(res, status, { statusCode: status, error, message });

  /** The user the request authenticates as: anyone when the server has no `auth`, else undefined unless known. */
  const user = (req: IncomingMessage): string | undefined => {
    if (!options.auth) return "anonymous";
    const header = req.headers.authorization;
    if (!header?.startsWith("Basic ")) return undefined;
    const [name, ...rest] = Buffer.from(header.slice(6), "base64").toString().split(":");
    const password = rest.join(":");
    if (name === options.auth.username && password === options.auth.password) return name;
    if (name && options.readOnlyUsers?.[name] === password) return name;
    return undefined;
  };
  const mayWrite = (who: string) => !options.auth || who === options.auth.username;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    requests.push({ method: req.method ?? "", path: url.pathname + url.search, headers: req.headers });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (starting > 0) {
      starting--;
      return httpError(res, 503, "Service Unavailable", `${kind} server is not ready yet`);
    }
    const who = user(req);
    if (!who) return httpError(res, 401, "Unauthorized", "[security_exception]: unable to authenticate user");

    if (req.method === "GET" && url.pathname === `${base}/api/status`) {
      const health = options.health ?? defaults[kind].health;
      const { status, body } = statusAnswer(kind, options.version ?? defaults[kind].version, health);
      return reply(res, status, body);
    }

    if (req.method === "GET" && url.pathname === `${base}/api/saved_objects/_find`) {
      const types = url.searchParams.getAll("type");
      const perPage = Number(url.searchParams.get("per_page") ?? 20);
      const page = Number(url.searchParams.get("page") ?? 1);
      const found = [...store.values()].filter((o) => types.includes(o.type));
      return reply(res, 200, {
        page,
        per_page: perPage,
        total: found.length,
        saved_objects: found.slice((page - 1) * perPage, page * perPage).map((o) => ({
          type: o.type,
          id: o.id,
          attributes: o.attributes,
          references: o.references,
          updated_at: "2026-11-29T00:00:00.000Z",
          version: "WzEsMV0=",
          namespaces: ["default"],
          score: 0,
        })),
      });
    }

    if (req.method === "POST" && url.pathname === `${base}/api/saved_objects/_import`) {
      if (req.headers[xsrfHeader[kind]] === undefined) {
        return httpError(res, 400, "Bad Request", `Request must contain a ${xsrfHeader[kind]} header.`);
      }
      if (!mayWrite(who)) return httpError(res, 403, "Forbidden", `Unable to bulk_create ${[...savedObjectTypes[kind]].join(",")}`);
      // Parse the multipart body with the platform's own form-data parser.
      const form = await new Request("http://localhost/", {
        method: "POST",
        headers: { "content-type": String(req.headers["content-type"]) },
        body: Buffer.concat(chunks),
      })
        .formData()
        .catch(() => undefined);
      const file = form?.get("file");
      if (!file || typeof file === "string") return httpError(res, 400, "Bad Request", "[request body.file]: expected value of type [Stream]");
      if (!file.name.endsWith(".ndjson")) return httpError(res, 400, "Bad Request", `Invalid file extension ${file.name}`);
      const objects = parseNdjson(await file.text());
      const overwrite = url.searchParams.get("overwrite") === "true";
      const inFile = new Set(objects.map((o) => `${o.type}/${o.id}`));
      const errors: unknown[] = [];
      const successResults: unknown[] = [];
      for (const o of objects) {
        const key = `${o.type}/${o.id}`;
        const title = o.attributes.title;
        if (!savedObjectTypes[kind].has(o.type)) {
          errors.push({ id: o.id, type: o.type, title, meta: { title }, error: { type: "unsupported_type" } });
          continue;
        }
        const missing = o.references.filter((r) => !inFile.has(`${r.type}/${r.id}`) && !store.has(`${r.type}/${r.id}`));
        if (missing.length > 0) {
          errors.push({ id: o.id, type: o.type, title, meta: { title }, error: { type: "missing_references", references: missing.map(({ type, id }) => ({ type, id })) } });
          continue;
        }
        const exists = store.has(key);
        if (exists && !overwrite) {
          errors.push({ id: o.id, type: o.type, title, meta: { title }, error: { type: "conflict" } });
          continue;
        }
        store.set(key, o);
        successResults.push({ type: o.type, id: o.id, meta: { title }, ...(exists ? { overwrite: true } : {}) });
      }
      return reply(res, 200, {
        success: errors.length === 0,
        successCount: successResults.length,
        successResults,
        ...(errors.length > 0 ? { errors } : {}),
        ...(kind === "kibana" ? { warnings: [] } : {}),
      });
    }
    return httpError(res, 404, "Not Found", "Not Found");
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => httpError(res, 500, "Internal Server Error", String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${base}`,
    store,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The documented status answer of each product for the given health. */
function statusAnswer(kind: DashboardsProduct, version: string, health: string): { status: number; body: unknown } {
  const build = { number: version, build_hash: "0000000", build_number: 1, build_snapshot: false };
  if (kind === "kibana") {
    // Kibana 8+: `status.overall.level`; the endpoint answers 503 unless the level is available or degraded.
    const ok = health === "available" || health === "degraded";
    return {
      status: ok ? 200 : 503,
      body: {
        name: "kibana",
        uuid: "5b2de169-2785-441b-ae8c-186a1936b17d",
        version: { ...build, build_flavor: "traditional" },
        status: {
          overall: { level: health, summary: health === "available" ? "All services and plugins are available" : "1 service is unavailable" },
          core: { elasticsearch: { level: health, summary: "" }, savedObjects: { level: health, summary: "" } },
          plugins: {},
        },
        metrics: { last_updated: "2026-11-29T00:00:00.000Z", collection_interval_in_millis: 5000 },
      },
    };
  }
  // OpenSearch Dashboards 2.x (Kibana 7 legacy format): `status.overall.state`, 503 when red.
  return {
    status: health === "red" ? 503 : 200,
    body: {
      name: "opensearch-dashboards",
      uuid: "0f8f3a8b-9b8e-4c8c-9a0b-0f7cb5a9e6a1",
      version: build,
      status: {
        overall: { since: "2026-11-29T00:00:00.000Z", state: health, title: health.charAt(0).toUpperCase() + health.slice(1), nickname: "", icon: "", uiColor: "" },
        statuses: [],
      },
      metrics: {},
    },
  };
}
