import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { indexAttackModel } from "../../attack/attack-index.ts";
import { ATTACK_ALIAS, COVERAGE_ALIAS } from "../../lib/contract/names.ts";
import { loadAttackBundle, type AttackModel } from "../../attack/bundle.ts";
import { computeCoverage, countEvents, eventSourceCountsFromEngine, indexCoverage, observedTechniquesFromEngine } from "../../attack/coverage.ts";
import { coverageLayer, navigatorLayerSchema } from "../../attack/layer.ts";
import { AttackLookup } from "../../attack/lookup.ts";
import { attackBundlePath, projectRoot } from "../../lib/data.ts";
import { recording, recordingEvents } from "../../lib/datasets.ts";
import { createEngine, type Engine } from "../../lib/engine.ts";
import { installTemplates } from "../../enrichment/templates.ts";
import { Enricher } from "../../enrichment/transforms/index.ts";
import { serviceEndpoints } from "../setup/endpoints.ts";

const run = promisify(execFile);
let engine: Engine;
let model: AttackModel;

beforeAll(async () => {
  engine = createEngine({ kind: "opensearch", url: serviceEndpoints().engineUrl });
  model = await loadAttackBundle(attackBundlePath());
});
afterAll(() => engine?.close());

/** Concrete indices whose name starts with `prefix-` or is `prefix`, and which of them the alias `prefix` points at. */
async function copies(prefix: string): Promise<{ indices: string[]; aliased: string[] }> {
  const res = await engine.request<Record<string, { aliases: Record<string, unknown> }>>({ method: "GET", path: `/${prefix}*/_alias`, query: { expand_wildcards: "all" } });
  const indices = Object.keys(res.body).filter((n) => n === prefix || n.startsWith(`${prefix}-`)).sort();
  return { indices, aliased: indices.filter((n) => prefix in res.body[n]!.aliases) };
}

