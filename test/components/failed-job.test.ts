import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { ProgramOptions } from "./pulumi-harness.ts";

/**
 * The real program (index.ts) against Pulumi's mocks, in a process of its own (run-program.ts): a failing
 * program ends in an unhandled rejection, as under the language host. The mocked docker provider reports a job
 * container as the real one does: created, with its exit code and log.
 */
async function runFailing(stack: string, options: Omit<ProgramOptions, "declared">): Promise<{ code: number; declared: string[]; error?: string }> {
  const script = fileURLToPath(new URL("./run-program.ts", import.meta.url));
  const result = await promisify(execFile)(process.execPath, ["--import", "tsx", script, stack, JSON.stringify(options)], { timeout: 60_000 }).then(
    (ok) => ({ code: 0, stdout: ok.stdout }),
    (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
  );
  return { code: result.code, ...(JSON.parse(result.stdout.trim().split("\n").at(-1)!) as { declared: string[]; error?: string }) };
}

const withAttackFile = { "helk:enrichment": { attackBundleFile: "/srv/helk/enterprise-attack-18.1.json" } };

describe("a setup job container that exits non-zero fails the deployment", () => {
  it("names the job, its exit code and the end of its log", async () => {
    const log = Array.from({ length: 25 }, (_, i) => `line ${i + 1}`).join("\n") + "\nATT&CK bundle /mnt/helk/attack/x.json: cannot read file: EACCES\n";
    const run = await runFailing("lab", { settings: withAttackFile, jobs: { "helk-setup-attack-load": { exitCode: 1, logs: log } } });
    expect(run.code).toBe(1);
    expect(run.error).toContain("setup job helk-setup-attack-load failed: its container exited with code 1.");
    expect(run.error).toContain("Last 20 log line(s) of helk-setup-attack-load:");
    expect(run.error).toContain("  | ATT&CK bundle /mnt/helk/attack/x.json: cannot read file: EACCES");
    expect(run.error).toContain("  | line 7\n");
    expect(run.error).not.toContain("  | line 6\n");
    expect(run.error).toContain("pulumi up --replace 'urn:pulumi:lab::helk::helk:docker:Job$docker:index/container:Container::helk-setup-attack-load'");
  }, 60_000);

  it("starts nothing that waits for the failed job", async () => {
    const run = await runFailing("lab", { settings: withAttackFile, jobs: { "helk-setup-kafka-topics": { exitCode: 2, logs: "" } } });
    expect(run.code).toBe(1);
    expect(run.error).toContain("setup job helk-setup-kafka-topics failed: its container exited with code 2.");
    expect(run.error).toContain("helk-setup-kafka-topics logged nothing.");
    // The enrichment service waits for the topics job; services that do not (the engine) are still declared.
    expect(run.declared).toContain("helk-setup-kafka-topics");
    expect(run.declared).toContain("helk-engine-0");
    expect(run.declared).not.toContain("helk-enrichment-0");
  }, 60_000);

  it("passes when every job exited 0", async () => {
    const run = await runFailing("lab", { settings: withAttackFile });
    expect(run.error).toBeUndefined();
    expect(run.code).toBe(0);
    expect(run.declared).toContain("helk-enrichment-0");
  }, 60_000);
});

describe("a deployment that loads ATT&CK without a bundle", () => {
  it("stops before any resource, naming the key to set", async () => {
    const run = await runFailing("lab", {});
    expect(run.code).toBe(1);
    expect(run.declared).toEqual([]);
    expect(run.error).toContain("helk:enrichment.attackBundleFile or helk:enrichment.attackBundle is required while helk:setup.attackLoad is true");
  }, 60_000);
});

describe("a deployment whose retention budgets do not fit its volumes", () => {
  it("stops before any resource (what `pulumi preview` shows), naming the settings", async () => {
    const run = await runFailing("lab", { settings: { ...withAttackFile, "helk:retention": { events: { size: "50Gi" } } } });
    expect(run.code).toBe(1);
    expect(run.declared).toEqual([]);
    expect(run.error).toContain("Invalid HELK config (1 problem):");
    expect(run.error).toContain(
      "helk:retention sizes (events 50Gi + processNetwork 1Gi + alerts 512Mi = 51.5 GiB) do not fit the engine's volumes: they may take 80% (8 GiB) of helk:engine.storage 10Gi × helk:engine.nodes 1",
    );
  }, 60_000);
});
