/**
 * `npm run e2e`: the documented path, checked. `npm run lab -- --stack e2e` (the README's lab command on the stack
 * whose images are built locally) brings the stack up, health-checks and smoke-tests it; then the ATT&CK load job,
 * the detection rules job, two replayed recordings, an alert the detections service raises from one of them, a hunt
 * notebook executed in the stack's Jupyter, a second lab run that must change nothing, and a one-value change
 * checked on the preview's JSON; then `npm run lab -- destroy --remove-stack` and a search for anything of the
 * stack left on the engine.
 * Every step is logged; the first failure ends the run (after a destroy).
 */
import { spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { SETUP_JOBS } from "../components/setup.ts";
import { instanceName, workloadName } from "../components/names.ts";
import { ALERTS_INDEX_PREFIX } from "../detections/alerts.ts";
import { RULES_ALIAS, type DetectionRule } from "../detections/rules.ts";
import { searchedUntil } from "../detections/scheduler.ts";
import { Enricher } from "../enrichment/transforms/index.ts";
import { recording, recordingLines } from "../lib/datasets.ts";
import { createEngine, type Engine } from "../lib/engine.ts";
import { replayRecordings } from "../lib/replay.ts";
import { poll, RetryExhausted } from "../lib/retry.ts";
import { stackContainers, waitHealthy } from "../lab/containers.ts";
import { openSession, stackExists, type LabSession } from "../lab/lab.ts";

const STACK = "e2e";
const stackFile = join("stacks", `Pulumi.${STACK}.yaml`);
const cacheDir = process.env.HELK_CACHE_DIR ?? join(process.env.HOME ?? "/root", ".cache", "helk");
const workDir = join(cacheDir, "e2e-run");
/** Small recordings replayed through the stack's Kafka. */
const RECORDINGS = {
  /** Sysmon process creations, network connections and Security events (2366 events). */
  netsh: "cmd_netsh_fw_mod_open_ports.zip",
  /** An LSASS memory dump with rundll32 and comsvcs.dll (T1003.001, 184 events), which the detections must alert on. */
  lsassDump: "psh_lsass_memory_dump_comsvcs.zip",
} as const;
/**
 * The SigmaHQ rule (high, T1003.001; the e2e stack deploys the high and critical rules of that technique) whose alert
 * on the replayed LSASS dump e2e waits for: it matches the dump's Sysmon process creation (rundll32 comsvcs.dll
 * MiniDump ... full). The integration test test/detections/detections.int.test.ts asserts it on the same recording.
 */
const EXPECTED_RULE = { id: "646ea171-dded-4578-8a4d-65e9822892e3", title: "Process Memory Dump Via Comsvcs.DLL" };
/** The hunt notebook e2e executes in the stack's Jupyter: the alerts triage, whose figures helk-alerts-* must give. */
const NOTEBOOK = "alerts-triage.ipynb";

interface Run {
  code: number;
  stdout: string;
}

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} [e2e] ${message}\n`);
}

class E2eFailure extends Error {}

function fail(message: string): never {
  throw new E2eFailure(message);
}

/** Runs a command; its stderr (and stdout unless captured) goes to our stdout, so the log shows it. */
function run(command: string, args: string[], options: { capture?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["ignore", options.capture ? "pipe" : "inherit", "inherit"],
      env: options.env ?? process.env,
    });
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout }));
  });
}

async function mustRun(command: string, args: string[], options: { capture?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) fail(`${command} ${args.join(" ")} exited with ${result.code}`);
  return result.stdout;
}

/** `npm run lab -- <args>` exactly as the README has it; its output is logged and returned. */
async function lab(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "--silent", "lab", "--", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const relay = (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    };
    child.stdout.on("data", relay);
    child.stderr.on("data", relay);
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(output) : reject(new E2eFailure(`npm run lab -- ${args.join(" ")} exited with ${code}`))));
  });
}

/** Steps that passed, for the closing line CI reads. */
let stepsPassed = 0;

async function timed<T>(title: string, body: () => Promise<T>): Promise<T> {
  log(`== ${title}`);
  const start = Date.now();
  const result = await body();
  log(`== ${title}: done in ${seconds(Date.now() - start)}`);
  stepsPassed++;
  return result;
}

/** Total time including e2e/e2e.sh's preparation (it exports E2E_STARTED_AT, epoch seconds). */
function logTotal(): void {
  const startedAt = Number(process.env.E2E_STARTED_AT);
  if (startedAt > 0) log(`npm run e2e took ${seconds(Date.now() - startedAt * 1000)}`);
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

interface PreviewStep {
  op: string;
  urn: string;
}

/** `pulumi preview --json` (optionally with another config file): the steps that are not `same`. */
async function previewChanges(session: LabSession, configFile?: string): Promise<PreviewStep[]> {
  const args = ["preview", "--json", "--diff", ...(configFile ? ["--config-file", configFile] : [])];
  const out = await pulumi(session, args, { capture: true });
  const preview = JSON.parse(out) as { steps?: PreviewStep[] };
  return (preview.steps ?? []).filter((s) => s.op !== "same");
}

async function pulumi(session: LabSession, args: string[], options: { capture?: boolean } = {}): Promise<string> {
  return mustRun("pulumi", [...args, "--stack", STACK, "--non-interactive"], { ...options, env: session.env });
}

const urnName = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);

/** The lab's step line "(n/N) <title>: done in X s: <detail>", or a failure naming the step. */
function stepDetail(output: string, title: string): string {
  const line = output.split("\n").find((l) => l.includes(`) ${title}: done in`));
  return line?.slice(line.indexOf(": done in") + 2) ?? fail(`the lab command printed no finished "${title}" step`);
}

async function main(): Promise<void> {
  await mkdir(workDir, { recursive: true });
  const session = await openSession(STACK);
  const prefix = session.config.name;
  log(`stack ${STACK}: containers, volumes and networks named ${prefix}-*; state in ${session.backend}`);
  if (await stackExists(session)) {
    // A run that died before its destroy left the stack: remove it so this run starts from nothing.
    log(`stack ${STACK} is left from an earlier run: removing it first`);
    await lab(["destroy", "--stack", STACK, "--remove-stack"]);
  }

  try {
    const upStart = Date.now();
    const first = await timed(`npm run lab -- --stack ${STACK}`, () => lab(["--stack", STACK]));
    log(`TIME lab command start -> smoke passed and endpoints printed: ${seconds(Date.now() - upStart)} (pulumi up: ${stepDetail(first, "pulumi up")}; health: ${stepDetail(first, "health checks")})`);
    if (!/Passwords and tokens: npm run lab -- logins --stack e2e/.test(first)) fail("the lab command printed no endpoints summary");
    for (const c of await stackContainers(prefix)) log(`  ${c.name}: ${c.health ?? `${c.status}, exit ${c.exitCode}`}`);

    const endpoints = (JSON.parse(await pulumi(session, ["stack", "output", "--json", "--show-secrets"], { capture: true })) as { endpoints: Endpoints }).endpoints;
    await timed("ATT&CK load job", () => attackLoadJob(prefix, endpoints));
    await timed("detection rules job", () => detectionRulesJob(prefix, endpoints));
    const replayed = await timed(`replay ${Object.values(RECORDINGS).join(" and ")} through Kafka`, () => replayAndCount(endpoints));
    await timed(`alert of SigmaHQ rule ${EXPECTED_RULE.id} on the replayed ${RECORDINGS.lsassDump}`, () =>
      alertRaised(prefix, endpoints, replayed.get(RECORDINGS.lsassDump)!),
    );
    await timed(`hunt notebook ${NOTEBOOK} executed in the stack's Jupyter`, () => notebookInJupyter(prefix, endpoints));

    await timed("second lab run changes nothing", async () => {
      const again = await lab(["--stack", STACK]);
      const preview = stepDetail(again, "preview");
      if (!preview.endsWith("nothing to change")) fail(`the second lab run's preview found changes: ${preview}`);
      if (!stepDetail(again, "pulumi up").endsWith("skipped: nothing to change")) fail("the second lab run applied something");
      await pulumi(session, ["preview", "--expect-no-changes", "--diff"]);
      log("no changes; smoke passed again");
    });

    await timed("one config value changed: enrichment replicas 1 -> 2", () => changeOneValue(session, prefix));
  } finally {
    // Also after a failed step (or a partly applied up): the run must not leave the stack behind.
    await timed(`npm run lab -- destroy --stack ${STACK} --remove-stack`, () => lab(["destroy", "--stack", STACK, "--remove-stack"]));
  }
  await timed("nothing of the stack remains", () => checkNothingLeft(session, prefix));
  log("E2E PASSED");
  logTotal();
  process.stdout.write(`e2e: ${stepsPassed} passed, 0 failed\n`);
}

