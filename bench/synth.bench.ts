import { execFileSync } from "node:child_process";
import { projectRoot } from "../lib/data.ts";
import type { BenchResult } from "./run.ts";

/** `npm run synth -- cluster` end to end (a fresh node process, as a user runs it): target under 10 s. */
export async function run(): Promise<BenchResult[]> {
  const started = performance.now();
  execFileSync("npm", ["run", "--silent", "synth", "--", "cluster"], { cwd: projectRoot, stdio: "ignore" });
  const seconds = (performance.now() - started) / 1000;
  return [{ name: "npm run synth -- cluster", value: seconds, unit: "s", target: "< 10 s", ok: seconds < 10 }];
}
