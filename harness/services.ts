import { resolveJupyter, startJupyter, type JupyterOptions, type JupyterServer } from "./jupyter.ts";
import { KAFKA_VERSION, resolveKafka, startKafka, type KafkaOptions, type KafkaServer } from "./kafka.ts";
import {
  OPENSEARCH_VERSION,
  resolveOpenSearch,
  startOpenSearch,
  type OpenSearchOptions,
  type OpenSearchServer,
} from "./opensearch.ts";

export interface RunningServices {
  kafka?: KafkaServer;
  engine?: OpenSearchServer;
  jupyter?: JupyterServer;
}

export type ServiceKey = keyof RunningServices;
export const SERVICE_KEYS: readonly ServiceKey[] = ["kafka", "engine", "jupyter"];

export interface StartServicesOptions {
  /** Which to start. Default all three. */
  only?: readonly ServiceKey[];
  /** Passed to each server; false for servers that must outlive this process (the CLI's `up`). */
  linkToParent?: boolean;
  /** Called as each server becomes ready or fails, with the seconds since the start. */
  onProgress?: (message: string) => void;
  /** Per-server options (ports, heap, data directory); `linkToParent` above wins. */
  kafka?: KafkaOptions;
  engine?: OpenSearchOptions;
  jupyter?: JupyterOptions;
}

/**
 * Starts the servers in parallel (their JVM starts overlap; resolution is cached). When any fails, stops the
 * ones that did start and throws one error naming every failure.
 */
export async function startServices(options: StartServicesOptions = {}): Promise<RunningServices> {
  const only = options.only ?? SERVICE_KEYS;
  const linkToParent = options.linkToParent ?? true;
  const started = Date.now();
  const progress = (message: string) => options.onProgress?.(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
  const starters: Record<ServiceKey, () => Promise<RunningServices[ServiceKey]>> = {
    kafka: () => startKafka({ ...options.kafka, linkToParent }),
    engine: () => startOpenSearch({ ...options.engine, linkToParent }),
    jupyter: () => startJupyter({ ...options.jupyter, linkToParent }),
  };
  const results = await Promise.allSettled(
    only.map(async (key) => {
      progress(`starting ${key}`);
      try {
        const server = (await starters[key]())!;
        progress(`${server.name} ready (pid ${server.pid}, ${endpointOf(server)})`);
        return [key, server] as const;
      } catch (error) {
        progress(`${key} failed`);
        throw error;
      }
    }),
  );
  const running: RunningServices = {};
  const failures: string[] = [];
  for (const result of results) {
    if (result.status === "fulfilled") Object.assign(running, { [result.value[0]]: result.value[1] });
    else failures.push((result.reason as Error).message);
  }
  if (failures.length > 0) {
    await stopServices(running);
    throw new Error(`service harness: ${failures.length} server(s) failed to start:\n${failures.join("\n\n")}`);
  }
  return running;
}

/** Stops every server (in parallel, each to the end even when another fails); throws naming the failures. */
export async function stopServices(running: RunningServices): Promise<void> {
  const results = await Promise.allSettled(SERVICE_KEYS.map((key) => running[key]?.stop()));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failures.length > 0) throw new Error(failures.map((f) => (f.reason as Error).message).join("\n"));
}

/** Resolves every server's artifacts into the cache without starting anything (CI warm-up, offline prep). */
export async function resolveServices(onProgress: (message: string) => void = () => undefined): Promise<void> {
  const started = Date.now();
  const timed = async (what: string, resolve: () => Promise<unknown>) => {
    await resolve();
    onProgress(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${what} resolved`);
  };
  await Promise.all([
    timed(`Kafka ${KAFKA_VERSION}`, resolveKafka),
    timed(`OpenSearch ${OPENSEARCH_VERSION}`, resolveOpenSearch),
    timed("Jupyter Server", resolveJupyter),
  ]);
}

/** Where a server answers: Kafka's bootstrap `host:port`, else the HTTP base URL. */
export function endpointOf(server: KafkaServer | OpenSearchServer | JupyterServer): string {
  return "bootstrap" in server ? server.bootstrap : server.url;
}
