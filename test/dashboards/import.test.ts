import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { savedObjects } from "../../dashboards/generate.ts";
import { DashboardsImportError, importSavedObjects, importWhenReady } from "../../dashboards/import.ts";
import type { DashboardsProduct } from "../../dashboards/model.ts";
import { toNdjson } from "../../dashboards/saved-objects.ts";
import { startDashboardsApi, type DashboardsApi } from "../support/dashboards-api.ts";
import { helk, writeEndpointsFile } from "../support/helk-cli.ts";

// No Kibana or OpenSearch Dashboards can run here: these tests import into a local server that answers as
// the documented status and saved-objects import APIs do (see test/support/dashboards-api.ts).

const password = "s3cret-Pa55";
const versions: Record<DashboardsProduct, string> = { kibana: "9.1.3", "opensearch-dashboards": "2.19.1" };
let servers: DashboardsApi[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function fakeApi(product: DashboardsProduct, extra: { version?: string; startingRequests?: number } = {}) {
  const api = await startDashboardsApi({
    kind: product,
    version: extra.version ?? versions[product],
    auth: { username: "elastic", password },
    readOnlyUsers: { viewer: "viewer-pw" },
    startingRequests: extra.startingRequests,
  });
  servers.push(api);
  return api;
}

const snapshot = (api: DashboardsApi) => JSON.stringify([...api.store.entries()].sort(([a], [b]) => a.localeCompare(b)));

describe.each<DashboardsProduct>(["kibana", "opensearch-dashboards"])("import into %s", (product) => {
  const ndjson = toNdjson(savedObjects(product));
  const objectCount = savedObjects(product).length;

  it("imports every object, and importing again overwrites them all and changes nothing", async () => {
    const api = await fakeApi(product);
    const target = { kind: product, url: api.url, username: "elastic", password };
    const first = await importSavedObjects(target, ndjson);
    expect(first).toEqual({ version: versions[product], successCount: objectCount, overwritten: 0 });
    const afterFirst = snapshot(api);
    expect(api.store.size).toBe(objectCount);

    const second = await importSavedObjects(target, ndjson);
    expect(second).toEqual({ version: versions[product], successCount: objectCount, overwritten: objectCount });
    expect(snapshot(api)).toBe(afterFirst);

    const imports = api.requests.filter((r) => r.path.startsWith("/api/saved_objects/_import"));
    expect(imports.map((r) => r.path)).toEqual(Array(2).fill("/api/saved_objects/_import?overwrite=true"));
    expect(imports[0]!.headers[product === "kibana" ? "kbn-xsrf" : "osd-xsrf"]).toBe("true");
    // The status check comes before each import.
    expect(api.requests.map((r) => r.path.split("?")[0])).toEqual(["/api/status", "/api/saved_objects/_import", "/api/status", "/api/saved_objects/_import"]);
  });

  it("fails on wrong credentials with an authentication error that does not print the password", async () => {
    const api = await fakeApi(product);
    const err = await importSavedObjects({ kind: product, url: api.url, username: "elastic", password: "wrong-Pa55" }, ndjson).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DashboardsImportError);
    expect((err as DashboardsImportError).reason).toBe("auth");
    expect((err as Error).message).toMatch(/401 Unauthorized/);
    expect((err as Error).message).toMatch(/as user elastic/);
    expect((err as Error).message).not.toMatch(/wrong-Pa55/);
    expect(api.store.size).toBe(0);
  });

  it("fails with 403 for a user who may not write saved objects", async () => {
    const api = await fakeApi(product);
    const err = await importSavedObjects({ kind: product, url: `http://viewer:viewer-pw@${api.url.slice(7)}`, }, ndjson).catch((e: unknown) => e);
    expect((err as DashboardsImportError).reason).toBe("auth");
    expect((err as Error).message).toMatch(/403 Forbidden/);
    expect((err as Error).message).not.toMatch(/viewer-pw/);
  });

  it("refuses a server of another major version, naming the expected one", async () => {
    const api = await fakeApi(product, { version: product === "kibana" ? "8.15.2" : "1.3.19" });
    const err = await importSavedObjects({ kind: product, url: api.url, username: "elastic", password }, ndjson).catch((e: unknown) => e);
    expect((err as DashboardsImportError).reason).toBe("version");
    expect((err as Error).message).toContain(product === "kibana" ? "reports version 8.15.2; these saved objects are written for Kibana 9.x" : "reports version 1.3.19; these saved objects are written for OpenSearch Dashboards 2.x");
    expect(api.requests.some((r) => r.path.startsWith("/api/saved_objects"))).toBe(false);
  });

  it("names the other product when pointed at it", async () => {
    const other: DashboardsProduct = product === "kibana" ? "opensearch-dashboards" : "kibana";
    const api = await fakeApi(other);
    const err = await importSavedObjects({ kind: product, url: api.url, username: "elastic", password }, ndjson).catch((e: unknown) => e);
    expect((err as DashboardsImportError).reason).toBe("version");
    expect((err as Error).message).toContain(`use --kind ${other}`);
  });

  it("reports objects the server rejects, with the missing references", async () => {
    const api = await fakeApi(product);
    const withoutDataViews = toNdjson(savedObjects(product).filter((o) => o.type !== "index-pattern"));
    const err = await importSavedObjects({ kind: product, url: api.url, username: "elastic", password }, withoutDataViews).catch((e: unknown) => e);
    expect((err as DashboardsImportError).reason).toBe("rejected");
    expect((err as Error).message).toMatch(/missing_references \(index-pattern\/helk-events\)/);
  });

  it("waits for a server that is still starting (503), within the wait time", async () => {
    const api = await fakeApi(product, { startingRequests: 2 });
    const result = await importWhenReady({ kind: product, url: api.url, username: "elastic", password }, ndjson, 30);
    expect(result.successCount).toBe(objectCount);
    const fails = await fakeApi(product, { startingRequests: 1000 });
    await expect(importWhenReady({ kind: product, url: fails.url, username: "elastic", password }, ndjson, 0)).rejects.toThrow(/answered 503/);
  });
});