interface Endpoints {
  kafka: { bootstrap: string; eventTopics: string[] };
  engine: { kind: "elasticsearch" | "opensearch"; url: string; username?: string; password?: string };
}

/** A client of the stack's engine at its published endpoint. */
function engineOf(endpoints: Endpoints): Engine {
  return createEngine({ kind: endpoints.engine.kind, url: endpoints.engine.url });
}

/** A setup job (a run-to-completion container that pulumi up attached to) exited 0; the end of its log is shown. */
async function jobSucceeded(prefix: string, job: string, logLines: number): Promise<void> {
  const name = workloadName(prefix, job);
  const container = (await stackContainers(prefix)).find((c) => c.name === name) ?? fail(`pulumi up created no ${name} container`);
  if (container.status !== "exited" || container.exitCode !== 0) fail(`${name}: ${container.status}, exit code ${container.exitCode}`);
  log(`${name} exited 0; the end of its log:`);
  await mustRun("docker", ["logs", "--tail", String(logLines), name]);
}

async function documentCount(engine: Engine, index: string, query?: unknown): Promise<number> {
  const { body } = await engine.request<{ count: number }>({ method: "POST", path: `/${index}/_count`, body: query ? { query } : {} });
  return body.count;
}

/** The stack's ATT&CK load job exited 0, and the techniques alias it fills answers with documents. */
async function attackLoadJob(prefix: string, endpoints: Endpoints): Promise<void> {
  await jobSucceeded(prefix, SETUP_JOBS.attackLoad, 3);
  const count = await documentCount(engineOf(endpoints), "helk-mitre-attack");
  if (count === 0) fail("helk-mitre-attack holds no document after the load job");
  log(`helk-mitre-attack holds ${count} documents`);
}