describe("helk attack load into the real OpenSearch", () => {
  it("loads and indexes the full v18.1 bundle in under 30 s with the CLI the setup job runs", async () => {
    const started = performance.now();
    const { stdout } = await run("npx", ["tsx", "cli/helk.ts", "attack", "load", "--bundle", attackBundlePath()], {
      cwd: projectRoot,
      env: { ...process.env, HELK_ENGINE_URL: serviceEndpoints().engineUrl, HELK_ENGINE_KIND: "opensearch" },
    });
    const wall = (performance.now() - started) / 1000;
    // Read, validate, model, index, swap: the CLI's own figure, without npx/tsx start-up (which on a busy shared
    // machine costs as much again and is not part of loading).
    const loadSeconds = Number(/done in ([\d.]+) s/.exec(stdout)?.[1]);
    console.log(`helk attack load of the full v18.1 bundle: ${loadSeconds} s load+index, ${wall.toFixed(1)} s process start to exit`);
    expect(stdout).toMatch(/indexed 835\/835 techniques/);
    expect(loadSeconds).toBeLessThan(30);

    const { aliased } = await copies(ATTACK_ALIAS);
    expect(aliased).toHaveLength(1);
    expect(aliased[0]).toMatch(/^helk-mitre-attack-18\.1-/);
    const count = await engine.request<{ count: number }>({ method: "GET", path: `/${ATTACK_ALIAS}/_count` });
    expect(count.body.count).toBe(model.techniquesById.size);
    const t1136 = await engine.request<{ _source: Record<string, unknown> }>({ method: "GET", path: `/${aliased[0]}/_doc/T1136` });
    expect(t1136.body._source).toMatchObject({ technique_name: "Create Account", tactics: ["persistence"], status: "found" });
    const revoked = await engine.request<{ hits: { hits: { _id: string; _source: { replaced_by: string } }[] } }>({
      method: "POST",
      path: `/${ATTACK_ALIAS}/_search`,
      body: { query: { term: { technique_id: "T1066" } } },
    });
    expect(revoked.body.hits.hits[0]!._source.replaced_by).toBe("T1027.005");
  });

  it("leaves exactly one copy after loading twice, and takes over an index squatting on the alias name", async () => {
    await engine.request({ method: "PUT", path: `/${ATTACK_ALIAS}-stale-leftover`, body: {} });
    const started = performance.now();
    const first = await indexAttackModel(engine, await loadAttackBundle(attackBundlePath()));
    console.log(`load + index of the full v18.1 bundle in-process: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const second = await indexAttackModel(engine, model);
    expect(second.deleted).toContain(first.index);
    expect(await copies(ATTACK_ALIAS)).toEqual({ indices: [second.index], aliased: [second.index] });
    const count = await engine.request<{ count: number }>({ method: "GET", path: `/${ATTACK_ALIAS}/_count` });
    expect(count.body.count).toBe(model.techniquesById.size);

    // Readers polling the alias during a reload always see one complete copy, never none or two.
    let polling = true;
    const seen: number[] = [];
    const poller = (async () => {
      while (polling) seen.push((await engine.request<{ count: number }>({ method: "GET", path: `/${ATTACK_ALIAS}/_count` })).body.count);
    })();
    const reload = await indexAttackModel(engine, model);
    polling = false;
    await poller;
    expect(seen.length).toBeGreaterThan(5);
    expect(new Set(seen)).toEqual(new Set([model.techniquesById.size]));
    expect(await copies(ATTACK_ALIAS)).toEqual({ indices: [reload.index], aliased: [reload.index] });

    // Someone created a plain index named like the alias (e.g. by writing to it before any load).
    await engine.request({ method: "DELETE", path: `/${reload.index}` });
    await engine.request({ method: "PUT", path: `/${ATTACK_ALIAS}`, body: {} });
    const third = await indexAttackModel(engine, model);
    expect(third.deleted).toContain(ATTACK_ALIAS);
    expect(await copies(ATTACK_ALIAS)).toEqual({ indices: [third.index], aliased: [third.index] });
  });

  it("rejects documents with fields the explicit mapping does not know", async () => {
    const res = await engine.request<{ errors: boolean }>({
      method: "POST",
      path: `/${ATTACK_ALIAS}/_bulk`,
      bulk: [{ index: { _id: "X" } }, { technique_id: "T0000", surprise: 1 }],
    });
    expect(res.body.errors).toBe(true);
  });
});

describe("coverage from real engine aggregations", () => {
  // The recording's raw events go through the enrichment service's own transform chain (`Enricher`, with our
  // lookup) and its index templates, exactly as the service would index them, but into a private index
  // (`helk-events-attacktest-*`, matched by the same `helk-events` template) so other suites' events in the shared
  // engine stay out of the counts. Kafka is left out: the service's own integration tests cover that leg.
  const pattern = "helk-events-attacktest-*";
  const index = "helk-events-attacktest-2026.11.29";
  const RECORDING = "cmd_process_herpaderping_snippingtool.zip";

  it("scores the same from engine aggregates of enriched events as from the raw recording in memory, and indexes the scores", async () => {
    await installTemplates(engine);
    await engine.request({ method: "DELETE", path: `/${index}`, ignore: [404] });
    const lookup = AttackLookup.fromModel(model);
    const enricher = new Enricher({ attack: lookup });
    const raw: Record<string, unknown>[] = [];
    for await (const e of recordingEvents(recording(RECORDING).path)) raw.push(e);
    // No Security-Datasets recording carries ATT&CK RuleName tags, so two of its Sysmon events are re-tagged the
    // way a Sysmon config does it (one with a revoked id) to exercise the observed-techniques path end to end.
    const sysmon = raw.find((e) => e.Channel === "Microsoft-Windows-Sysmon/Operational")!;
    const tagged = [
      { ...sysmon, RecordNumber: 9_000_001, RuleName: "technique_id=T1055,technique_name=Process Injection" },
      { ...sysmon, RecordNumber: 9_000_002, RuleName: "technique_id=T1066,technique_name=Indicator Removal from Tools" },
    ];
    const docs = [...raw, ...tagged].map((e) => {
      const outcome = enricher.enrich(e, { tag: undefined });
      if (!outcome.ok) throw new Error(`enrichment rejected an event of ${RECORDING}: ${outcome.reason}`);
      return outcome.event;
    });
    const bulk = await engine.request<{ errors: boolean }>({
      method: "POST",
      path: `/${index}/_bulk`,
      query: { refresh: "true" },
      bulk: docs.flatMap((d) => [{ index: { _id: d.id } }, d.doc]),
    });
    expect(bulk.body.errors).toBe(false);

    const fromEngine = computeCoverage(model, lookup, await eventSourceCountsFromEngine(engine, pattern), await observedTechniquesFromEngine(engine, pattern));
    const inMemory = await countEvents([...raw, ...tagged]);
    const fromMemory = computeCoverage(model, lookup, inMemory.eventSources, new Map());
    const scores = (r: typeof fromEngine) => r.techniques.map((c) => [c.technique.id, c.score]);
    expect(scores(fromEngine)).toEqual(scores(fromMemory));
    // The service gives an event a stable id (host, channel, record number), so repeats in a recording are one doc.
    expect(fromEngine.eventSources.reduce((n, s) => n + s.count, 0)).toBe(new Set(docs.map((d) => d.id)).size);
    const layer = coverageLayer(fromEngine);
    expect(navigatorLayerSchema.safeParse(layer).success).toBe(true);
    expect(layer.techniques.length).toBeGreaterThan(0);
    const observed = fromEngine.techniques.filter((c) => c.observedCount > 0).map((c) => [c.technique.id, c.observedCount]);
    expect(observed).toEqual([["T1027.005", 1], ["T1055", 1]]);

    const result = await indexCoverage(engine, fromEngine);
    const expectedDocs = model.techniques.reduce((n, t) => n + t.tactics.length, 0);
    expect(result.count).toBe(expectedDocs);
    const hit = await engine.request<{ hits: { hits: { _source: Record<string, unknown> }[] } }>({
      method: "POST",
      path: `/${COVERAGE_ALIAS}/_search`,
      body: { query: { bool: { filter: [{ term: { technique_id: "T1055" } }, { term: { tactic: "defense-evasion" } }] } } },
    });
    const t1055 = fromEngine.techniques.find((c) => c.technique.id === "T1055")!;
    expect(hit.body.hits.hits[0]!._source).toMatchObject({ technique_name: "Process Injection", score: t1055.score, observed_count: 1 });
  });

  it("writes both layers and the summary with helk attack coverage", async () => {
    const out = mkdtempSync(join(tmpdir(), "helk-coverage-"));
    const { stdout } = await run("npx", ["tsx", "cli/helk.ts", "attack", "coverage", "--events", pattern, "--out", out, "--bundle", attackBundlePath()], {
      cwd: projectRoot,
      env: { ...process.env, HELK_ENGINE_URL: serviceEndpoints().engineUrl, HELK_ENGINE_KIND: "opensearch" },
    });
    expect(stdout).toMatch(/Defense Evasion/);
    const layer = navigatorLayerSchema.parse(JSON.parse(readFileSync(join(out, "attack-coverage-layer.json"), "utf8")));
    expect(layer.techniques.length).toBeGreaterThan(0);
    const observed = navigatorLayerSchema.parse(JSON.parse(readFileSync(join(out, "attack-observed-layer.json"), "utf8")));
    expect(observed.techniques.map((t) => t.techniqueID).sort()).toEqual(["T1027.005", "T1055"]);
    expect(readFileSync(join(out, "attack-coverage-summary.txt"), "utf8")).toMatch(/of 691 techniques/);
    expect((await copies(COVERAGE_ALIAS)).aliased).toHaveLength(1);
  });
});
