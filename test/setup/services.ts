import type { TestProject } from "vitest/node";
import { SERVICE_KEYS, startServices, stopServices, type RunningServices, type ServiceKey } from "../../harness/services.ts";
import type { ProvidedServer, ProvidedServices } from "./endpoints.ts";

/**
 * Vitest global setup of the integration project: starts real Kafka, OpenSearch and Jupyter once per run
 * (in parallel), provides their endpoints to the tests (read them with `serviceEndpoints()`), and stops them
 * when the run ends (Ctrl-C, a crash or a kill of vitest end them too: see harness/process.ts). A server
 * whose endpoint is given by env vars is not started: HELK_TEST_KAFKA_BROKERS (comma list), HELK_TEST_ENGINE_URL, HELK_TEST_JUPYTER_URL + HELK_TEST_JUPYTER_TOKEN.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = process.env;
  const given: Record<ServiceKey, boolean> = {
    kafka: Boolean(env.HELK_TEST_KAFKA_BROKERS),
    engine: Boolean(env.HELK_TEST_ENGINE_URL),
    jupyter: Boolean(env.HELK_TEST_JUPYTER_URL),
  };
  if (given.jupyter && !env.HELK_TEST_JUPYTER_TOKEN) {
    throw new Error("HELK_TEST_JUPYTER_URL is set but HELK_TEST_JUPYTER_TOKEN is not; set both or neither");
  }
  const toStart = SERVICE_KEYS.filter((key) => !given[key]);
  const log = (message: string) => console.log(`[helk services] ${message}`);
  const running: RunningServices = await startServices({ only: toStart, onProgress: log });

  const provided: ProvidedServices = {
    kafkaBrokers: given.kafka ? env.HELK_TEST_KAFKA_BROKERS!.split(",").map((b) => b.trim()) : running.kafka!.brokers,
    engineUrl: given.engine ? env.HELK_TEST_ENGINE_URL! : running.engine!.url,
    jupyterUrl: given.jupyter ? env.HELK_TEST_JUPYTER_URL! : running.jupyter!.url,
    jupyterToken: given.jupyter ? env.HELK_TEST_JUPYTER_TOKEN! : running.jupyter!.token,
    processes: Object.fromEntries(
      SERVICE_KEYS.flatMap((key) => {
        const server = running[key];
        if (!server) return [];
        const entry: ProvidedServer = { name: server.name, pid: server.pid, logFile: server.logFile, dataDir: server.dataDir };
        return [[key, entry]];
      }),
    ),
  };
  project.provide("helkServices", provided);

  return async () => {
    await stopServices(running);
    log("stopped");
  };
}
