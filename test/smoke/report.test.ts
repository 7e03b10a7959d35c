import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { formatJson, formatJunit, formatTable } from "../../smoke/report.ts";
import type { SmokeReport } from "../../smoke/runner.ts";

const report: SmokeReport = {
  ok: false,
  startedAt: "2026-11-29T21:00:00.000Z",
  durationMs: 4321,
  timeoutSeconds: 60,
  summary: { pass: 2, fail: 1, skip: 1 },
  checks: [
    { id: "kafka.metadata", component: "kafka", title: "metadata reachable", status: "pass", message: "1 broker(s)", durationMs: 120 },
    { id: "kafka.topics", component: "kafka", title: "topics", status: "pass", message: "winlogbeat (3p×1)", durationMs: 30 },
    {
      id: "engine.health",
      component: "engine",
      title: "cluster health",
      status: "fail",
      message: `opensearch at http://h:9 answered 500: <b>"bad" & 'worse'</b>\u0001\nsecond line`,
      durationMs: 2000,
    },
    { id: "dashboards.status", component: "dashboards", title: "status", status: "skip", message: "endpoints.dashboards is null", durationMs: 0 },
  ],
};

describe("JUnit output", () => {
  const xml = formatJunit(report);
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", htmlEntities: true, isArray: (name) => ["testsuite", "testcase"].includes(name) }).parse(xml);

  it("is well-formed XML with one testsuite per component and one testcase per check", () => {
    expect(XMLValidator.validate(xml)).toBe(true);
    const suites = parsed.testsuites.testsuite as Array<{ name: string; tests: string; testcase: Array<Record<string, unknown>> }>;
    expect(suites.map((s) => s.name)).toEqual(["helk smoke kafka", "helk smoke engine", "helk smoke dashboards"]);
    const cases = suites.flatMap((s) => s.testcase);
    expect(cases.map((c) => c.name)).toEqual(report.checks.map((c) => c.id));
    expect(cases.map((c) => c.classname)).toEqual(["helk.smoke.kafka", "helk.smoke.kafka", "helk.smoke.engine", "helk.smoke.dashboards"]);
    expect(cases[0]!.time).toBe("0.120");
  });

  it("counts tests, failures and skips at both levels", () => {
    expect(parsed.testsuites).toMatchObject({ name: "helk smoke", tests: "4", failures: "1", skipped: "1", errors: "0", time: "4.321" });
    expect(parsed.testsuites.testsuite[1]).toMatchObject({ tests: "1", failures: "1", skipped: "0" });
  });

  it("carries failure messages (escaped, control characters dropped) and skip reasons", () => {
    const failed = parsed.testsuites.testsuite[1].testcase[0];
    expect(failed.failure.message).toBe(`opensearch at http://h:9 answered 500: <b>"bad" & 'worse'</b>\nsecond line`);
    expect(failed.failure.type).toBe("SmokeCheckFailed");
    expect(failed.failure["#text"]).toContain(`cluster health: opensearch at http://h:9 answered 500: <b>"bad" & 'worse'</b>`);
    const skipped = parsed.testsuites.testsuite[2].testcase[0];
    expect(skipped.skipped.message).toBe("endpoints.dashboards is null");
    expect(parsed.testsuites.testsuite[0].testcase[0].failure).toBeUndefined();
  });
});

describe("table and JSON output", () => {
  it("prints one aligned row per check and a summary line", () => {
    const lines = formatTable(report).split("\n");
    expect(lines[0]).toMatch(/^CHECK\s+RESULT\s+TIME\s+DETAILS$/);
    expect(lines.slice(1, 5).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ["kafka.metadata", "PASS", "0.12s"],
      ["kafka.topics", "PASS", "0.03s"],
      ["engine.health", "FAIL", "2.00s"],
      ["dashboards.status", "SKIP", "0.00s"],
    ]);
    expect(lines[3]).toContain("second line");
    expect(lines.slice(1, 5).map((l) => l.indexOf("  0.") >= 0 || l.indexOf("  2.") >= 0)).toEqual([true, true, true, true]);
    expect(lines).toContain("FAILED: 2 passed, 1 failed, 1 skipped in 4.32s");
  });

  it("colours the result column only when asked", () => {
    expect(formatTable(report)).not.toContain("\x1b[");
    expect(formatTable(report, { color: true })).toContain("\x1b[31mFAIL");
  });

  it("prints the report as JSON", () => {
    expect(JSON.parse(formatJson(report))).toEqual(report);
  });
});
