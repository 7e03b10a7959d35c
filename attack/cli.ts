import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Command, Option } from "commander";
import * as attackEnv from "../lib/contract/attack-env.ts";
import * as engineEnv from "../lib/contract/engine-env.ts";
import { createEngine, type EngineOptions } from "../lib/engine.ts";
import { indexAttackModel } from "./attack-index.ts";
import { loadAttackBundle, loadDefaultAttackBundle, type AttackModel } from "./bundle.ts";
import { computeCoverage, eventSourceCountsFromEngine, indexCoverage, observedTechniquesFromEngine } from "./coverage.ts";
import { coverageLayer, coverageSummary, observedLayer } from "./layer.ts";
import { AttackLookup } from "./lookup.ts";
import { DOWNLOAD_TIMEOUT_MS, ENTERPRISE_ATTACK_PIN, fetchPinnedBundle } from "./pin.ts";

interface EngineFlags {
  engineUrl?: string;
  engineKind?: string;
  username?: string;
  password?: string;
}

/** Engine flags on top of the env the deploy setup job gets (the engine contract, lib/contract/engine-env.ts). */
function engineOptions(flags: EngineFlags): EngineOptions {
  return engineEnv.fromEnv(process.env, { kind: flags.engineKind, url: flags.engineUrl, username: flags.username, password: flags.password });
}

function withEngineFlags(cmd: Command): Command {
  return cmd
    .option("--engine-url <url>", "engine base URL (env HELK_ENGINE_URL)")
    .addOption(new Option("--engine-kind <kind>", "engine kind (env HELK_ENGINE_KIND)").choices(["elasticsearch", "opensearch"]))
    .option("--username <user>", "basic-auth user (env HELK_ENGINE_USERNAME)")
    .option("--password <password>", "basic-auth password (env HELK_ENGINE_PASSWORD)")
    .option("--bundle <path|url>", "ATT&CK STIX bundle (env HELK_ATTACK_BUNDLE; default: shared data, else the pinned official 18.1)")
    .option("--sha256 <hex>", "checksum the bundle at an http(s) URL must have (env HELK_ATTACK_SHA256)");
}

/** The bundle of the flags, else of the ATT&CK contract's env, else the default source. */
async function loadModel(flags: { bundle?: string; sha256?: string }): Promise<AttackModel> {
  const { bundle, sha256 } = attackEnv.fromEnv(process.env, flags);
  return bundle ? loadAttackBundle(bundle, { sha256 }) : loadDefaultAttackBundle({ sha256 });
}

/** `helk attack load|coverage|lookup`. */
export function registerAttackCommands(program: Command): void {
  const attack = program.command("attack").description("MITRE ATT&CK knowledge base: load into the engine, look up, measure coverage");

  withEngineFlags(attack.command("load"))
    .description("load the ATT&CK bundle into the engine (alias helk-mitre-attack, atomic swap, old copies deleted)")
    .action(async (flags: EngineFlags & { bundle?: string; sha256?: string }) => {
      const started = performance.now();
      const options = engineOptions(flags);
      const model = await loadModel(flags);
      console.log(`read ATT&CK ${model.version} (STIX ${model.specVersion}): ${model.techniques.length} active techniques, ${model.tactics.length} tactics`);
      const engine = createEngine(options);
      try {
        const result = await indexAttackModel(engine, model, (done, total) => console.log(`indexed ${done}/${total} techniques`));
        console.log(`helk-mitre-attack -> ${result.index} (${result.count} docs)${result.deleted.length ? `; deleted ${result.deleted.join(", ")}` : ""}`);
        console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      } finally {
        await engine.close();
      }
    });

  withEngineFlags(attack.command("coverage"))
    .description("score techniques by the event sources in the engine; write Navigator layers and a per-tactic summary")
    .option("--events <pattern>", "event index pattern", "helk-events-*")
    .option("--out <dir>", "folder for the layer files and summary", ".")
    .option("--platform <name...>", "only count analytics for these platforms (e.g. Windows)")
    .option("--no-index", "do not write the scores to helk-attack-coverage")
    .action(async (flags: EngineFlags & { bundle?: string; sha256?: string; events: string; out: string; platform?: string[]; index: boolean }) => {
      const options = engineOptions(flags);
      const model = await loadModel(flags);
      const engine = createEngine(options);
      try {
        const sources = await eventSourceCountsFromEngine(engine, flags.events);
        if (sources.length === 0) console.error(`warning: no events with channel and event_id in ${flags.events}; every score will be 0`);
        const observed = await observedTechniquesFromEngine(engine, flags.events);
        const report = computeCoverage(model, AttackLookup.fromModel(model), sources, observed, { platforms: flags.platform });
        const out = resolve(flags.out);
        await mkdir(out, { recursive: true });
        const files = {
          "attack-coverage-layer.json": JSON.stringify(coverageLayer(report), null, 2),
          "attack-observed-layer.json": JSON.stringify(observedLayer(report), null, 2),
          "attack-coverage-summary.txt": coverageSummary(model, report),
        };
        for (const [name, content] of Object.entries(files)) await writeFile(join(out, name), content);
        console.log(files["attack-coverage-summary.txt"]);
        console.log(`wrote ${Object.keys(files).map((f) => join(out, f)).join(", ")}`);
        if (flags.index) {
          const result = await indexCoverage(engine, report);
          console.log(`helk-attack-coverage -> ${result.index} (${result.count} docs)`);
        }
      } finally {
        await engine.close();
      }
    });

  attack
    .command("fetch")
    .description(
      `obtain the pinned MITRE ATT&CK ${ENTERPRISE_ATTACK_PIN.version} bundle once into the cache, verified against its git blob id ` +
        `(${ENTERPRISE_ATTACK_PIN.gitBlob}); the lab's default bundle source`,
    )
    .option("--url <url>", "download from this mirror instead of MITRE's attack-stix-data repository", ENTERPRISE_ATTACK_PIN.url)
    .option("--from-file <path>", "verify and use a copy you already have instead of downloading")
    .addOption(new Option("--timeout <seconds>", "give up on the download after this long").default(DOWNLOAD_TIMEOUT_MS / 1000).argParser(Number))
    .action(async (flags: { url: string; fromFile?: string; timeout: number }) => {
      const fetched = await fetchPinnedBundle({
        url: flags.url,
        fromFile: flags.fromFile,
        timeoutMs: flags.timeout * 1000,
        onProgress: (message) => console.error(message),
      });
      console.log(JSON.stringify({ file: fetched.file, sha256: fetched.sha256, gitBlob: fetched.gitBlob, fetched: fetched.fetched }));
    });

  attack
    .command("lookup")
    .description("print the attack context the enrichment service would add for technique ids")
    .argument("<ids...>", "technique ids, e.g. T1136 T1055.011")
    .option("--bundle <path|url>", "ATT&CK STIX bundle")
    .option("--sha256 <hex>", "checksum for an http(s) bundle URL")
    .action(async (ids: string[], flags: { bundle?: string; sha256?: string }) => {
      const lookup = AttackLookup.fromModel(await loadModel(flags));
      for (const id of ids) console.log(JSON.stringify(lookup.resolve(id)));
    });
}
