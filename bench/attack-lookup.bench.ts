import { loadAttackBundle } from "../attack/bundle.ts";
import { AttackLookup } from "../attack/lookup.ts";
import { attackBundlePath } from "../lib/data.ts";
import type { BenchResult } from "./run.ts";

/** Lookups per second over `ids`, cycling through them, best of three runs of `count` lookups. */
function rate(lookup: AttackLookup, ids: readonly string[], count: number): number {
  let best = 0;
  let sink = 0;
  for (let round = 0; round < 3; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) sink += lookup.resolve(ids[i % ids.length]!).technique_id.length;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    best = Math.max(best, count / seconds);
  }
  if (sink === 0) throw new Error("lookups returned nothing");
  return Math.round(best);
}

/** Heap growth over `count` lookups of known ids: about zero when answers are the precomputed objects. */
function heapGrowth(lookup: AttackLookup, ids: readonly string[], count: number): number {
  const before = process.memoryUsage().heapUsed;
  let sink = 0;
  for (let i = 0; i < count; i++) sink += lookup.resolve(ids[i % ids.length]!).technique_id.length;
  if (sink === 0) throw new Error("lookups returned nothing");
  return process.memoryUsage().heapUsed - before;
}

/** ATT&CK bundle load time and the enrichment service's id → context lookup rate. */
export async function run(): Promise<BenchResult[]> {
  const started = performance.now();
  const model = await loadAttackBundle(attackBundlePath());
  const loadMs = performance.now() - started;
  const lookup = AttackLookup.fromModel(model);
  // What events carry: the canonical ids of all techniques, revoked ones included, plus a few unknown tags
  // (those allocate their answer, so the heap figure uses known ids only).
  const known = [...model.techniquesById.keys()];
  const canonical = [...known, "T9999", "T0000.000"];
  const sloppy = canonical.map((id) => ` ${id.toLowerCase()} `);
  const canonicalRate = rate(lookup, canonical, 5_000_000);
  const growth = heapGrowth(lookup, known, 10_000_000);
  return [
    { name: "attack bundle load (gunzip, validate, model)", value: Math.round(loadMs), unit: "ms" },
    { name: "attack lookups, canonical ids", value: canonicalRate, unit: "lookups/s", target: ">= 1,000,000", ok: canonicalRate >= 1_000_000 },
    { name: "attack heap growth over 10M canonical lookups", value: growth, unit: "bytes", target: "< 1,000,000 (no allocation per lookup)", ok: growth < 1_000_000 },
    { name: "attack lookups, lower-case padded ids", value: rate(lookup, sloppy, 2_000_000), unit: "lookups/s" },
  ];
}
