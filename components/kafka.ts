import { createHash } from "node:crypto";
import type { KafkaEndpoint } from "../lib/contract/kafka-env.ts";
import type { HelkConfig } from "./config.ts";
import { ORDINAL, publishedPort, tcpCheck, type ServiceSpec, type Topology } from "./model.ts";

/** Arguments of the Kafka component. */
export interface KafkaArgs {
  /** Validated `helk:kafka` settings (defaults: 1 broker, apache/kafka:4.1.1, heap 512m, 1 CPU, 1Gi, 5Gi storage). */
  settings: HelkConfig["kafka"];
  /** Seeds the KRaft cluster id, so one deployment keeps one id across runs. */
  deploymentName: string;
  /** Host name external clients use for the published listener. Default: "127.0.0.1". */
  advertisedHost: string;
  /** Whether the EXTERNAL listener is published on the host (docker target). */
  publish: boolean;
  /** How workload names become host names on the target (required; no default). */
  topology: Topology;
}

export const KAFKA_PORT = 9092;
const CONTROLLER_PORT = 9093;
const EXTERNAL_PORT = 9094;

/**
 * Kafka in KRaft combined mode (every node broker and controller, no ZooKeeper).
 *
 * Image convention (apache/kafka): every `KAFKA_<PROPERTY>` env var becomes a server.properties line
 * (`KAFKA_NODE_ID` → `node.id`, dots as `_`), `CLUSTER_ID` formats the storage on first start,
 * `KAFKA_HEAP_OPTS` sets the heap, and `/etc/kafka/docker/run` starts the server. A locally built image must
 * honour the same variables. Health check needs `bash` (TCP probe of the broker listener).
 */
export function kafkaComponent(args: KafkaArgs): { spec: ServiceSpec; endpoint: KafkaEndpoint } {
  const { settings, topology } = args;
  const name = "kafka";
  const ordinals = Array.from({ length: settings.brokers }, (_, i) => i);
  const voters = ordinals.map((i) => `${i}@${topology.instanceHost(name, i)}:${CONTROLLER_PORT}`).join(",");
  const internalReplication = String(Math.min(3, settings.brokers));
  const listeners = [`PLAINTEXT://:${KAFKA_PORT}`, `CONTROLLER://:${CONTROLLER_PORT}`];
  const advertised = [`PLAINTEXT://${topology.instanceHost(name, ORDINAL)}:${KAFKA_PORT}`];
  const externalPort = settings.port === null ? undefined : settings.port;
  if (args.publish && externalPort !== undefined) {
    // Host clients reach each broker on its own published port: first port + ordinal.
    listeners.push(`EXTERNAL://:${EXTERNAL_PORT}`);
    advertised.push(`EXTERNAL://${args.advertisedHost}:${publishedPort(externalPort)}`);
  }
  const spec: ServiceSpec = {
    kind: "service",
    name,
    title: "Kafka",
    image: { ref: settings.image },
    entrypoint: ["/etc/kafka/docker/run"],
    env: {
      CLUSTER_ID: clusterId(args.deploymentName),
      KAFKA_NODE_ID: ORDINAL,
      KAFKA_PROCESS_ROLES: "broker,controller",
      KAFKA_LISTENERS: listeners.join(","),
      KAFKA_ADVERTISED_LISTENERS: advertised.join(","),
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,EXTERNAL:PLAINTEXT",
      KAFKA_CONTROLLER_LISTENER_NAMES: "CONTROLLER",
      KAFKA_INTER_BROKER_LISTENER_NAME: "PLAINTEXT",
      KAFKA_CONTROLLER_QUORUM_VOTERS: voters,
      KAFKA_LOG_DIRS: "/var/lib/kafka/data",
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false",
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: internalReplication,
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: internalReplication,
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: String(Math.min(2, settings.brokers)),
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: "0",
      KAFKA_HEAP_OPTS: `-Xms${settings.heap} -Xmx${settings.heap}`,
    },
    ports: [
      { name: "kafka", port: KAFKA_PORT },
      { name: "controller", port: CONTROLLER_PORT },
      ...(args.publish && externalPort !== undefined ? [{ name: "external", port: EXTERNAL_PORT, publish: externalPort }] : []),
    ],
    volumes: [{ name: "data", mountPath: "/var/lib/kafka/data", size: settings.storage }],
    health: {
      command: tcpCheck(KAFKA_PORT),
      needs: "bash (TCP probe of the broker listener)",
      intervalSeconds: 10,
      timeoutSeconds: 5,
      retries: 12,
      startPeriodSeconds: 30,
    },
    resources: settings.resources,
    replicas: settings.brokers,
    stateful: true,
    peers: true,
    external: true,
    uses: [],
    after: [],
    runAsUser: 1000, // apache/kafka runs as appuser (uid 1000)
  };
  return {
    spec,
    endpoint: {
      bootstrap: ordinals.map((i) => `${topology.instanceHost(name, i)}:${KAFKA_PORT}`).join(","),
      eventTopics: settings.eventTopics,
      deadLetterTopic: settings.deadLetterTopic,
      topics: settings.topics,
    },
  };
}

/** A KRaft cluster id (22 chars of URL-safe base64 of 16 bytes) derived from the deployment name. */
function clusterId(deploymentName: string): string {
  return createHash("sha256").update(`helk-kafka:${deploymentName}`).digest().subarray(0, 16).toString("base64url");
}
