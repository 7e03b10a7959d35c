import { credentialsSecretName } from "../names.ts";
import type { KafkaTopic, ParsedConfig } from "./schema.ts";

const defaultImages = {
  elasticsearch: "docker.elastic.co/elasticsearch/elasticsearch:9.1.5",
  opensearch: "opensearchproject/opensearch:2.19.3",
  kibana: "docker.elastic.co/kibana/kibana:9.1.5",
  "opensearch-dashboards": "opensearchproject/opensearch-dashboards:2.19.3",
} as const;

/** The validated deployment, with every engine-dependent default resolved. */
export type HelkConfig = Omit<ParsedConfig, "engine" | "dashboards" | "kafka" | "kubernetes"> & {
  kubernetes: ParsedConfig["kubernetes"] & { credentialsSecret: string };
  engine: ParsedConfig["engine"] & { image: string; security: boolean };
  dashboards: ParsedConfig["dashboards"] & { kind: "kibana" | "opensearch-dashboards"; image: string };
  kafka: Omit<ParsedConfig["kafka"], "topics"> & { topics: KafkaTopic[] };
};

/** Host name clients on the Docker host use for published ports: the advertised host, else the bind address. */
export function publishedHost(config: HelkConfig): string {
  const bind = config.ports.bindAddress;
  if (config.ports.advertisedHost) return config.ports.advertisedHost;
  if (bind === "0.0.0.0" || bind === "::") return "127.0.0.1";
  return bind.includes(":") ? `[${bind}]` : bind;
}

export function matchingDashboards(kind: ParsedConfig["engine"]["kind"]): "kibana" | "opensearch-dashboards" {
  return kind === "elasticsearch" ? "kibana" : "opensearch-dashboards";
}

export function engineSecurityOn(config: ParsedConfig): boolean {
  return config.engine.security ?? config.engine.kind === "elasticsearch";
}

/** The derived values of a valid config: engine image and security, dashboards kind and image, replication, Secret name. */
export function resolveConfig(parsed: ParsedConfig): HelkConfig {
  const dashboardsKind = parsed.dashboards.kind ?? matchingDashboards(parsed.engine.kind);
  const defaultReplication = Math.min(3, parsed.kafka.brokers);
  return {
    ...parsed,
    kafka: {
      ...parsed.kafka,
      topics: parsed.kafka.topics.map((t) => ({ ...t, replicationFactor: t.replicationFactor ?? defaultReplication })),
    },
    engine: { ...parsed.engine, image: parsed.engine.image ?? defaultImages[parsed.engine.kind], security: engineSecurityOn(parsed) },
    dashboards: { ...parsed.dashboards, kind: dashboardsKind, image: parsed.dashboards.image ?? defaultImages[dashboardsKind] },
    kubernetes: { ...parsed.kubernetes, credentialsSecret: parsed.kubernetes.credentialsSecret ?? credentialsSecretName(parsed.name) },
  };
}
