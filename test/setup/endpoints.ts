import { Kafka, logLevel } from "kafkajs";
import { inject } from "vitest";
import { checkServer } from "../../harness/process.ts";

/** A server the global setup started: enough for a test worker to tell whether it still runs. */
export interface ProvidedServer {
  name: string;
  pid: number;
  logFile: string;
  dataDir: string;
}

export type ServiceName = "kafka" | "engine" | "jupyter";

/** What `test/setup/services.ts` provides to the integration project (vitest `provide`/`inject`). */
export interface ProvidedServices {
  kafkaBrokers: string[];
  engineUrl: string;
  jupyterUrl: string;
  jupyterToken: string;
  /** Servers the harness started, by what they serve; none for endpoints given by HELK_TEST_* env vars. */
  processes: Partial<Record<ServiceName, ProvidedServer>>;
}

declare module "vitest" {
  export interface ProvidedContext {
    helkServices: ProvidedServices;
  }
}

export interface ServiceEndpoints {
  kafkaBrokers: string[];
  engineUrl: string;
  engineKind: "opensearch";
  jupyterUrl: string;
  jupyterToken: string;
}

/**
 * Endpoints of this test run's real Kafka, OpenSearch and Jupyter. Reading a field checks that its server still
 * runs and otherwise throws naming it ("Kafka (pid N) was killed by SIGKILL; log tail: ..."), so a suite whose
 * server died fails with the reason instead of waiting on client timeouts. Read fields where you use them
 * (not once at import), or call {@link assertServiceAlive} after a client error.
 */
export function serviceEndpoints(): ServiceEndpoints {
  return endpointsOf(inject("helkServices"));
}

/** {@link serviceEndpoints} over a given provided value (the harness's own tests watch private servers). */
export function endpointsOf(provided: ProvidedServices): ServiceEndpoints {
  const alive = (name: ServiceName) => assertServiceAlive(name, provided);
  return {
    get kafkaBrokers() {
      alive("kafka");
      return [...provided.kafkaBrokers];
    },
    get engineUrl() {
      alive("engine");
      return provided.engineUrl;
    },
    engineKind: "opensearch",
    get jupyterUrl() {
      alive("jupyter");
      return provided.jupyterUrl;
    },
    get jupyterToken() {
      alive("jupyter");
      return provided.jupyterToken;
    },
  };
}

/** Throws, naming the server and quoting its log, when the harness-started server for `name` is gone. */
export function assertServiceAlive(name: ServiceName, provided: ProvidedServices = inject("helkServices")): void {
  const server = provided.processes[name];
  const error = server && checkServer(server);
  if (error) throw error;
}

/**
 * A kafkajs client that gives up within seconds instead of retrying for minutes, so a dead broker fails the
 * test quickly (then {@link assertServiceAlive} tells why). Brokers default to the run's Kafka.
 */
export function testKafka(clientId = "helk-test", brokers: string[] = serviceEndpoints().kafkaBrokers): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
}