/**
 * The detection rules job exited 0 (its log ends with the conversion counts and the deployed rules), and the rules
 * alias the detections service reads holds rules.
 */
async function detectionRulesJob(prefix: string, endpoints: Endpoints): Promise<void> {
  await jobSucceeded(prefix, SETUP_JOBS.detectionRules, 2);
  const count = await documentCount(engineOf(endpoints), RULES_ALIAS);
  if (count === 0) fail(`${RULES_ALIAS} holds no rule after the detection rules job`);
  log(`${RULES_ALIAS} holds ${count} rules`);
}

/**
 * The events-index document ids the enrichment makes of a recording, computed with its own transform chain
 * (events that repeat a host/channel/record number, or byte-identical ones, are one document), and how many
 * events it rejects to the dead-letter topic.
 */
async function expectedDocuments(path: string): Promise<{ ids: string[]; events: number; rejected: number }> {
  const enricher = new Enricher();
  const ids = new Set<string>();
  let events = 0;
  let rejected = 0;
  for await (const line of recordingLines(path)) {
    events++;
    const outcome = enricher.enrich(line, { tag: undefined });
    if (outcome.ok) ids.add(outcome.event.id);
    else rejected++;
  }
  return { ids: [...ids], events, rejected };
}

/**
 * Replays the {@link RECORDINGS} into the stack's event topic through the published Kafka listener and waits until
 * every document the enrichment makes of them is in helk-events-* (looked up by id), and no other. Returns the
 * document ids of each recording.
 */
