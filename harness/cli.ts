import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { z } from "zod";
import { cacheDir } from "../lib/cache-dir.ts";
import { jupyterReady } from "./jupyter.ts";
import { kafkaReady } from "./kafka.ts";
import { openSearchReady } from "./opensearch.ts";
import { pidAlive, pidExited, stopServer } from "./process.ts";
import { endpointOf, resolveServices, SERVICE_KEYS, startServices, stopServices, type ServiceKey } from "./services.ts";

/** What `services up` writes and `status`/`down` read: enough to find, probe and stop each server. */
const StateSchema = z.object({
  startedAt: z.string(),
  services: z.partialRecord(
    z.enum(["kafka", "engine", "jupyter"]),
    z.object({
      name: z.string(),
      pid: z.number().int().positive(),
      logFile: z.string(),
      dataDir: z.string(),
      /** Kafka bootstrap `host:port`, or the HTTP base URL. */
      endpoint: z.string(),
      token: z.string().optional(),
    }),
  ),
});
type State = z.infer<typeof StateSchema>;
type StateEntry = NonNullable<State["services"][ServiceKey]>;

function defaultStateFile(): string {
  return process.env.HELK_SERVICES_STATE ?? join(cacheDir(), "services", "state.json");
}

function readState(file: string): State | undefined {
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`state file ${file} is not JSON (${(error as Error).message}); remove it if no servers run`);
  }
  const parsed = StateSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`state file ${file} is not a services state: ${parsed.error.message}`);
  return parsed.data;
}

