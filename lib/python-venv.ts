import { execFile } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureBuilt } from "./cache.ts";
import { cacheDir } from "./cache-dir.ts";

const run = promisify(execFile);

/** The Python that makes virtualenvs: `$HELK_PYTHON`, else Debian's, else `python3` on PATH. */
export function basePython(): string {
  return process.env.HELK_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
}

/**
 * Creates (once) the virtualenv `<cache>/<name>` with the given pinned pip requirements and returns its
 * directory; it is rebuilt when the Python or the requirements change.
 */
export async function ensureVenv(name: string, requirements: readonly string[]): Promise<string> {
  const venv = join(cacheDir(), name);
  const python = basePython();
  await ensureBuilt(venv, `${python}\n${requirements.join("\n")}`, async () => {
    rmSync(venv, { recursive: true, force: true });
    try {
      await run(python, ["-m", "venv", venv]);
      await run(join(venv, "bin", "pip"), ["install", "-q", "--disable-pip-version-check", ...requirements], {
        maxBuffer: 16 * 1024 * 1024,
        timeout: 15 * 60_000,
      });
    } catch (error) {
      const { stderr = "" } = error as { stderr?: string };
      throw new Error(
        `could not install ${requirements.join(" ")} into ${venv} with ${python} ` +
          `(Debian needs python3-venv): ${(error as Error).message}\n${stderr.split("\n").slice(-20).join("\n")}`,
      );
    }
  });
  return venv;
}
