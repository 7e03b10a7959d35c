import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { helkSmoke, writeEndpointsFile } from "../support/helk-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "helk-smoke-cli-"));
const enginePassword = "Engine-Pw-7731";
const jupyterToken = "Jupyter-Tok-5512";
const helk = helkSmoke;

// A server on loopback that answers every request with 500 and echoes the request headers back, the way a
// misbehaving proxy might: the token it was sent ends up in the error message and must still not be printed.
let echo: Server;
let echoUrl: string;
beforeAll(async () => {
  echo = createServer((req, res) => {
    res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ message: "internal error", headers: req.headers }));
  });
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
  echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => echo.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

function endpointsFile(): string {
  return writeEndpointsFile(join(dir, "endpoints.json"), {
    kafka: { bootstrap: "127.0.0.1:1" },
    // Nothing listens on port 2; the engine client's error quotes this URL, password included.
    engine: { kind: "opensearch", url: `http://admin:${enginePassword}@127.0.0.1:2`, username: "admin", password: enginePassword },
    dashboards: null,
    enrichment: { url: "http://127.0.0.1:3" },
    jupyter: { url: echoUrl, token: jupyterToken },
  });
}

describe("helk smoke (command line)", () => {
  it("prints a JSON report on stdout, progress on stderr, writes JUnit, exits 1, and never prints a credential", async () => {
    const junit = join(dir, "smoke.xml");
    const { code, stdout, stderr } = await helk(["--endpoints", endpointsFile(), "--json", "--junit", junit, "--timeout", "20"]);
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    const status = Object.fromEntries(report.checks.map((c: { id: string; status: string }) => [c.id, c.status]));
    expect(status).toEqual({
      "kafka.metadata": "fail",
      "kafka.topics": "fail",
      "kafka.roundtrip": "fail",
      "engine.health": "fail",
      "engine.templates": "fail",
      "engine.attack": "fail",
      "dashboards.status": "skip",
      "dashboards.saved-objects": "skip",
      "enrichment.ready": "skip",
      "enrichment.probe": "skip",
      "jupyter.status": "fail",
    });
    const jupyter = report.checks.find((c: { id: string }) => c.id === "jupyter.status");
    expect(jupyter.message).toMatch(/^jupyter at http:\/\/127\.0\.0\.1:\d+ answered 500 for \/api\/status: .*"authorization":"token \*\*\*"/);
    expect(report.checks.find((c: { id: string }) => c.id === "engine.health").message).toContain("opensearch at http://admin:***@127.0.0.1:2");
    expect(stderr).toMatch(/\[11\/11\] \S+ (fail|skip)/);

    const xml = readFileSync(junit, "utf8");
    const parsed = new XMLParser({ ignoreAttributes: false, isArray: (name) => ["testsuite", "testcase"].includes(name) }).parse(xml);
    expect(parsed.testsuites.testsuite.flatMap((s: { testcase: unknown[] }) => s.testcase)).toHaveLength(11);

    for (const secret of [enginePassword, jupyterToken]) {
      expect(stdout).not.toContain(secret);
      expect(stderr).not.toContain(secret);
      expect(xml).not.toContain(secret);
    }
  });

  it("prints a table without --json, taking secrets from flags and environment", async () => {
    const { code, stdout, stderr } = await helk(
      ["--kafka-bootstrap", "127.0.0.1:1", "--engine-kind", "opensearch", "--engine-url", "http://127.0.0.1:2", "--jupyter-url", echoUrl, "--no-progress", "--timeout", "20"],
      { JUPYTER_TOKEN: jupyterToken },
    );
    expect(code).toBe(1);
    expect(stdout.split("\n")[0]).toMatch(/^CHECK\s+RESULT\s+TIME\s+DETAILS$/);
    expect(stdout).toMatch(/^jupyter\.status\s+FAIL\s+[\d.]+s\s+jupyter at .*token \*\*\*/m);
    expect(stdout).toMatch(/^enrichment\.probe\s+SKIP\s+[\d.]+s\s+needs kafka\.metadata \(failed\), engine\.health \(failed\)/m);
    // No enrichment service given: the index templates it installs are not expected either.
    expect(stdout).toMatch(/^engine\.templates\s+SKIP\s+[\d.]+s\s+the enrichment service installs them, and the stack deploys none/m);
    expect(stdout).toContain("FAILED: 0 passed, 6 failed, 5 skipped");
    expect(stderr).toBe("");
    expect(stdout).not.toContain(jupyterToken);
  });

  it("exits 2 with a clear message when it has no usable endpoints", async () => {
    const badFile = join(dir, "bad.json");
    writeFileSync(badFile, JSON.stringify({ kafka: { bootstrap: "h:1" }, engine: { kind: "elastic", url: "http://h:2" } }));
    const [none, bad, noPulumi, both] = await Promise.all([
      helk([]),
      helk(["--endpoints", badFile]),
      helk(["--stack", "dev"]),
      helk(["--stack", "dev", "--endpoints", badFile]),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("helk smoke: no endpoints: give --stack NAME, --endpoints FILE, or the endpoint flags");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`helk smoke: invalid endpoints in endpoints file ${badFile}:`);
    expect(bad.stderr).toContain("engine.kind");
    expect(noPulumi.code).toBe(2);
    expect(noPulumi.stderr).toContain("the pulumi CLI is not installed");
    expect(both.code).not.toBe(0);
    expect(both.stderr).toContain("cannot be used with option '--endpoints");
  });
});
