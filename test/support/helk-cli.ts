import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock time of the whole command, start-up included. */
  ms: number;
}

/**
 * Runs `helk ARGS` as a user would, in a child process with a minimal environment (node on PATH but
 * no pulumi, no HELK_* settings, HELK_ENGINE_PASSWORD or JUPYTER_TOKEN unless given in `env`).
 */
export function helk(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(root, "cli/helk.ts"), ...args],
      { cwd: root, env: { PATH: `${join(process.execPath, "..")}:/usr/bin:/bin`, HOME: process.env.HOME ?? "/tmp", ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr, ms: Date.now() - started }),
    );
  });
}

/** Writes `endpoints` as the stack's `endpoints` output (the file `--endpoints FILE` reads); returns the file. */
export function writeEndpointsFile(file: string, endpoints: object): string {
  writeFileSync(file, JSON.stringify({ endpoints }));
  return file;
}

/** Runs `helk smoke ARGS` (see `helk`). */
export function helkSmoke(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return helk(["smoke", ...args], env);
}
