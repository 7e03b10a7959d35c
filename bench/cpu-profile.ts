import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * Where a process spent its CPU, from a V8 `.cpuprofile` (`node --cpu-prof`; the pipeline bench writes one per
 * service run with HELK_BENCH_CPU_PROF): self time by part (Kafka client, transforms, serialization, HTTP, GC...)
 * and the functions with the most self time. `npx tsx bench/cpu-profile.ts FILE|FOLDER [top]`.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The part of the program a function belongs to, by its source file (first match wins). */
const PARTS: [string, RegExp][] = [
  ["garbage collection", /^\(garbage collector\)$/],
  ["idle", /^\(idle\)$/],
  ["kafkajs (fetch, decode, commit)", /node_modules\/kafkajs\//],
  ["engine client (opensearch / elasticsearch)", /node_modules\/(@opensearch-project|@elastic)\//],
  ["enrichment transforms", /enrichment\/transforms\//],
  ["enrichment sink (bulk bodies)", /enrichment\/sink\.ts/],
  ["enrichment service loop", /enrichment\/(service|offsets|dead-letter)\.ts/],
  ["ATT&CK bundle load", /node_modules\/(stream-json|stream-chain)\/|\/attack\//],
  ["metrics (prom-client)", /node_modules\/prom-client\//],
  ["logging (pino)", /node_modules\/(pino|sonic-boom)/],
  ["module loading (tsx, esbuild)", /node_modules\/(tsx|esbuild|get-tsconfig)\/|node:internal\/modules/],
  ["zod", /node_modules\/zod\//],
  ["node http / net / streams", /node:(internal\/)?(http|_http|net|stream|internal\/streams|tls|buffer|internal\/buffer|events|zlib|timers|internal\/timers)/],
  ["other node internals", /^node:/],
];

export function summarize(path: string, top = 15): string {
  const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const parts = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  let busy = 0;
  for (const [id, ms] of selfMs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const key = url === "" ? functionName : url;
    const part = PARTS.find(([, pattern]) => pattern.test(key))?.[0] ?? (url === "" ? (functionName.startsWith("(") ? functionName : `(${functionName || "native"})`) : "other");
    parts.set(part, (parts.get(part) ?? 0) + ms);
    total += ms;
    if (part === "idle") continue;
    busy += ms;
    const name = `${functionName || "(anonymous)"} ${url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/(enrichment|attack|lib)\//, "$1/")}:${lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
  }
  const row = (name: string, ms: number) => `  ${name.padEnd(60)} ${(ms / 1000).toFixed(2).padStart(8)} s ${((ms / busy) * 100).toFixed(1).padStart(6)} %`;
  const lines = [`${path}: ${(total / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy (shares of busy time)`, "by part:"];
  for (const [name, ms] of [...parts].sort((a, b) => b[1] - a[1])) if (name !== "idle") lines.push(row(name, ms));
  lines.push(`top ${top} functions (self time):`);
  for (const [name, ms] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(row(name.slice(0, 60), ms));
  return lines.join("\n");
}

if (process.argv[1]?.endsWith("cpu-profile.ts")) {
  const target = process.argv[2];
  if (!target) {
    console.error("usage: npx tsx bench/cpu-profile.ts FILE.cpuprofile|FOLDER [top]");
    process.exit(2);
  }
  const files = statSync(target).isDirectory() ? readdirSync(target).filter((f) => f.endsWith(".cpuprofile")).map((f) => join(target, f)) : [target];
  for (const file of files) console.log(summarize(file, Number(process.argv[3] ?? 15)));
}
