import { retry, RetryExhausted } from "../lib/retry.ts";
import { basicAuth, excerpt, under, withoutCredentials } from "../smoke/http.ts";
import type { DashboardsProduct } from "./model.ts";

/**
 * Imports saved objects through the products' saved objects import API
 * (`POST /api/saved_objects/_import?overwrite=true`, multipart field `file`), after checking with
 * `GET /api/status` that the server is the product and major version the objects were written for.
 * Overwrite plus fixed ids makes a second import replace the first one object for object.
 */

export interface DashboardsTarget {
  kind: DashboardsProduct;
  url: string;
  username?: string;
  password?: string;
}

/** Why an import failed; `reason` lets callers (and tests) tell the cases apart without parsing text. */
export class DashboardsImportError extends Error {
  override name = "DashboardsImportError";
  constructor(
    message: string,
    readonly reason: "unreachable" | "auth" | "version" | "rejected" | "http",
  ) {
    super(message);
  }
}

const productName: Record<DashboardsProduct, string> = { kibana: "Kibana", "opensearch-dashboards": "OpenSearch Dashboards" };
/** The major version each product's generated objects are written for. */
export const expectedMajor: Record<DashboardsProduct, number> = { kibana: 9, "opensearch-dashboards": 2 };
/** The header each product requires on state-changing requests (cross-site request forgery guard). */
const xsrfHeader: Record<DashboardsProduct, string> = { kibana: "kbn-xsrf", "opensearch-dashboards": "osd-xsrf" };

interface StatusBody {
  version?: { number?: string };
  status?: { overall?: { level?: string; state?: string } };
}

export interface ImportResult {
  /** Version the server reported. */
  version: string;
  successCount: number;
  /** Objects that replaced an existing object with the same type and id. */
  overwritten: number;
}

function credentialsFor(target: DashboardsTarget): { url: string; username?: string; headers: Record<string, string> } {
  // Credentials in the URL move to the Authorization header so the URL can appear in messages.
  const parsed = new URL(target.url);
  const username = target.username ?? (parsed.username ? decodeURIComponent(parsed.username) : undefined);
  const password = target.password ?? (parsed.password ? decodeURIComponent(parsed.password) : undefined);
  return { url: withoutCredentials(target.url), username, headers: basicAuth(username, password) };
}

