import { request } from "node:https";

export interface HttpsJsonRequest {
  method: string;
  /** Body: sent as is when a string, else as JSON. */
  body?: unknown;
  /** Content-Type of the body. Default application/json. */
  contentType?: string;
  headers?: Record<string, string>;
  /** CA to trust, client certificate and key (PEM); `rejectUnauthorized: false` only for loopback health checks. */
  tls?: { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string; rejectUnauthorized?: boolean };
  timeoutMs?: number;
}

export interface HttpsJsonResponse {
  status: number;
  /** Parsed JSON, or the text when the answer is not JSON. */
  body: any;
  /** `Warning` header texts (RFC 7234 warn-text, e.g. Kubernetes admission warnings), one entry per warning. */
  warnings: string[];
}

/**
 * One HTTPS request with a private CA and optional client certificate (Node's fetch takes neither), answering
 * with the status, the parsed body and the Warning headers. Never throws on an HTTP status, only when no answer
 * came (connection, timeout).
 */
export function httpsJson(url: string, options: HttpsJsonRequest): Promise<HttpsJsonResponse> {
  const { method, body, contentType = "application/json", headers = {}, tls = {}, timeoutMs = 30_000 } = options;
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const req = request(
      url,
      {
        method,
        ...tls,
        headers: { Accept: "application/json", ...(payload !== undefined ? { "Content-Type": contentType } : {}), ...headers },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // plain text (health endpoints, proxies' error pages)
          }
          const warning = res.headers.warning;
          const warnings = (Array.isArray(warning) ? warning : warning ? [warning] : []).flatMap(warnTexts);
          resolve({ status: res.statusCode ?? 0, body: parsed, warnings });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** `299 - "text", 299 - "other"` (warn-values, possibly folded into one header line) into their texts. */
function warnTexts(header: string): string[] {
  return [...header.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, "$1"));
}
