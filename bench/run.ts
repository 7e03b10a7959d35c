import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** One figure a benchmark reports. `target` is the goal in words; `ok` whether it was met. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  target?: string;
  ok?: boolean;
}

/** Each `bench/*.bench.ts` exports `run(): Promise<BenchResult[]>`. `npm run bench -- NAME` runs only NAME. */
const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((name) => f.startsWith(name)))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark matches ${only.join(", ") || "bench/*.bench.ts"}`);
  process.exit(2);
}

let missed = 0;
for (const file of files) {
  console.log(`== ${file}`);
  const bench = (await import(pathToFileURL(join(here, file)).href)) as { run: () => Promise<BenchResult[]> };
  for (const r of await bench.run()) {
    const verdict = r.ok === undefined ? "" : r.ok ? "  ok" : "  MISSED";
    if (r.ok === false) missed++;
    console.log(`${r.name.padEnd(48)} ${formatValue(r.value).padStart(14)} ${r.unit}${r.target ? `  (target ${r.target})` : ""}${verdict}`);
  }
}
// Missed targets are reported, not fatal: machines differ, and the figures are what matter.
console.log(missed === 0 ? "all targets met" : `${missed} target(s) missed`);

function formatValue(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString("en-US") : v.toLocaleString("en-US", { maximumFractionDigits: 2 });
}