async function replayAndCount(endpoints: Endpoints): Promise<Map<string, Set<string>>> {
  const engine = engineOf(endpoints);
  const count = async (query?: unknown): Promise<number> => {
    await engine.request({ method: "POST", path: "/helk-events-*/_refresh" });
    return documentCount(engine, "helk-events-*", query);
  };
  const idsOf = new Map<string, Set<string>>();
  const paths: string[] = [];
  let events = 0;
  for (const name of Object.values(RECORDINGS)) {
    const source = recording(name);
    const expected = await expectedDocuments(source.path);
    log(
      `${source.name}: ${expected.events} events, ${expected.ids.length} distinct documents ` +
        `(${expected.events - expected.ids.length - expected.rejected} repeats), ${expected.rejected} rejected`,
    );
    idsOf.set(name, new Set(expected.ids));
    paths.push(source.path);
    events += expected.events;
  }
  const ids = [...new Set([...idsOf.values()].flatMap((set) => [...set]))];
  const before = await count();
  const topic = endpoints.kafka.eventTopics[0] ?? fail("the stack has no event topic");
  const start = Date.now();
  const result = await replayRecordings({ brokers: endpoints.kafka.bootstrap.split(","), topic, recordings: paths });
  if (result.produced !== events) fail(`replayed ${result.produced} events, the recordings have ${events}`);
  log(`replayed ${result.produced} events into ${topic} in ${seconds(Date.now() - start)}`);
  const byId = { ids: { values: ids } };
  let found = 0;
  const allFound = async () => ((found = await count(byId)) < ids.length ? undefined : true);
  await poll("replay indexing", allFound, { initialDelayMs: 2_000, maxDelayMs: 2_000, maxElapsedMs: 5 * 60_000 }).catch((error: unknown) => {
    if (!(error instanceof RetryExhausted)) throw error;
    fail(`only ${found} of the ${ids.length} documents of the replay were indexed after 5 min`);
  });
  const added = (await count()) - before;
  if (added !== ids.length) fail(`helk-events-* grew by ${added} documents; the replay makes ${ids.length}`);
  log(`all ${found} documents indexed into helk-events-* ${seconds(Date.now() - start)} after the replay started`);
  return idsOf;
}

interface Alert {
  rule: { id: string; title: string; level: string };
  attack: DetectionRule["attack"];
  host_name: string;
  event_count: number;
  matched_event_ids: string[];
  first_indexed_at: string;
  detected_at: string;
}

const ALERTS = `${ALERTS_INDEX_PREFIX}*`;

/** Where the detections service is: alerts so far, and the earliest time up to which every deployed rule searched. */
async function detectionProgress(engine: Engine): Promise<{ alerts: number; searchedUntil: number }> {
  await engine.request({ method: "POST", path: `/${ALERTS}/_refresh` });
  return { alerts: await documentCount(engine, ALERTS), searchedUntil: await searchedUntil(engine) };
}

const describeProgress = (p: { alerts: number; searchedUntil: number }): string =>
  `${p.alerts} alerts so far; every rule has searched the events indexed before ${p.searchedUntil ? new Date(p.searchedUntil).toISOString() : "(no run yet)"}`;

/**
 * The detections service is healthy, and raises an alert of {@link EXPECTED_RULE} over documents of the replayed
 * LSASS dump (waited for, at most 3 minutes, with its progress logged).
 */
async function alertRaised(prefix: string, endpoints: Endpoints, dumpIds: Set<string>): Promise<void> {
  const service = instanceName(prefix, "detections", 0);
  const container = (await stackContainers(prefix)).find((c) => c.name === service) ?? fail(`pulumi up created no ${service} container`);
  if (container.health !== "healthy") fail(`${service}: ${container.status}, health ${container.health ?? "none"} (its /healthz check)`);
  log(`${service} is healthy (/healthz)`);
  const engine = engineOf(endpoints);
  const query = { bool: { filter: [{ term: { "rule.id": EXPECTED_RULE.id } }, { terms: { matched_event_ids: [...dumpIds] } }] } };
  const start = Date.now();
  let last = "";
  const found = async (): Promise<Alert | undefined> => {
    const progress = describeProgress(await detectionProgress(engine));
    const { body } = await engine.request<{ hits: { hits: { _source: Alert }[] } }>({ method: "POST", path: `/${ALERTS}/_search`, body: { size: 1, query } });
    if (body.hits.hits[0]) return body.hits.hits[0]._source;
    if (progress !== last) log(`  no alert of ${EXPECTED_RULE.id} yet after ${seconds(Date.now() - start)}: ${progress}`);
    last = progress;
    return undefined;
  };
  const alert = await poll("alert", found, { initialDelayMs: 3_000, maxDelayMs: 5_000, maxElapsedMs: 3 * 60_000 }).catch((error: unknown) => {
    if (!(error instanceof RetryExhausted)) throw error;
    return fail(`no alert of ${EXPECTED_RULE.id} (${EXPECTED_RULE.title}) over the replayed ${RECORDINGS.lsassDump} after 3 min: ${last}; see docker logs ${service}`);
  });
  if (alert.rule.title !== EXPECTED_RULE.title) fail(`the alert of ${EXPECTED_RULE.id} is titled "${alert.rule.title}", expected "${EXPECTED_RULE.title}"`);
  const techniques = alert.attack.techniques.map((t) => t.technique_id);
  if (!techniques.includes("T1003.001")) fail(`the alert's ATT&CK context lacks T1003.001: ${techniques.join(", ")}`);
  const latency = (Date.parse(alert.detected_at) - Date.parse(alert.first_indexed_at)) / 1000;
  log(
    `alert [${alert.rule.level}] ${alert.rule.title} on ${alert.host_name}: ${alert.event_count} events, ATT&CK ${techniques.join(", ")} ` +
      `(tactics ${alert.attack.tactics.join(", ")}); indexed -> alert ${latency.toFixed(1)} s; seen ${seconds(Date.now() - start)} after the replay was indexed`,
  );
}

