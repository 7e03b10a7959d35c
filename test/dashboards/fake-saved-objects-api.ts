import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { DashboardsProduct } from "../../dashboards/model.ts";
import { parseNdjson, type SavedObject } from "../../dashboards/saved-objects.ts";

/**
 * A stand-in for Kibana / OpenSearch Dashboards that answers `GET /api/status` and
 * `POST /api/saved_objects/_import` as their documentation describes (no real Kibana can run here):
 * basic auth (401 without/with wrong credentials, 403 for a user without saved-object privileges),
 * the product's xsrf header required on the import (400 otherwise), the multipart `file` field,
 * `missing_references` for references neither in the file nor stored, `conflict` for an existing
 * object without `overwrite=true`, `unsupported_type` for types the product does not have, and the
 * documented response body (`success`, `successCount`, `successResults[].overwrite`, `errors`).
 * Stored objects are kept in memory so a test can compare the state after each import.
 */
export interface FakeApiOptions {
  product: DashboardsProduct;
  version: string;
  username: string;
  password: string;
  /** Users that may log in but not write saved objects (403 on import). */
  readOnlyUsers?: Record<string, string>;
  /** Answer 503 to this many requests first, as a server does while it starts. */
  startingRequests?: number;
}

export interface FakeApi {
  url: string;
  /** Stored objects by `type/id`. */
  store: Map<string, SavedObject>;
  /** Every request seen: method, path with query, headers. */
  requests: { method: string; path: string; headers: IncomingMessage["headers"] }[];
  close(): Promise<void>;
}

const types: Record<DashboardsProduct, Set<string>> = {
  kibana: new Set(["index-pattern", "lens", "visualization", "search", "dashboard"]),
  "opensearch-dashboards": new Set(["index-pattern", "visualization", "search", "dashboard"]),
};
const xsrf: Record<DashboardsProduct, string> = { kibana: "kbn-xsrf", "opensearch-dashboards": "osd-xsrf" };

function statusBody(product: DashboardsProduct, version: string) {
  const build = { number: version, build_hash: "0000000", build_number: 1, build_snapshot: false };
  return product === "kibana"
    ? { name: "kibana", uuid: "5b2de169-2785-441b-ae8c-186a1936b17d", version: build, status: { overall: { level: "available", summary: "All services and plugins are available" }, core: {}, plugins: {} } }
    : { name: "opensearch-dashboards", uuid: "5b2de169-2785-441b-ae8c-186a1936b17d", version: build, status: { overall: { state: "green", title: "Green", nickname: "Looking good", icon: "success", uiColor: "secondary" }, statuses: [] }, metrics: {} };
}

export async function startFakeSavedObjectsApi(options: FakeApiOptions): Promise<FakeApi> {
  const store = new Map<string, SavedObject>();
  const requests: FakeApi["requests"] = [];
  let starting = options.startingRequests ?? 0;

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const httpError = (res: ServerResponse, status: number, error: string, message: string) => reply(res, status, { statusCode: status, error, message });

  const user = (req: IncomingMessage): string | undefined => {
    const header = req.headers.authorization;
    if (!header?.startsWith("Basic ")) return undefined;
    const [name, ...rest] = Buffer.from(header.slice(6), "base64").toString().split(":");
    const password = rest.join(":");
    if (name === options.username && password === options.password) return name;
    if (name && options.readOnlyUsers?.[name] === password) return name;
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    requests.push({ method: req.method ?? "", path: url.pathname + url.search, headers: req.headers });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (starting > 0) {
      starting--;
      return httpError(res, 503, "Service Unavailable", `${options.product} server is not ready yet`);
    }
    const who = user(req);
    if (!who) return httpError(res, 401, "Unauthorized", "[security_exception]: unable to authenticate user");

    if (req.method === "GET" && url.pathname === "/api/status") return reply(res, 200, statusBody(options.product, options.version));

    if (req.method === "POST" && url.pathname === "/api/saved_objects/_import") {
      if (req.headers[xsrf[options.product]] === undefined) {
        return httpError(res, 400, "Bad Request", `Request must contain a ${xsrf[options.product]} header.`);
      }
      if (who !== options.username) return httpError(res, 403, "Forbidden", `Unable to bulk_create ${[...types[options.product]].join(",")}`);
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
        if (!types[options.product].has(o.type)) {
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
        ...(options.product === "kibana" ? { warnings: [] } : {}),
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
    url: `http://127.0.0.1:${port}`,
    store,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
