import { afterEach, describe, expect, it } from "vitest";
import { dashboards } from "../../dashboards/definitions.ts";
import { dashboardsChecks } from "../../smoke/checks/dashboards.ts";
import { parseEndpoints, secretsOf } from "../../lib/contract/endpoints.ts";
import { runChecks, type CheckGroup } from "../../smoke/runner.ts";
import { startDashboardsApi, type DashboardsApi, type DashboardsApiOptions } from "../support/dashboards-api.ts";

// The dashboards UI check runs against a stand-in HTTP server that answers as Kibana's and OpenSearch
// Dashboards' documented status and saved-objects APIs do: no real server of either can run here.

const helkDashboards = dashboards.map((d) => ({ id: d.id, title: d.title }));
const password = "dash-Secret-9";
let server: DashboardsApi | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Runs the dashboards group after an engine.health that passes (the dashboards checks build on it). */
async function run(options: Omit<DashboardsApiOptions, "auth">, engineCreds = true) {
  server = await startDashboardsApi({ ...options, auth: { username: "elastic", password } });
  const endpoints = parseEndpoints(
    {
      kafka: { bootstrap: "127.0.0.1:9" },
      engine: { kind: "elasticsearch", url: "http://127.0.0.1:9", ...(engineCreds ? { username: "elastic", password } : {}) },
      dashboards: { kind: options.kind, url: server.url },
    },
    "test",
  );
  const engineHealth: CheckGroup = {
    component: "engine",
    checks: [{ id: "engine.health", component: "engine", title: "", run: async () => ({ status: "pass", message: "" }) }],
  };
  const report = await runChecks([engineHealth, dashboardsChecks(endpoints)], { timeoutSeconds: 10, secrets: secretsOf(endpoints) });
  return Object.fromEntries(report.checks.map((c) => [c.id, c]));
}

describe("dashboards checks against Kibana's documented API", () => {
  it("pass when the status is available and the HELK dashboards exist, sending the engine user", async () => {
    const r = await run({ kind: "kibana", health: "available", dashboards: [...helkDashboards, { id: "x", title: "other" }] });
    expect(helkDashboards.length).toBeGreaterThanOrEqual(3);
    expect(r["dashboards.status"]).toMatchObject({ status: "pass" });
    expect(r["dashboards.status"]!.message).toContain("9.1.0");
    expect(r["dashboards.saved-objects"]).toMatchObject({ status: "pass", message: `${helkDashboards.length} HELK dashboard(s) present` });
    expect(server!.requests.map((q) => q.path)).toContain("/api/saved_objects/_find?type=dashboard&per_page=1000&fields=title");
    expect(server!.requests.every((q) => q.headers.authorization?.startsWith("Basic "))).toBe(true);
  });

  it("fail naming kibana when the status is unavailable (503)", async () => {
    const r = await run({ kind: "kibana", health: "unavailable", dashboards: helkDashboards });
    expect(r["dashboards.status"]).toMatchObject({ status: "fail" });
    expect(r["dashboards.status"]!.message).toMatch(/^kibana at http:\/\/127\.0\.0\.1:\d+ answered 503 for \/api\/status: overall level unavailable/);
  });

  it("fail listing the HELK dashboards that are missing", async () => {
    const r = await run({ kind: "kibana", health: "available", dashboards: helkDashboards.slice(1) });
    expect(r["dashboards.saved-objects"]).toMatchObject({ status: "fail" });
    expect(r["dashboards.saved-objects"]!.message).toContain(`lacks dashboard(s): ${dashboards[0]!.title} (${dashboards[0]!.id})`);
  });

  it("fail with the server's answer when the credentials are refused, without printing them", async () => {
    const r = await run({ kind: "kibana", health: "available", dashboards: helkDashboards }, false);
    expect(r["dashboards.saved-objects"]!.message).toContain("answered 401");
    expect(r["dashboards.status"]).toMatchObject({ status: "fail" });
    expect(JSON.stringify(r)).not.toContain(password);
  });

  it("fail naming kibana when the server is stopped", async () => {
    server = await startDashboardsApi({ kind: "kibana", health: "available", dashboards: helkDashboards });
    const endpoints = parseEndpoints(
      { kafka: { bootstrap: "x:1" }, engine: { kind: "elasticsearch", url: "http://127.0.0.1:9" }, dashboards: { kind: "kibana", url: server.url } },
      "test",
    );
    await server.close();
    server = undefined;
    const ctx = { deadline: Date.now() + 5000, signal: new AbortController().signal, progress: () => undefined };
    for (const check of dashboardsChecks(endpoints).checks) {
      await expect(check.run(ctx)).rejects.toThrow(/^kibana at http:\/\/127\.0\.0\.1:\d+\/api\/(status|saved_objects\/_find) did not answer: ECONNREFUSED$/);
    }
  });

  it("keep a base path in the URL", async () => {
    server = await startDashboardsApi({ kind: "kibana", health: "available", dashboards: helkDashboards, basePath: "/kibana" });
    const endpoints = parseEndpoints(
      { kafka: { bootstrap: "x:1" }, engine: { kind: "elasticsearch", url: "http://127.0.0.1:9" }, dashboards: { kind: "kibana", url: server.url } },
      "test",
    );
    const group = dashboardsChecks(endpoints);
    const ctx = { deadline: Date.now() + 5000, signal: new AbortController().signal, progress: () => undefined };
    await expect(group.checks[0]!.run(ctx)).resolves.toMatchObject({ status: "pass" });
    expect(server.requests[0]!.path).toBe("/kibana/api/status");
  });
});

describe("dashboards checks against OpenSearch Dashboards' documented API", () => {
  it("pass when the overall state is green and the dashboards exist", async () => {
    const r = await run({ kind: "opensearch-dashboards", health: "green", dashboards: helkDashboards });
    expect(r["dashboards.status"]).toMatchObject({ status: "pass" });
    expect(r["dashboards.status"]!.message).toContain("overall state green");
    expect(r["dashboards.saved-objects"]).toMatchObject({ status: "pass" });
  });

  it("fail naming opensearch-dashboards when the state is red or yellow", async () => {
    for (const health of ["red", "yellow"]) {
      const r = await run({ kind: "opensearch-dashboards", health, dashboards: helkDashboards });
      expect(r["dashboards.status"]!.status).toBe("fail");
      expect(r["dashboards.status"]!.message).toMatch(new RegExp(`^opensearch-dashboards at .* overall state ${health}`));
      await server!.close();
      server = undefined;
    }
  });
});

describe("dashboards checks without a dashboards UI", () => {
  it("skip both checks with the reason", async () => {
    const endpoints = parseEndpoints({ kafka: { bootstrap: "x:1" }, engine: { kind: "opensearch", url: "http://127.0.0.1:9" }, dashboards: null }, "test");
    const report = await runChecks([dashboardsChecks(endpoints)], { timeoutSeconds: 5, secrets: [] });
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ["dashboards.status", "skip"],
      ["dashboards.saved-objects", "skip"],
    ]);
    expect(report.checks[0]!.message).toContain("endpoints.dashboards is null");
  });
});