/** The `HELK-RESULT {...}` line a hunt notebook printed (notebooks/helk_hunt.py), from the executed notebook's JSON. */
function helkResult(executedNotebook: string): Record<string, unknown> | undefined {
  const notebook = JSON.parse(executedNotebook) as { cells: { outputs?: { output_type: string; text?: string | string[] }[] }[] };
  const printed = notebook.cells.flatMap((cell) => cell.outputs ?? []).filter((o) => o.output_type === "stream");
  const lines = printed.flatMap((o) => (Array.isArray(o.text) ? o.text.join("") : (o.text ?? "")).split("\n"));
  const line = lines.find((l) => l.startsWith("HELK-RESULT "));
  return line === undefined ? undefined : (JSON.parse(line.slice("HELK-RESULT ".length)) as Record<string, unknown>);
}

/**
 * Once every rule has searched every replayed event (so no alert is still to come), the project's notebooks are
 * copied into the stack's Jupyter container and {@link NOTEBOOK} is executed there headless with `jupyter nbconvert`,
 * reading the engine at the HELK_ENGINE_URL the stack gave the container. Its figures must be the engine's own.
 */
async function notebookInJupyter(prefix: string, endpoints: Endpoints): Promise<void> {
  const engine = engineOf(endpoints);
  await engine.request({ method: "POST", path: "/helk-events-*/_refresh" });
  const { body } = await engine.request<{ aggregations: { high: { value: number } } }>({
    method: "POST",
    path: "/helk-events-*/_search",
    body: { size: 0, aggs: { high: { max: { field: "indexed_at" } } } },
  });
  const indexedUntil = body.aggregations.high.value;
  let last = "";
  await poll(
    "detections caught up",
    async () => {
      const progress = await detectionProgress(engine);
      if (progress.searchedUntil > indexedUntil) return progress;
      if (describeProgress(progress) !== last) log(`  waiting for every rule to pass ${new Date(indexedUntil).toISOString()}: ${describeProgress(progress)}`);
      last = describeProgress(progress);
      return undefined;
    },
    { initialDelayMs: 2_000, maxDelayMs: 5_000, maxElapsedMs: 3 * 60_000 },
  ).catch((error: unknown) => {
    if (!(error instanceof RetryExhausted)) throw error;
    fail(`the detections service had not searched every replayed event after 3 min: ${last}`);
  });

  const jupyter = instanceName(prefix, "jupyter", 0);
  const dir = "/tmp/helk-notebooks";
  await mustRun("docker", ["cp", "notebooks/.", `${jupyter}:${dir}`]);
  const engineUrl = (await mustRun("docker", ["exec", jupyter, "printenv", "HELK_ENGINE_URL"], { capture: true })).trim();
  log(`copied notebooks/ to ${jupyter}:${dir}; executing ${NOTEBOOK} there against HELK_ENGINE_URL=${engineUrl}`);
  const start = Date.now();
  const executed = await mustRun(
    "docker",
    ["exec", "-w", dir, jupyter, "jupyter", "nbconvert", "--to", "notebook", "--execute", "--stdout", "--ExecutePreprocessor.timeout=600", NOTEBOOK],
    { capture: true },
  );
  const result = helkResult(executed) ?? fail(`${NOTEBOOK} printed no HELK-RESULT line`);
  log(`${NOTEBOOK} executed in ${seconds(Date.now() - start)}: HELK-RESULT ${JSON.stringify(result)}`);

  const alerts = await documentCount(engine, ALERTS);
  const byRule = await engine.request<{ aggregations: { rules: { buckets: { key: string }[] } } }>({
    method: "POST",
    path: `/${ALERTS}/_search`,
    body: { size: 0, aggs: { rules: { terms: { field: "rule.id", size: 10_000 } } } },
  });
  const rules = byRule.body.aggregations.rules.buckets.map((b) => b.key).sort();
  if (result.alerts !== alerts) fail(`${NOTEBOOK} counted ${String(result.alerts)} alerts; ${ALERTS} holds ${alerts}`);
  if (JSON.stringify(result.rules) !== JSON.stringify(rules)) fail(`${NOTEBOOK} found the rules ${JSON.stringify(result.rules)}; ${ALERTS} has ${JSON.stringify(rules)}`);
  if (!rules.includes(EXPECTED_RULE.id)) fail(`${NOTEBOOK}'s rules lack ${EXPECTED_RULE.id}`);
  log(`the notebook's ${alerts} alerts of ${rules.length} rules are ${ALERTS}'s own`);
}

