import type { HelkConfig } from "./config.ts";
import * as engineEnv from "../lib/contract/engine-env.ts";
import type { EngineEndpoint } from "../lib/contract/engine-env.ts";
import * as kafkaEnv from "../lib/contract/kafka-env.ts";
import type { KafkaEndpoint } from "../lib/contract/kafka-env.ts";
import type { ServiceSpec, Topology } from "./model.ts";

/** Arguments of the Jupyter component. */
export interface JupyterArgs {
  /** Validated `helk:jupyter` settings (defaults: quay.io/jupyter/base-notebook:2024-12-09, 1 CPU, 1Gi, 2Gi storage, port 8888). */
  settings: HelkConfig["jupyter"];
  /** The Kafka component's endpoint, handed to notebooks as HELK_KAFKA_BROKERS. */
  kafka: KafkaEndpoint;
  /** The engine component's endpoint, handed to notebooks as HELK_ENGINE_*. */
  engine: EngineEndpoint;
  /** How workload names become host names on the target (required; no default). */
  topology: Topology;
}

export interface JupyterEndpoint {
  url: string;
}

export const JUPYTER_PORT = 8888;

/**
 * Jupyter for hunt playbooks.
 *
 * Image conventions (jupyter docker-stacks base-notebook): `JUPYTER_TOKEN` is the server token, the default
 * command starts the server on 0.0.0.0:8888 as `jovyan` (uid 1000), notebooks live in `/home/jovyan/work`.
 * Health check needs python3 (urllib request of `/api/status` with the token).
 */
export function jupyterComponent(args: JupyterArgs): { spec: ServiceSpec; endpoint: JupyterEndpoint } {
  const { settings, kafka, engine, topology } = args;
  const name = "jupyter";
  const spec: ServiceSpec = {
    kind: "service",
    name,
    title: "Jupyter",
    image: { ref: settings.image },
    env: {
      JUPYTER_TOKEN: { credential: "jupyter-token" },
      ...kafkaEnv.toConsumerEnv(kafka),
      ...engineEnv.toEnv(engine),
    },
    ports: [{ name: "http", port: JUPYTER_PORT, ...(settings.port === null ? {} : { publish: settings.port }) }],
    volumes: [{ name: "notebooks", mountPath: "/home/jovyan/work", size: settings.storage }],
    health: {
      command: [
        "python3",
        "-c",
        `import os, urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:${JUPYTER_PORT}/api/status', headers={'Authorization': 'token ' + os.environ['JUPYTER_TOKEN']}), timeout=4)`,
      ],
      needs: "python3",
      intervalSeconds: 10,
      timeoutSeconds: 5,
      retries: 12,
      startPeriodSeconds: 20,
    },
    resources: settings.resources,
    replicas: 1,
    stateful: false,
    peers: false,
    external: true,
    uses: ["kafka", "engine"],
    after: [],
    runAsUser: 1000,
  };
  return { spec, endpoint: { url: `http://${topology.serviceHost(name)}:${JUPYTER_PORT}` } };
}
