import { createServer, type Server } from "node:http";
import type { Logger } from "pino";
import type { Registry } from "prom-client";

export interface HealthSource {
  readiness(): Promise<{ ready: boolean; [part: string]: unknown }>;
}

/** `/healthz` (the process answers), `/readyz` (Kafka and engine reachable), `/metrics` (Prometheus text). */
export async function startHttp(host: string, port: number, service: HealthSource, registry: Registry, log: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const reply = (status: number, body: string, type = "application/json") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return reply(405, JSON.stringify({ error: "only GET" }));
    if (path === "/healthz") return reply(200, JSON.stringify({ status: "ok" }));
    if (path === "/readyz") {
      service.readiness().then(
        (r) => reply(r.ready ? 200 : 503, JSON.stringify(r)),
        (err: Error) => reply(503, JSON.stringify({ ready: false, error: err.message })),
      );
      return;
    }
    if (path === "/metrics") {
      registry.metrics().then(
        (text) => reply(200, text, registry.contentType),
        (err: Error) => reply(500, JSON.stringify({ error: err.message })),
      );
      return;
    }
    reply(404, JSON.stringify({ error: `no ${path}; try /healthz, /readyz, /metrics` }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  log.info({ address }, "http listening");
  return server;
}
