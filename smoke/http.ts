/** Longest single HTTP request of a smoke check; the overall deadline still applies. */
const requestTimeoutMs = 10_000;

export interface HttpAnswer {
  status: number;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: unknown;
}

/**
 * GETs `url` and returns status and body for any HTTP answer. When nothing answers, throws an error
 * naming `service` and the URL (without credentials) and why (e.g. ECONNREFUSED).
 */
export async function httpGet(
  service: string,
  url: string,
  options: { headers?: Record<string, string>; signal: AbortSignal },
): Promise<HttpAnswer> {
  const shown = withoutCredentials(url);
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: "application/json", ...options.headers },
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(requestTimeoutMs)]),
    });
  } catch (err) {
    throw new Error(`${service} at ${shown} did not answer: ${fetchFailure(err)}`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (an HTML error page, a proxy's message): keep the text for the report.
  }
  return { status: res.status, body };
}

/** Basic-auth header value for `username`/`password`, or none. */
export function basicAuth(username: string | undefined, password: string | undefined): Record<string, string> {
  if (!username) return {};
  return { authorization: `Basic ${Buffer.from(`${username}:${password ?? ""}`).toString("base64")}` };
}

/** A short, credential-free rendering of an answer body for a failure message. */
export function excerpt(body: unknown, max = 200): string {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = "";
  parsed.password = "";
  parsed.search = "";
  return parsed.toString();
}

function fetchFailure(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return `no answer within ${requestTimeoutMs / 1000}s`;
  if (e.name === "AbortError") return "aborted (smoke timeout)";
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** `path` resolved under `base`, keeping a base path (`http://h/kibana` + `api/status` → `http://h/kibana/api/status`). */
export function under(base: string, path: string, query?: Record<string, string>): string {
  const url = new URL(path.replace(/^\//, ""), base.endsWith("/") ? base : `${base}/`);
  if (query) url.search = new URLSearchParams(query).toString();
  return url.toString();
}
