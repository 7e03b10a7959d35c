/**
 * `npm run e2e`: the documented path, checked. `npm run lab -- --stack e2e` (the README's lab command on the stack
 * whose images are built locally) brings the stack up, health-checks and smoke-tests it; then the ATT&CK load job,
 * a replayed recording, a second lab run that must change nothing, and a one-value change checked on the preview's
 * JSON; then `npm run lab -- destroy --remove-stack` and a search for anything of the stack left on the engine.
 * Every step is logged; the first failure ends the run (after a destroy).
 */
import { spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { SETUP_JOBS } from "../components/setup.ts";
import { workloadName } from "../components/names.ts";
import { Enricher } from "../enrichment/transforms/index.ts";
import { recording, recordingLines } from "../lib/datasets.ts";
import { createEngine } from "../lib/engine.ts";
import { replayRecordings } from "../lib/replay.ts";
import { stackContainers, waitHealthy } from "../lab/containers.ts";
import { openSession, stackExists, type LabSession } from "../lab/lab.ts";

const STACK = "e2e";
const stackFile = join("stacks", `Pulumi.${STACK}.yaml`);
const cacheDir = process.env.HELK_CACHE_DIR ?? join(process.env.HOME ?? "/root", ".cache", "helk");
const workDir = join(cacheDir, "e2e-run");
/** Small recording with Sysmon process creations, network connections and Security events (2366 events). */
const REPLAYED_RECORDING = "cmd_netsh_fw_mod_open_ports.zip";

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
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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
    await timed(`replay ${REPLAYED_RECORDING} through Kafka`, () => replayAndCount(endpoints));

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

/**
 * The stack's ATT&CK load job (a run-to-completion container that pulumi up attached to) exited 0, and the
 * techniques alias it fills answers with documents.
 */
async function attackLoadJob(prefix: string, endpoints: Endpoints): Promise<void> {
  const name = workloadName(prefix, SETUP_JOBS.attackLoad);
  const job = (await stackContainers(prefix)).find((c) => c.name === name) ?? fail(`pulumi up created no ${name} container`);
  if (job.status !== "exited" || job.exitCode !== 0) fail(`${name}: ${job.status}, exit code ${job.exitCode}`);
  log(`${name} exited 0; the end of its log:`);
  await mustRun("docker", ["logs", "--tail", "3", name]);
  const engine = createEngine({ kind: endpoints.engine.kind, url: endpoints.engine.url });
  const count = await engine.request<{ count: number }>({ method: "GET", path: "/helk-mitre-attack/_count" });
  if (count.body.count === 0) fail("helk-mitre-attack holds no document after the load job");
  log(`helk-mitre-attack holds ${count.body.count} documents`);
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
 * Replays one Security-Datasets recording into the stack's event topic through the published Kafka listener and
 * waits until every document the enrichment makes of it is in helk-events-* (looked up by id), and no other.
 */
async function replayAndCount(endpoints: Endpoints): Promise<void> {
  const engine = createEngine({ kind: endpoints.engine.kind, url: endpoints.engine.url });
  const count = async (query?: unknown): Promise<number> => {
    await engine.request({ method: "POST", path: "/helk-events-*/_refresh" });
    return (await engine.request<{ count: number }>({ method: "POST", path: "/helk-events-*/_count", body: query ? { query } : {} })).body.count;
  };
  const source = recording(REPLAYED_RECORDING);
  const expected = await expectedDocuments(source.path);
  log(
    `${source.name}: ${expected.events} events, ${expected.ids.length} distinct documents ` +
      `(${expected.events - expected.ids.length - expected.rejected} repeats), ${expected.rejected} rejected`,
  );
  const before = await count();
  const topic = endpoints.kafka.eventTopics[0] ?? fail("the stack has no event topic");
  const start = Date.now();
  const result = await replayRecordings({ brokers: endpoints.kafka.bootstrap.split(","), topic, recordings: [source.path] });
  if (result.produced !== expected.events) fail(`replayed ${result.produced} events, the recording has ${expected.events}`);
  log(`replayed ${result.produced} events into ${topic} in ${seconds(Date.now() - start)}`);
  const byId = { ids: { values: expected.ids } };
  const deadline = Date.now() + 5 * 60_000;
  let found = 0;
  while ((found = await count(byId)) < expected.ids.length) {
    if (Date.now() > deadline) fail(`only ${found} of the ${expected.ids.length} documents of the replay were indexed after 5 min`);
    await sleep(2000);
  }
  const added = (await count()) - before;
  if (added !== expected.ids.length) fail(`helk-events-* grew by ${added} documents; the replay makes ${expected.ids.length}`);
  log(`all ${found} documents indexed into helk-events-* ${seconds(Date.now() - start)} after the replay started`);
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
