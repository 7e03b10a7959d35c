import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { projectRoot } from "../../lib/data.ts";
import { ensureVenv } from "../../lib/python-venv.ts";

const run = promisify(execFile);
export const NOTEBOOKS_DIR = join(projectRoot, "notebooks");

/** The hunt notebooks' own requirements (notebooks/requirements.txt): what they import and nbclient. */
function requirements(): string[] {
  return readFileSync(join(NOTEBOOKS_DIR, "requirements.txt"), "utf8").split("\n").map((l) => l.replace(/#.*/, "").trim()).filter(Boolean);
}

// Runs every cell headless and prints the outputs the notebook printed (stream outputs), one per line.
const EXECUTE = `
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
for cell in nb.cells:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            sys.stdout.write(output["text"])
`;

/** Executes `notebooks/<name>` with nbclient against the engine at `engineUrl`; returns its HELK-RESULT summary. */
export async function runNotebook(name: string, engineUrl: string): Promise<Record<string, any>> {
  const venv = await ensureVenv("hunt-notebooks-venv", requirements());
  const { stdout } = await run(join(venv, "bin", "python"), ["-c", EXECUTE, join(NOTEBOOKS_DIR, name), NOTEBOOKS_DIR], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HELK_ENGINE_URL: engineUrl },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 15 * 60_000,
  }).catch((error: Error & { stderr?: string }) => {
    throw new Error(`notebook ${name} failed: ${error.message}\n${(error.stderr ?? "").split("\n").slice(-30).join("\n")}`);
  });
  const line = stdout.split("\n").find((l) => l.startsWith("HELK-RESULT "));
  if (!line) throw new Error(`notebook ${name} printed no HELK-RESULT line; its output:\n${stdout.slice(-3000)}`);
  return JSON.parse(line.slice("HELK-RESULT ".length)) as Record<string, any>;
}
