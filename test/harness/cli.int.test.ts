import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { pidAlive, processesUsing } from "../../harness/process.ts";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "harness-cli-"));
const stateFile = join(scratch, "state.json");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `npm run services -- ARGS`, as a person types it; resolves with the exit code instead of throwing. */
async function services(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("npx", ["tsx", "harness/main.ts", ...args], { cwd: repoRoot, timeout: 240_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout = "", stderr = "" } = error as { code: number; stdout?: string; stderr?: string };
    return { code, stdout, stderr };
  }
}

describe("npm run services", () => {
  it("brings Jupyter up in the background, reports it, and takes it down without leftovers", async () => {
    const up = await services("up", "--only", "jupyter", "--state", stateFile);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/\[\d+\.\ds\] Jupyter ready \(pid \d+, http:\/\/127\.0\.0\.1:\d+\)/);
    expect(up.stdout).toContain("export HELK_TEST_JUPYTER_TOKEN=");

    // The server outlived the `up` command.
    const state = JSON.parse(readFileSync(stateFile, "utf8")) as {
      services: { jupyter: { pid: number; dataDir: string; endpoint: string; token: string } };
    };
    const jupyter = state.services.jupyter;
    expect(pidAlive(jupyter.pid)).toBe(true);
    const answer = await fetch(`${jupyter.endpoint}/api/status`, { headers: { Authorization: `token ${jupyter.token}` } });
    expect(answer.status).toBe(200);

    const status = await services("status", "--state", stateFile);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^Jupyter\s+up\s+http:\/\/127\.0\.0\.1:\d+/m);

    const again = await services("up", "--only", "jupyter", "--state", stateFile);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`still run (Jupyter pid ${jupyter.pid})`);

    const down = await services("down", "--state", stateFile);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain(`Jupyter stopped (pid ${jupyter.pid})`);
    expect(pidAlive(jupyter.pid)).toBe(false);
    expect(processesUsing(jupyter.dataDir)).toEqual([]);
    expect(existsSync(jupyter.dataDir)).toBe(false);
    expect(existsSync(stateFile)).toBe(false);

    const after = await services("status", "--state", stateFile);
    expect(after.code).toBe(1);
    expect(after.stdout).toContain("no servers");
  });

  it("rejects an unknown service by name", async () => {
    const result = await services("up", "--only", "kafka,zookeeper", "--state", stateFile);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unknown service "zookeeper"; choose from kafka, engine, jupyter');
    expect(existsSync(stateFile)).toBe(false);
  });
});