async function send(
  target: DashboardsTarget,
  path: string,
  init: RequestInit & { headers: Record<string, string> },
  query?: Record<string, string>,
) {
  const { url, username, headers } = credentialsFor(target);
  const where = `${productName[target.kind]} at ${url}`;
  let res: Response;
  try {
    res = await fetch(under(url, path, query), {
      ...init,
      headers: { ...headers, ...init.headers },
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    const { cause } = err as { cause?: { code?: string; message?: string } };
    const why = cause?.code ?? (cause?.message || (err as Error).message);
    throw new DashboardsImportError(`${where} did not answer ${init.method ?? "GET"} ${path}: ${why}`, "unreachable");
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's error page): kept as text for the message.
  }
  if (res.status === 401 || res.status === 403) {
    const user = username ? `as user ${username}` : "without credentials";
    throw new DashboardsImportError(
      `${where} refused ${init.method ?? "GET"} ${path} ${user} (${res.status} ${res.status === 401 ? "Unauthorized" : "Forbidden"}): ` +
        `${excerpt(messageOf(body))}. Set --username/--password (or HELK_DASHBOARDS_USERNAME/HELK_DASHBOARDS_PASSWORD) ` +
        `to a user allowed to ${res.status === 403 ? "manage saved objects" : "log in"}.`,
      "auth",
    );
  }
  return { status: res.status, body, where };
}

const messageOf = (body: unknown): unknown => (body as { message?: unknown } | undefined)?.message ?? body;

/**
 * Asks `GET /api/status` which product and version answers and fails unless it is the expected one.
 * Kibana 8+ reports `status.overall.level`; OpenSearch Dashboards (7.10 lineage) reports `status.overall.state`.
 */
export async function checkVersion(target: DashboardsTarget): Promise<string> {
  const { status, body, where } = await send(target, "api/status", { method: "GET", headers: { accept: "application/json" } });
  if (status !== 200) throw new DashboardsImportError(`${where}: GET api/status answered ${status}: ${excerpt(body)}`, "http");
  const s = body as StatusBody;
  const version = s.version?.number;
  if (!version) throw new DashboardsImportError(`${where}: GET api/status has no version.number: ${excerpt(body)}`, "version");
  const major = Number(version.split(".")[0]);
  const looksLike: DashboardsProduct | undefined =
    s.status?.overall?.state !== undefined ? "opensearch-dashboards" : s.status?.overall?.level !== undefined ? "kibana" : undefined;
  const expected = `${productName[target.kind]} ${expectedMajor[target.kind]}.x`;
  if (looksLike && looksLike !== target.kind) {
    throw new DashboardsImportError(
      `${where} is ${productName[looksLike]} ${version}, but saved objects for ${expected} were asked for; use --kind ${looksLike}`,
      "version",
    );
  }
  if (major !== expectedMajor[target.kind]) {
    throw new DashboardsImportError(
      `${where} reports version ${version}; these saved objects are written for ${expected}`,
      "version",
    );
  }
  return version;
}

interface ImportBody {
  success?: boolean;
  successCount?: number;
  successResults?: { type: string; id: string; overwrite?: boolean }[];
  errors?: { type: string; id: string; title?: string; error?: { type?: string; references?: { type: string; id: string }[] } }[];
}

/** Checks the server version, then imports `ndjson` with overwrite. Throws on any object the server rejects. */
export async function importSavedObjects(target: DashboardsTarget, ndjson: string): Promise<ImportResult> {
  const version = await checkVersion(target);
  const form = new FormData();
  form.append("file", new Blob([ndjson], { type: "application/ndjson" }), "helk-dashboards.ndjson");
  const { status, body, where } = await send(target, "api/saved_objects/_import", {
    method: "POST",
    body: form,
    headers: { [xsrfHeader[target.kind]]: "true" },
  }, { overwrite: "true" });
  if (status !== 200) {
    throw new DashboardsImportError(`${where}: saved objects import answered ${status}: ${excerpt(messageOf(body), 400)}`, "http");
  }
  const result = body as ImportBody;
  if (result.success !== true || (result.errors?.length ?? 0) > 0) {
    const problems = (result.errors ?? []).map((e) => {
      const refs = e.error?.references?.map((r) => `${r.type}/${r.id}`).join(", ");
      return `${e.type}/${e.id}: ${e.error?.type ?? "error"}${refs ? ` (${refs})` : ""}`;
    });
    throw new DashboardsImportError(`${where} rejected saved objects: ${problems.join("; ") || excerpt(body)}`, "rejected");
  }
  return {
    version,
    successCount: result.successCount ?? 0,
    overwritten: (result.successResults ?? []).filter((r) => r.overwrite).length,
  };
}

/**
 * {@link importSavedObjects}, retrying while the server is not up yet (no answer, or 503 while it starts),
 * for up to `waitSeconds`: a setup job runs right after a deploy. Auth, version and rejections fail at once.
 */
export async function importWhenReady(target: DashboardsTarget, ndjson: string, waitSeconds: number): Promise<ImportResult> {
  const starting = (err: unknown) =>
    err instanceof DashboardsImportError && (err.reason === "unreachable" || (err.reason === "http" && / 503\b/.test(err.message)));
  try {
    // Polls every 2 s: the UI answers as soon as it has started, so a longer pause only adds to the deploy time.
    return await retry("dashboards import", () => importSavedObjects(target, ndjson), { initialDelayMs: 2000, maxDelayMs: 2000, maxElapsedMs: waitSeconds * 1000 }, { isRetryable: starting });
  } catch (err) {
    // Out of time: the server's own last answer says more than "gave up".
    throw err instanceof RetryExhausted ? err.lastError : err;
  }
}
