import { withoutCredentials } from "../lib/http.ts";

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

function fetchFailure(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return `no answer within ${requestTimeoutMs / 1000}s`;
  if (e.name === "AbortError") return "aborted (smoke timeout)";
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}
