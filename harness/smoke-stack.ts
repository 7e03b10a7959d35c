import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { loadDefaultAttackBundle } from "../attack/bundle.ts";
import { indexAttackModel } from "../attack/attack-index.ts";
import { freePort } from "./process.ts";
import { attackBundlePath, projectRoot } from "../lib/data.ts";
import { createEngine } from "../lib/engine.ts";
import { poll, RetryExhausted } from "../lib/retry.ts";
import type { SmokeReport } from "../smoke/runner.ts";

/** Topic names of one test stack, unique per run so the shared servers' other users are not disturbed. */
function stackTopics(): { input: string; deadLetter: string } {
  const suffix = randomBytes(4).toString("hex");
  return { input: `helk-smoke-events-${suffix}`, deadLetter: `helk-smoke-dead-letter-${suffix}` };
}

/** Creates the event topic (3 partitions) and the dead-letter topic (1), as a deployed stack has them. */
export async function createTopics(brokers: string[], topics: { input: string; deadLetter: string }): Promise<void> {
  const admin = new Kafka({ clientId: "helk-smoke-test", brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [
        { topic: topics.input, numPartitions: 3 },
        { topic: topics.deadLetter, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

/** Loads MITRE ATT&CK into `helk-mitre-attack` of the engine at `url`, as `helk attack` does after a deploy. */
export async function loadAttack(url: string): Promise<void> {
  const engine = createEngine({ kind: "opensearch", url });
  try {
    await indexAttackModel(engine, await loadDefaultAttackBundle());
  } finally {
    await engine.close();
  }
}

export interface EnrichmentProcess {
  url: string;
  pid: number;
  logFile: string;
  /** Stops the service (SIGTERM, its graceful shutdown) and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Runs the enrichment service as a child process (`tsx enrichment/main.ts`) configured through its
 * environment variables, and waits until its `/readyz` answers 200.
 */
export async function startEnrichment(options: {
  brokers: string[];
  engineUrl: string;
  topics: { input: string; deadLetter: string };
  logDir: string;
}): Promise<EnrichmentProcess> {
  const port = await freePort();
  const logFile = join(options.logDir, `enrichment-${port}.log`);
  const log = openSync(logFile, "a");
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", join(projectRoot, "enrichment/main.ts")], {
    cwd: projectRoot,
    stdio: ["ignore", log, log],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HELK_KAFKA_BROKERS: options.brokers.join(","),
      HELK_INPUT_TOPICS: options.topics.input,
      HELK_DEAD_LETTER_TOPIC: options.topics.deadLetter,
      HELK_CONSUMER_GROUP: `helk-enrichment-${options.topics.input}`,
      HELK_ENGINE_KIND: "opensearch",
      HELK_ENGINE_URL: options.engineUrl,
      HELK_ATTACK_BUNDLE: attackBundlePath(),
      HELK_HTTP_HOST: "127.0.0.1",
      HELK_HTTP_PORT: String(port),
    },
  });
  closeSync(log);
  // Never outlive the test process, whatever way it ends (a failed assertion skips `stop`).
  const killOnExit = (): void => void child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      process.off("exit", killOnExit);
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const tail = () => readFileSync(logFile, "utf8").split("\n").slice(-30).join("\n");

  const ready = async () => {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`enrichment service exited during start-up; log tail:\n${tail()}`);
    return (await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false)) || undefined;
  };
  await poll("enrichment readiness", ready, { initialDelayMs: 300, maxDelayMs: 1_000, maxElapsedMs: 120_000 }).catch((error: unknown) => {
    if (!(error instanceof RetryExhausted)) throw error;
    child.kill("SIGKILL");
    throw new Error(`enrichment service not ready within 120s; log tail:\n${tail()}`);
  });
  return {
    url,
    pid: child.pid!,
    logFile,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(killer);
      }
    },
  };
}

export interface TestStack {
  brokers: string[];
  topics: { input: string; deadLetter: string };
  engineUrl: string;
  enrichmentUrl: string | null;
  jupyter: { url: string; token: string } | null;
  dashboards?: { kind: "kibana" | "opensearch-dashboards"; url: string } | null;
}

/**
 * Brings a stack up on running Kafka and OpenSearch the way a deploy does: the event and dead-letter topics,
 * ATT&CK loaded, and the enrichment service started (it installs the index templates).
 */