function parseOnly(value: string): ServiceKey[] {
  const keys = value.split(",").map((k) => k.trim());
  for (const key of keys) {
    if (!(SERVICE_KEYS as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(`unknown service "${key}"; choose from ${SERVICE_KEYS.join(", ")}`);
    }
  }
  return keys as ServiceKey[];
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError(`"${value}" is not a TCP port`);
  return port;
}

/** Lines for a shell that point the integration suites at these servers instead of starting their own. */
function envExports(state: State): string[] {
  const { kafka, engine, jupyter } = state.services;
  return [
    kafka && `export HELK_TEST_KAFKA_BROKERS=${kafka.endpoint}`,
    engine && `export HELK_TEST_ENGINE_URL=${engine.endpoint}`,
    jupyter && `export HELK_TEST_JUPYTER_URL=${jupyter.endpoint}`,
    jupyter && `export HELK_TEST_JUPYTER_TOKEN=${jupyter.token}`,
  ].filter((line): line is string => Boolean(line));
}

async function probe(key: ServiceKey, entry: StateEntry): Promise<boolean> {
  try {
    if (key === "kafka") return await kafkaReady({ brokers: [entry.endpoint] });
    if (key === "engine") return await openSearchReady(entry.endpoint);
    return await jupyterReady(entry.endpoint, entry.token ?? "");
  } catch {
    return false;
  }
}

/** `services up|down|status`: the harness's servers in the background, for work by hand and benchmarks. */
export function registerServicesCommands(program: Command): void {
  const services = program
    .command("services")
    .description(
      "real Kafka, OpenSearch and Jupyter on 127.0.0.1 for tests and benchmarks (artifacts cached in " +
        "$HELK_CACHE_DIR or ~/.cache/helk)",
    );
  const stateOption = ["--state <file>", "state file with endpoints and PIDs (default $HELK_SERVICES_STATE or <cache>/services/state.json)"] as const;

  services
    .command("up")
    .description("start the servers in the background, wait until they answer, write the state file")
    .option(...stateOption)
    .option("--only <list>", "comma list of kafka,engine,jupyter", parseOnly)
    .option("--kafka-port <port>", "Kafka client port (default: a free one)", parsePort)
    .option("--engine-port <port>", "OpenSearch HTTP port (default: a free one)", parsePort)
    .option("--jupyter-port <port>", "Jupyter port (default: a free one)", parsePort)
    .option("--jupyter-token <token>", "Jupyter token (default: a random one)")
    .action(async (opts: { state?: string; only?: ServiceKey[]; kafkaPort?: number; enginePort?: number; jupyterPort?: number; jupyterToken?: string }) => {
      const file = opts.state ?? defaultStateFile();
      const previous = readState(file);
      const alive = previous && Object.values(previous.services).filter((s) => pidAlive(s.pid));
      if (alive && alive.length > 0) {
        throw new Error(`servers from ${file} still run (${alive.map((s) => `${s.name} pid ${s.pid}`).join(", ")}); run "services down" first`);
      }
      const running = await startServices({
        only: opts.only,
        linkToParent: false,
        onProgress: (message) => console.log(message),
        kafka: { port: opts.kafkaPort },
        engine: { port: opts.enginePort },
        jupyter: { port: opts.jupyterPort, token: opts.jupyterToken },
      });
      const state: State = { startedAt: new Date().toISOString(), services: {} };
      for (const key of SERVICE_KEYS) {
        const server = running[key];
        if (!server) continue;
        const endpoint = endpointOf(server);
        const token = "token" in server ? server.token : undefined;
        state.services[key] = { name: server.name, pid: server.pid, logFile: server.logFile, dataDir: server.dataDir, endpoint, token };
      }
      try {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, JSON.stringify(state, null, 2) + "\n");
      } catch (error) {
        await stopServices(running);
        throw error;
      }
      console.log(`state: ${file}`);
      for (const [key, entry] of Object.entries(state.services)) {
        console.log(`${key.padEnd(8)} ${entry.endpoint.padEnd(26)} pid ${entry.pid}  log ${entry.logFile}`);
      }
      console.log("to run the integration suites against these servers:");
      for (const line of envExports(state)) console.log(`  ${line}`);
    });

  services
    .command("fetch")
    .description("resolve the servers' artifacts into the cache (Maven jars, launcher, Jupyter venv) without starting them")
    .action(async () => {
      console.log(`cache: ${cacheDir()}`);
      await resolveServices((message) => console.log(message));
    });

  services
    .command("status")
    .description("show each server of the state file: running, answering, endpoint; exit 1 if any is not")
    .option(...stateOption)
    .option("--env", "print only the export lines for HELK_TEST_* endpoint variables")
    .action(async (opts: { state?: string; env?: boolean }) => {
      const file = opts.state ?? defaultStateFile();
      const state = readState(file);
      if (!state) {
        console.log(`no servers (no state file ${file})`);
        process.exitCode = 1;
        return;
      }
      if (opts.env) {
        for (const line of envExports(state)) console.log(line);
        return;
      }
      let healthy = true;
      for (const key of SERVICE_KEYS) {
        const entry = state.services[key];
        if (!entry) continue;
        const running = pidAlive(entry.pid);
        const answering = running && (await probe(key, entry));
        healthy &&= answering;
        const verdict = !running ? "NOT RUNNING" : answering ? "up" : "NOT ANSWERING";
        console.log(`${entry.name.padEnd(11)} ${verdict.padEnd(14)} ${entry.endpoint.padEnd(26)} pid ${entry.pid}  log ${entry.logFile}`);
      }
      if (!healthy) process.exitCode = 1;
    });

  services
    .command("down")
    .description("stop the servers of the state file and remove their run directories")
    .option(...stateOption)
    .action(async (opts: { state?: string }) => {
      const file = opts.state ?? defaultStateFile();
      const state = readState(file);
      if (!state) {
        console.log(`nothing to stop (no state file ${file})`);
        return;
      }
      const results = await Promise.allSettled(
        Object.values(state.services).map(async (entry) => {
          await stopServer(entry, { exited: pidExited(entry.pid), removeRunDir: true });
          console.log(`${entry.name} stopped (pid ${entry.pid})`);
        }),
      );
      rmSync(file, { force: true });
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failures.length > 0) throw new Error(failures.map((f) => (f.reason as Error).message).join("\n"));
    });
}