describe("the Lens objects", () => {
  it("are refused by OpenSearch Dashboards, which has no Lens (the products need their own objects)", async () => {
    const api = await fakeApi("opensearch-dashboards");
    const err = await importSavedObjects({ kind: "opensearch-dashboards", url: api.url, username: "elastic", password }, toNdjson(savedObjects("kibana"))).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/lens\/helk-top-hosts: unsupported_type/);
  });
});

describe("helk dashboards import (CLI)", () => {
  it("takes the target from environment variables, imports, and never prints the password", async () => {
    const api = await fakeApi("kibana");
    const env = {
      HELK_DASHBOARDS_KIND: "kibana",
      HELK_DASHBOARDS_URL: api.url,
      HELK_DASHBOARDS_USERNAME: "elastic",
      HELK_DASHBOARDS_PASSWORD: password,
    };
    const ok = await helk(["dashboards", "import"], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`imported ${savedObjects("kibana").length} saved objects into kibana 9.1.3`));
    expect(ok.stdout + ok.stderr).not.toContain(password);

    const failed = await helk(["dashboards", "import", "--password", "not-the-Pa55"], env);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/helk dashboards import: Kibana at .* refused GET api\/status as user elastic \(401 Unauthorized\)/);
    expect(failed.stdout + failed.stderr).not.toContain("not-the-Pa55");
  });

  it("takes kind and URL from an endpoints file and the engine user as credentials", async () => {
    const api = await fakeApi("opensearch-dashboards");
    const dir = mkdtempSync(join(tmpdir(), "helk-dashboards-"));
    const file = writeEndpointsFile(join(dir, "endpoints.json"), {
      kafka: { bootstrap: "127.0.0.1:9092" },
      engine: { kind: "opensearch", url: "http://127.0.0.1:9200", username: "elastic", password },
      dashboards: { kind: "opensearch-dashboards", url: api.url },
    });
    const env = { HELK_DASHBOARDS_KIND: "", HELK_DASHBOARDS_URL: "", HELK_DASHBOARDS_USERNAME: "", HELK_DASHBOARDS_PASSWORD: "" };
    const ok = await helk(["dashboards", "import", "--endpoints", file], env).finally(() => rmSync(dir, { recursive: true, force: true }));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/into opensearch-dashboards 2\.19\.1/);
    expect(ok.stdout + ok.stderr).not.toContain(password);
    expect(api.store.size).toBe(savedObjects("opensearch-dashboards").length);
  });

  it("names the setting that is missing", async () => {
    const env = { HELK_DASHBOARDS_KIND: "", HELK_DASHBOARDS_URL: "" };
    const failed = await helk(["dashboards", "import"], env);
    expect(failed.stderr).toMatch(/missing dashboards kind: set --kind or HELK_DASHBOARDS_KIND or dashboards.kind of --endpoints/);
  });
});