export async function deployTestStack(options: {
  brokers: string[];
  engineUrl: string;
  jupyter: { url: string; token: string };
  logDir: string;
}): Promise<{ stack: TestStack; enrichment: EnrichmentProcess }> {
  const topics = stackTopics();
  await Promise.all([createTopics(options.brokers, topics), loadAttack(options.engineUrl)]);
  const enrichment = await startEnrichment({ brokers: options.brokers, engineUrl: options.engineUrl, topics, logDir: options.logDir });
  return {
    enrichment,
    stack: { brokers: options.brokers, topics, engineUrl: options.engineUrl, enrichmentUrl: enrichment.url, jupyter: options.jupyter },
  };
}

/** Writes the stack's endpoints the way `pulumi stack output --json --show-secrets` prints them. */
export function writeEndpoints(file: string, stack: TestStack): string {
  writeFileSync(file, JSON.stringify({ endpoints: endpointsOf(stack) }, null, 2));
  return file;
}

function endpointsOf(stack: TestStack) {
  return {
    kafka: {
      bootstrap: stack.brokers.join(","),
      eventTopics: [stack.topics.input],
      deadLetterTopic: stack.topics.deadLetter,
      topics: [
        { name: stack.topics.input, partitions: 3, replicationFactor: 1 },
        { name: stack.topics.deadLetter, partitions: 1, replicationFactor: 1 },
      ],
    },
    engine: { kind: "opensearch", url: stack.engineUrl },
    dashboards: stack.dashboards ?? null,
    enrichment: stack.enrichmentUrl ? { url: stack.enrichmentUrl } : null,
    jupyter: stack.jupyter,
  };
}

const run = promisify(execFile);

/**
 * A real Pulumi stack whose only content is the `endpoints` output of `stack` (the Jupyter token as a
 * secret output, as the HELK program exports it), deployed with the Pulumi CLI that `lab/toolchain.sh`
 * provides, on a local file backend. Returns the project directory and the environment to run pulumi in.
 */
export async function pulumiStackWith(stack: TestStack, dir: string, name: string): Promise<{ projectDir: string; env: Record<string, string> }> {
  const { stdout } = await run("bash", [join(projectRoot, "lab/toolchain.sh")], { cwd: projectRoot, maxBuffer: 16 * 1024 * 1024 });
  const pulumiBin = stdout.trim().split("\n").pop()!;
  const projectDir = join(dir, "pulumi-project");
  for (const sub of ["pulumi-project", "pulumi-state", "pulumi-home"]) mkdirSync(join(dir, sub), { recursive: true });
  symlinkSync(join(projectRoot, "node_modules"), join(projectDir, "node_modules"));
  writeFileSync(join(projectDir, "Pulumi.yaml"), "name: helk-smoke-test\nruntime: nodejs\n");
  writeFileSync(join(projectDir, "package.json"), JSON.stringify({ name: "helk-smoke-test", main: "index.js" }));
  writeFileSync(join(projectDir, "endpoints.json"), JSON.stringify(endpointsOf(stack)));
  writeFileSync(
    join(projectDir, "index.js"),
    `const pulumi = require("@pulumi/pulumi");
const endpoints = require("./endpoints.json");
exports.endpoints = { ...endpoints, jupyter: endpoints.jupyter && { url: endpoints.jupyter.url, token: pulumi.secret(endpoints.jupyter.token) } };
`,
  );
  const env = {
    PATH: `${pulumiBin}:${join(process.execPath, "..")}:/usr/bin:/bin`,
    HOME: process.env.HOME ?? dir,
    PULUMI_HOME: join(dir, "pulumi-home"),
    PULUMI_BACKEND_URL: `file://${join(dir, "pulumi-state")}`,
    PULUMI_CONFIG_PASSPHRASE: "helk-smoke-test",
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  await run("pulumi", ["stack", "init", name, "--non-interactive"], { cwd: projectDir, env });
  await run("pulumi", ["up", "--yes", "--skip-preview", "--non-interactive", "--stack", name], { cwd: projectDir, env, maxBuffer: 16 * 1024 * 1024 });
  return { projectDir, env };
}

/** `{ checkId: status }` of a report, for whole-map assertions. */
export function statuses(report: SmokeReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
}

/** The message of one check. */
export function messageOf(report: SmokeReport, id: string): string {
  const check = report.checks.find((c) => c.id === id);
  if (!check) throw new Error(`no check ${id} in the report`);
  return check.message;
}
