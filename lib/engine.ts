import { Client as ElasticClient } from "@elastic/elasticsearch";
import { Client as OpenSearchClient } from "@opensearch-project/opensearch";

/**
 * The search engine behind HELK, reached through one small REST interface.
 *
 * Elasticsearch and OpenSearch share every REST path HELK uses (`_bulk`, `_search`, `_index_template`,
 * `_aliases`, `_cluster/health`, ...), so all engine code is written once against {@link Engine}; only
 * the client behind it differs: `@elastic/elasticsearch` for Elasticsearch 9, the OpenSearch client for
 * OpenSearch. Each adapter maps its client's errors to {@link EngineError}.
 */
export type EngineKind = "elasticsearch" | "opensearch";

export interface EngineOptions {
  /** Which server: decides the client library. */
  kind: EngineKind;
  /** Base URL, e.g. `http://127.0.0.1:9200`. */
  url: string;
  /** Basic-auth user; none when omitted (security disabled). */
  username?: string;
  password?: string;
  /** Per-request timeout in ms. Default 30000. */
  requestTimeoutMs?: number;
  /** Skip TLS verification (lab certificates). Default false. */
  insecureTls?: boolean;
}

export interface EngineRequest {
  method: "GET" | "PUT" | "POST" | "DELETE" | "HEAD";
  path: string;
  body?: unknown;
  /** NDJSON lines for `_bulk`: an array of action/document objects or a prebuilt string. */
  bulk?: readonly unknown[] | string;
  query?: Record<string, string | number | boolean>;
  /** HTTP statuses that are answers, not errors (e.g. 404 on a HEAD). */
  ignore?: number[];
}

export interface EngineResponse<T = unknown> {
  status: number;
  body: T;
}

/** An engine answer that is an error, or no answer at all (status 0). */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = "EngineError";
  }

  /** Worth retrying: no answer, 429 Too Many Requests, or a 5xx. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

export interface Engine {
  readonly kind: EngineKind;
  readonly url: string;
  request<T = unknown>(req: EngineRequest): Promise<EngineResponse<T>>;
  close(): Promise<void>;
}

interface TransportLike {
  request(
    params: { method: string; path: string; body?: unknown; bulkBody?: unknown; querystring?: Record<string, unknown> },
    options: { ignore?: number[]; requestTimeout?: number; maxRetries?: number; meta?: boolean },
  ): Promise<unknown>;
}

/** Creates the adapter for `options.kind`. No request is made until the first call. */
export function createEngine(options: EngineOptions): Engine {
  const auth = options.username ? { username: options.username, password: options.password ?? "" } : undefined;
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const tls = options.insecureTls ? { rejectUnauthorized: false } : undefined;
  // Retries are the caller's job (with backoff that knows about bulk semantics), so the clients make none.
  const client =
    options.kind === "elasticsearch"
      ? new ElasticClient({ node: options.url, auth, requestTimeout, maxRetries: 0, tls })
      : new OpenSearchClient({ node: options.url, auth, requestTimeout, maxRetries: 0, ssl: tls });
  const transport = client.transport as unknown as TransportLike;

  return {
    kind: options.kind,
    url: options.url,
    async request<T>(req: EngineRequest): Promise<EngineResponse<T>> {
      const bulkBody = typeof req.bulk === "string" ? req.bulk : req.bulk?.map((line) => JSON.stringify(line)).join("\n") + "\n";
      try {
        const res = (await transport.request(
          { method: req.method, path: req.path, body: req.body, bulkBody: req.bulk ? bulkBody : undefined, querystring: req.query },
          { ignore: req.ignore, meta: true },
        )) as { body: T; statusCode: number | null };
        return { status: res.statusCode ?? 0, body: res.body };
      } catch (err) {
        throw toEngineError(err, options, req);
      }
    },
    close: () => client.close(),
  };
}

function toEngineError(err: unknown, options: EngineOptions, req: EngineRequest): EngineError {
  const e = err as { meta?: { statusCode?: number; body?: unknown }; message?: string; name?: string };
  const status = e.meta?.statusCode ?? 0;
  const where = `${options.kind} at ${options.url} (${req.method} ${req.path})`;
  if (status === 0) return new EngineError(`${where} did not answer: ${e.message ?? String(err)}`, 0);
  const reason = errorReason(e.meta?.body) ?? e.message ?? "unknown error";
  return new EngineError(`${where} answered ${status}: ${reason}`, status, e.meta?.body);
}

/** The `error.reason` (or `error.type`) of an engine error body, when it has one. */
export function errorReason(body: unknown): string | undefined {
  const error = (body as { error?: unknown } | undefined)?.error;
  if (typeof error === "string") return error;
  const obj = error as { reason?: string; type?: string; caused_by?: { reason?: string } } | undefined;
  if (!obj) return undefined;
  const base = obj.reason ?? obj.type;
  return obj.caused_by?.reason ? `${base} (caused by: ${obj.caused_by.reason})` : base;
}
