/** URL and header helpers shared by the clients of a deployed stack's HTTP APIs (smoke checks, dashboards import). */

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

/** `url` without login, password and query (which may carry a token), for messages. */
export function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = "";
  parsed.password = "";
  parsed.search = "";
  return parsed.toString();
}

/** `path` resolved under `base`, keeping a base path (`http://h/kibana` + `api/status` → `http://h/kibana/api/status`). */
export function under(base: string, path: string, query?: Record<string, string>): string {
  const url = new URL(path.replace(/^\//, ""), base.endsWith("/") ? base : `${base}/`);
  if (query) url.search = new URLSearchParams(query).toString();
  return url.toString();
}
