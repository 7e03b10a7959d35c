import { execFile } from "node:child_process";
import { createReadStream, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../lib/data.ts";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock time of the whole command, start-up included. */
  ms: number;
}

/**
 * Runs `helk ARGS` as a user would, in a child process with a minimal environment (node on PATH but
 * no pulumi, no HELK_* settings, HELK_ENGINE_PASSWORD or JUPYTER_TOKEN unless given in `env`), with the file
 * `stdinFile` as its standard input when given (else none).
 */
export function helk(args: string[], env: Record<string, string> = {}, stdinFile?: string): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", join(projectRoot, "cli/helk.ts"), ...args],
      { cwd: projectRoot, env: { PATH: `${join(process.execPath, "..")}:/usr/bin:/bin`, HOME: process.env.HOME ?? "/tmp", ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr, ms: Date.now() - started }),
    );
    if (stdinFile === undefined) child.stdin?.end();
    else createReadStream(stdinFile).pipe(child.stdin!);
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
