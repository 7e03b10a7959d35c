import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { runChecks, type CheckGroup, type CheckResult, type Component, type SmokeCheck } from "../../smoke/runner.ts";

const check = (id: string, run: SmokeCheck["run"], needs?: string[]): SmokeCheck => ({
  id,
  component: id.split(".")[0] as Component,
  title: id,
  needs,
  run,
});
const pass = async () => ({ status: "pass" as const, message: "ok" });
const group = (component: Component, ...checks: SmokeCheck[]): CheckGroup => ({ component, checks });
const byId = (checks: CheckResult[]) => Object.fromEntries(checks.map((c) => [c.id, c]));

describe("runChecks", () => {
  it("reports every check in the given order with its status, message and time; ok only without failures", async () => {
    const report = await runChecks(
      [
        group(
          "kafka",
          check("kafka.a", async () => {
            await sleep(60);
            return { status: "pass", message: "fine" };
          }),
          check("kafka.b", async () => ({ status: "skip", message: "not configured" })),
        ),
        group(
          "jupyter",
          check("jupyter.a", async () => {
            throw new Error("jupyter at http://x answered 500");
          }),
        ),
      ],
      { timeoutSeconds: 5, secrets: [] },
    );
    expect(report.checks.map((c) => [c.id, c.status, c.message])).toEqual([
      ["kafka.a", "pass", "fine"],
      ["kafka.b", "skip", "not configured"],
      ["jupyter.a", "fail", "jupyter at http://x answered 500"],
    ]);
    expect(report.checks[0]!.durationMs).toBeGreaterThanOrEqual(55);
    expect(report.summary).toEqual({ pass: 1, fail: 1, skip: 1 });
    expect(report.ok).toBe(false);

    const clean = await runChecks([group("kafka", check("kafka.a", pass))], { timeoutSeconds: 5, secrets: [] });
    expect(clean.ok).toBe(true);
  });

  it("runs components concurrently", async () => {
    const slow = async () => {
      await sleep(300);
      return { status: "pass" as const, message: "" };
    };
    const report = await runChecks([group("kafka", check("kafka.a", slow)), group("engine", check("engine.a", slow)), group("jupyter", check("jupyter.a", slow))], {
      timeoutSeconds: 5,
      secrets: [],
    });
    expect(report.durationMs).toBeLessThan(800);
  });

  it("skips a check whose other-component prerequisite did not pass, and fails one whose own-component prerequisite failed", async () => {
    let probeRan = false;
    const report = await runChecks(
      [
        group("kafka", check("kafka.metadata", async () => Promise.reject(new Error("kafka at h:1 unreachable")))),
        group("engine", check("engine.health", pass)),
        group(
          "enrichment",
          check("enrichment.ready", async () => Promise.reject(new Error("enrichment at u did not answer"))),
          check(
            "enrichment.probe",
            async () => {
              probeRan = true;
              return { status: "pass", message: "" };
            },
            ["engine.health", "enrichment.ready"],
          ),
          check("enrichment.other", pass, ["kafka.metadata", "engine.health"]),
        ),
      ],
      { timeoutSeconds: 5, secrets: [] },
    );
    const r = byId(report.checks);
    expect(probeRan).toBe(false);
    expect(r["enrichment.probe"]).toMatchObject({ status: "fail", message: "not run, enrichment.ready failed: enrichment at u did not answer" });
    expect(r["enrichment.other"]).toMatchObject({ status: "skip", message: "needs kafka.metadata (failed)" });
  });

  it("fails checks still running at the deadline with what they were waiting for, and lets them clean up", async () => {
    let cleanedUp = false;
    const report = await runChecks(
      [
        group(
          "enrichment",
          check("enrichment.probe", async (ctx) => {
            ctx.progress("waiting for the probe's document");
            try {
              await sleep(10_000, undefined, { signal: ctx.signal });
            } finally {
              await sleep(50);
              cleanedUp = true;
            }
            return { status: "pass", message: "" };
          }),
        ),
        group("jupyter", check("jupyter.status", pass)),
      ],
      { timeoutSeconds: 0.3, secrets: [] },
    );
    const r = byId(report.checks);
    expect(r["enrichment.probe"]).toMatchObject({
      status: "fail",
      message: "enrichment: no result within the smoke timeout of 0.3s (was waiting for the probe's document)",
    });
    expect(r["jupyter.status"]!.status).toBe("pass");
    expect(report.durationMs).toBeLessThan(2_000);
    expect(cleanedUp).toBe(true);
  });

  it("hides secrets in messages and progress details", async () => {
    const details: string[] = [];
    const report = await runChecks(
      [
        group(
          "engine",
          check("engine.health", async (ctx) => {
            ctx.progress("connecting as admin:hunter2-pw");
            throw new Error("opensearch at http://admin:hunter2-pw@h:9 said token=tok%2Fsecret is wrong");
          }),
        ),
      ],
      {
        timeoutSeconds: 5,
        secrets: ["hunter2-pw", "tok/secret"],
        listener: { begin: () => undefined, started: () => undefined, finished: () => undefined, waiting: (_c, d) => details.push(d) },
      },
    );
    expect(report.checks[0]!.message).toBe("opensearch at http://admin:***@h:9 said token=*** is wrong");
    expect(details).toEqual(["connecting as admin:***"]);
  });

  it("rejects a prerequisite that runs after the check in its own group", async () => {
    await expect(runChecks([group("kafka", check("kafka.a", pass, ["kafka.b"]), check("kafka.b", pass))], { timeoutSeconds: 1, secrets: [] })).rejects.toThrow(
      "smoke check kafka.a needs kafka.b, which runs after it in the same group",
    );
  });

  it("rejects a prerequisite that is not part of the run", async () => {
    await expect(runChecks([group("kafka", check("kafka.a", pass, ["engine.nope"]))], { timeoutSeconds: 1, secrets: [] })).rejects.toThrow(
      "smoke check kafka.a needs engine.nope, which is not a check of this run",
    );
  });
});
