import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEngine, EngineError } from "../../lib/engine.ts";

// The Elasticsearch adapter cannot meet a real Elasticsearch 9 here (no registry serves one), so this stand-in
// answers as Elasticsearch's documented REST API does: JSON bodies, the `X-Elastic-Product: Elasticsearch` header
// the official client requires, and `{ error: { type, reason, caused_by } }` error bodies. The OpenSearch adapter
// runs against the real OpenSearch in the integration suites.

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

let server: Server;
let url: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      const answer = (status: number, json: unknown, product = true): void => {
        res.writeHead(status, {
          "content-type": "application/json",
          ...(product ? { "x-elastic-product": "Elasticsearch" } : {}),
        });
        res.end(JSON.stringify(json));
      };
      if (req.url === "/_cluster/health") return answer(200, { cluster_name: "es", status: "green" });
      if (req.url?.startsWith("/_bulk")) return answer(200, { errors: false, items: [{ index: { status: 201 } }] });
      if (req.url === "/helk-events-x/_doc/1")
        return answer(400, {
          error: {
            type: "document_parsing_exception",
            reason: "[1:10] failed to parse field [src_ip] of type [ip]",
            caused_by: { type: "illegal_argument_exception", reason: "'not-an-ip' is not an IP string literal." },
          },
          status: 400,
        });
      if (req.url === "/busy/_search") return answer(429, { error: { type: "es_rejected_execution_exception", reason: "queue full" } });
      if (req.url === "/missing") return answer(404, { error: { type: "index_not_found_exception", reason: "no such index [missing]" } });
      if (req.url === "/not-elasticsearch") return answer(200, { ok: true }, false);
      answer(404, { error: "no handler" });
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((ok) => server.close(() => ok()));
});

function elasticsearch() {
  return createEngine({ kind: "elasticsearch", url, username: "elastic", password: "s3cret" });
}

describe("Elasticsearch adapter against a documented-API stand-in", () => {
  it("sends authenticated JSON requests in Elasticsearch 9's compatibility mode and returns status and body", async () => {
    const engine = elasticsearch();
    const res = await engine.request<{ status: string }>({ method: "GET", path: "/_cluster/health" });
    expect(res).toEqual({ status: 200, body: { cluster_name: "es", status: "green" } });
    const req = seen.at(-1)!;
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from("elastic:s3cret").toString("base64")}`);
    expect(req.headers.accept).toContain("compatible-with=9");
    await engine.close();
  });

  it("sends bulk operations as NDJSON, one line each, ending with a newline", async () => {
    const engine = elasticsearch();
    const ops = [{ index: { _index: "helk-events-x", _id: "a" } }, { event_id: 1 }];
    const res = await engine.request<{ errors: boolean }>({ method: "POST", path: "/_bulk", bulk: ops });
    expect(res.body.errors).toBe(false);
    const req = seen.at(-1)!;
    expect(req.body).toBe(`${JSON.stringify(ops[0])}\n${JSON.stringify(ops[1])}\n`);
    expect(req.headers["content-type"]).toContain("x-ndjson");
    await engine.close();
  });

  it("turns an error answer into an EngineError naming the server, the request and the engine's reason", async () => {
    const engine = elasticsearch();
    const err = await engine
      .request({ method: "PUT", path: "/helk-events-x/_doc/1", body: { src_ip: "not-an-ip" } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    const e = err as EngineError;
    expect(e.status).toBe(400);
    expect(e.retryable).toBe(false);
    expect(e.message).toContain(`elasticsearch at ${url} (PUT /helk-events-x/_doc/1) answered 400`);
    expect(e.message).toContain("failed to parse field [src_ip]");
    expect(e.message).toContain("caused by: 'not-an-ip' is not an IP string literal.");
    expect(e.message).not.toContain("s3cret");
    await engine.close();
  });

  it("marks 429 as retryable and lets ignored statuses through as answers", async () => {
    const engine = elasticsearch();
    const busy = (await engine.request({ method: "POST", path: "/busy/_search", body: {} }).catch((e: unknown) => e)) as EngineError;
    expect(busy.status).toBe(429);
    expect(busy.retryable).toBe(true);
    const missing = await engine.request({ method: "GET", path: "/missing", ignore: [404] });
    expect(missing.status).toBe(404);
    await engine.close();
  });

  it("refuses a server that does not say it is Elasticsearch", async () => {
    const engine = elasticsearch();
    const err = (await engine.request({ method: "GET", path: "/not-elasticsearch" }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(EngineError);
    expect(err.message).toMatch(/not Elasticsearch|unknown product|not supported/i);
    await engine.close();
  });

  it("reports an engine that does not answer with status 0, retryable, naming where it was", async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, "127.0.0.1", ok));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((ok) => closed.close(() => ok()));
    for (const kind of ["elasticsearch", "opensearch"] as const) {
      const engine = createEngine({ kind, url: `http://127.0.0.1:${port}`, requestTimeoutMs: 2_000 });
      const err = (await engine.request({ method: "GET", path: "/_cluster/health" }).catch((e: unknown) => e)) as EngineError;
      expect(err).toBeInstanceOf(EngineError);
      expect(err.status).toBe(0);
      expect(err.retryable).toBe(true);
      expect(err.message).toContain(`${kind} at http://127.0.0.1:${port} (GET /_cluster/health) did not answer`);
      await engine.close();
    }
  });
});