/**
 * Raises `helk:enrichment.replicas` in a copy of the stack file: the preview must touch enrichment resources
 * only; then the change is applied, and every container that existed before must still be the same container
 * (same id), the new replica healthy.
 */
async function changeOneValue(session: LabSession, prefix: string): Promise<void> {
  const doc = parse(await readFile(stackFile, "utf8")) as { config: Record<string, Record<string, unknown>> };
  const enrichment = doc.config["helk:enrichment"] ?? fail(`${stackFile}: helk:enrichment is not set`);
  const replicas = Number(enrichment.replicas ?? 1) + 1;
  enrichment.replicas = replicas;
  const changedFile = join(workDir, `Pulumi.${STACK}.replicas.yaml`);
  await writeFile(changedFile, stringify(doc));
  const changes = await previewChanges(session, changedFile);
  for (const s of changes) log(`  ${s.op} ${urnName(s.urn)}`);
  if (changes.length === 0) fail("raising enrichment replicas changed nothing in the preview");
  const unrelated = changes.filter((s) => !/enrichment/i.test(urnName(s.urn)));
  if (unrelated.length > 0) fail(`raising enrichment replicas also changes: ${unrelated.map((s) => `${s.op} ${urnName(s.urn)}`).join(", ")}`);
  log(`the preview changes enrichment resources only (${changes.length} steps); applying it`);

  const before = await containerIds(prefix);
  await pulumi(session, ["up", "--yes", "--skip-preview", "--config-file", changedFile]);
  const after = await containerIds(prefix);
  const recreated = [...before].filter(([name, id]) => after.get(name) !== id).map(([name]) => name);
  if (recreated.length > 0) fail(`containers replaced or removed by the change: ${recreated.join(", ")}`);
  const added = [...after.keys()].filter((name) => !before.has(name));
  log(`  unchanged: ${before.size} containers; added: ${added.join(", ") || "none"}`);
  if (added.length !== 1 || !added[0]!.includes("enrichment")) fail(`expected one new enrichment container, got: ${added.join(", ") || "none"}`);
  await waitHealthy(prefix, 3 * 60_000, (summary) => log(`waiting for health: ${summary}`));
  log(`${added[0]} is healthy; ${replicas} enrichment replicas`);
}

async function containerIds(prefix: string): Promise<Map<string, string>> {
  return new Map((await stackContainers(prefix)).map((c) => [c.name, c.id]));
}

/** After the destroy: no container, volume or network named after the stack, and no stack in the backend. */
async function checkNothingLeft(session: LabSession, prefix: string): Promise<void> {
  const left: string[] = [];
  for (const kind of ["container", "volume", "network"] as const) {
    const listArgs = kind === "container" ? ["ps", "-a", "--format", "{{.Names}}"] : [kind, "ls", "--format", "{{.Name}}"];
    const names = (await mustRun("docker", listArgs, { capture: true })).split("\n").filter((n) => n.startsWith(prefix));
    log(`  ${kind}s named ${prefix}*: ${names.length}`);
    left.push(...names.map((n) => `${kind} ${n}`));
  }
  const stackLeft = await stackExists(session);
  log(`  stack ${STACK} in ${session.backend}: ${stackLeft ? "still there" : "removed"}`);
  if (stackLeft) left.push(`stack ${STACK} in the backend`);
  if (left.length > 0) fail(`left behind: ${left.join(", ")}`);
}

main().catch((err: unknown) => {
  log(`E2E FAILED: ${err instanceof Error ? err.message : String(err)}`);
  if (!(err instanceof E2eFailure) && err instanceof Error) console.error(err.stack);
  logTotal();
  process.stdout.write(`e2e: ${stepsPassed} passed, 1 failed\n`);
  process.exitCode = 1;
});
