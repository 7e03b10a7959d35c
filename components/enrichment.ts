import { posix } from "node:path";
import type { HelkConfig } from "./config.ts";
import * as attackEnv from "../lib/contract/attack-env.ts";
import * as engineEnv from "../lib/contract/engine-env.ts";
import * as enrichmentEnv from "../lib/contract/enrichment-env.ts";
import * as geoipEnv from "../lib/contract/geoip-env.ts";
import type { EngineEndpoint } from "../lib/contract/engine-env.ts";
import * as kafkaEnv from "../lib/contract/kafka-env.ts";
import type { KafkaEndpoint } from "../lib/contract/kafka-env.ts";
import { nodeServiceHealth, quantityToMiB, type HostFileMount, type ServiceSpec, type Topology } from "./model.ts";

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

const MIB = 1024 * 1024;

/** Dockerfile of the enrichment image, relative to the project root (the build context). */
export const ENRICHMENT_DOCKERFILE = "enrichment/Dockerfile";

/**
 * The enrichment service (issue 4's `enrichment/main.ts`), configured only through the env of its contract.
 * The image holds the `helk` CLI too, so setup jobs run from it. Health check needs node (fetch of
 * `/readyz`).
 */
export function enrichmentComponent(args: EnrichmentArgs): { spec: ServiceSpec; endpoint: EnrichmentEndpoint } {
  const { settings, kafka, engine, topology } = args;
  const name = "enrichment";
  const attack = attackSource(settings);
  const geoip = geoipSource(settings);
  const spec: ServiceSpec = {
    kind: "service",
    name,
    title: "Enrichment",
    image: enrichmentImage(settings),
    env: {
      ...kafkaEnv.toConsumerEnv(kafka, settings.consumerGroup),
      ...engineEnv.toEnv(engine),
      ...attack.env,
      ...geoip.env,
      ...enrichmentEnv.toEnv({
        joinCacheBytes: quantityToMiB(settings.joinMemory.cache) * MIB,
        joinWaitingBytes: quantityToMiB(settings.joinMemory.waiting) * MIB,
      }),
      HELK_HTTP_HOST: "0.0.0.0",
      HELK_HTTP_PORT: String(ENRICHMENT_PORT),
    },
    ports: [{ name: "http", port: ENRICHMENT_PORT, ...(settings.port === null ? {} : { publish: settings.port }) }],
    volumes: [],
    health: nodeServiceHealth(ENRICHMENT_PORT, "/readyz"),
    resources: settings.resources,
    replicas: settings.replicas,
    stateful: false,
    peers: false,
    external: false,
    uses: ["kafka", "engine"],
    after: args.after,
    runAsUser: 1000, // user `node` of the node base images
    hostFiles: [...attack.hostFiles, ...geoip.hostFiles],
  };
  return { spec, endpoint: { url: `http://${topology.serviceHost(name)}:${ENRICHMENT_PORT}` } };
}

/** Where `helk:enrichment.attackBundleFile` appears inside the containers (its file name is kept). */
export const ATTACK_MOUNT_DIR = "/mnt/helk/attack";

/**
 * The ATT&CK bundle of the service and of the ATT&CK load job (both read `HELK_ATTACK_BUNDLE`): the host file
 * mounted read-only, or the configured in-image path or URL with its `HELK_ATTACK_SHA256` pin; nothing when
 * none is configured.
 */
export function attackSource(settings: HelkConfig["enrichment"]): { env: Record<string, string>; hostFiles: HostFileMount[] } {
  if (settings.attackBundleFile !== undefined) {
    const mountPath = `${ATTACK_MOUNT_DIR}/${posix.basename(settings.attackBundleFile)}`;
    return { env: attackEnv.toEnv({ bundle: mountPath }), hostFiles: [{ hostPath: settings.attackBundleFile, mountPath }] };
  }
  return { env: attackEnv.toEnv({ bundle: settings.attackBundle, sha256: settings.attackSha256 }), hostFiles: [] };
}

/** Where the `helk:enrichment.geoip` databases appear in the service's container (`city/`, `asn/`, file names kept). */
export const GEOIP_MOUNT_DIR = "/mnt/helk/geoip";

/** The GeoIP databases configured as host files, mounted read-only (one folder each: their names may be equal). */
export function geoipSource(settings: HelkConfig["enrichment"]): { env: Record<string, string>; hostFiles: HostFileMount[] } {
  const hostFiles: HostFileMount[] = [];
  const mount = (kind: "city" | "asn", hostPath: string | undefined): string | undefined => {
    if (hostPath === undefined) return undefined;
    const mountPath = `${GEOIP_MOUNT_DIR}/${kind}/${posix.basename(hostPath)}`;
    hostFiles.push({ hostPath, mountPath });
    return mountPath;
  };
  const city = mount("city", settings.geoip?.cityDatabaseFile);
  const asn = mount("asn", settings.geoip?.asnDatabaseFile);
  return { env: geoipEnv.toEnv({ ...(city === undefined ? {} : { city }), ...(asn === undefined ? {} : { asn }) }), hostFiles };
}

/** The enrichment image: built from enrichment/Dockerfile with BASE_IMAGE on docker, pulled on kubernetes. */
export function enrichmentImage(settings: HelkConfig["enrichment"]): ServiceSpec["image"] {
  return { ref: settings.image, build: { dockerfile: ENRICHMENT_DOCKERFILE, args: { BASE_IMAGE: settings.baseImage } } };
}
