import type { HelkConfig } from "./config.ts";
import { engineClientEnv, type EngineEndpoint } from "./engine.ts";
import type { KafkaEndpoint } from "./kafka.ts";
import type { ServiceSpec, Topology } from "./model.ts";

/** Arguments of the enrichment component. */
export interface EnrichmentArgs {
  /** Validated `helk:enrichment` settings (defaults: image helk-enrichment:0.1.0 built on node:20.20.2-bookworm-slim, 1 replica, 0.5 CPU, 512Mi, port 8080). */
  settings: HelkConfig["enrichment"];
  /** The Kafka component's endpoint: bootstrap and topics come from it, never from config again. */
  kafka: KafkaEndpoint;
  /** The engine component's endpoint. */
  engine: EngineEndpoint;
  /** Jobs that must complete before the service starts (topics). */
  after: string[];
  /** How workload names become host names on the target (required; no default). */
  topology: Topology;
}

export interface EnrichmentEndpoint {
  url: string;
}

export const ENRICHMENT_PORT = 8080;

/** Dockerfile of the enrichment image, relative to the project root (the build context). */
export const ENRICHMENT_DOCKERFILE = "enrichment/Dockerfile";

/**
 * The enrichment service (issue 4's `enrichment/main.ts`), configured only through the env of its contract.
 * The image holds the whole project, so setup jobs run `helk` from it too. Health check needs node (fetch of
 * `/readyz`).
 */
export function enrichmentComponent(args: EnrichmentArgs): { spec: ServiceSpec; endpoint: EnrichmentEndpoint } {
  const { settings, kafka, engine, topology } = args;
  const name = "enrichment";
  const spec: ServiceSpec = {
    kind: "service",
    name,
    title: "Enrichment",
    image: enrichmentImage(settings),
    env: {
      HELK_KAFKA_BROKERS: kafka.bootstrap,
      HELK_INPUT_TOPICS: kafka.eventTopics.join(","),
      HELK_DEAD_LETTER_TOPIC: kafka.deadLetterTopic,
      HELK_CONSUMER_GROUP: settings.consumerGroup,
      ...engineClientEnv(engine),
      ...(settings.attackBundle ? { HELK_ATTACK_BUNDLE: settings.attackBundle } : {}),
      HELK_HTTP_HOST: "0.0.0.0",
      HELK_HTTP_PORT: String(ENRICHMENT_PORT),
    },
    ports: [{ name: "http", port: ENRICHMENT_PORT, ...(settings.port === null ? {} : { publish: settings.port }) }],
    volumes: [],
    health: {
      command: [
        "node",
        "-e",
        `fetch('http://127.0.0.1:${ENRICHMENT_PORT}/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
      ],
      needs: "node (the service's own runtime)",
      intervalSeconds: 10,
      timeoutSeconds: 5,
      retries: 12,
      startPeriodSeconds: 30,
    },
    resources: settings.resources,
    replicas: settings.replicas,
    stateful: false,
    peers: false,
    external: false,
    uses: ["kafka", "engine"],
    after: args.after,
    runAsUser: 1000, // user `node` of the node base images
  };
  return { spec, endpoint: { url: `http://${topology.serviceHost(name)}:${ENRICHMENT_PORT}` } };
}

/** The enrichment image: built from enrichment/Dockerfile with BASE_IMAGE on docker, pulled on kubernetes. */
export function enrichmentImage(settings: HelkConfig["enrichment"]): ServiceSpec["image"] {
  return { ref: settings.image, build: { dockerfile: ENRICHMENT_DOCKERFILE, args: { BASE_IMAGE: settings.baseImage } } };
}
