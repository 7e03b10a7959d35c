import type { HelkConfig } from "./config.ts";
import type { EngineEndpoint } from "../lib/contract/engine-env.ts";
import { quantityToMiB, type EnvValue, type ServiceSpec, type Topology } from "./model.ts";

/** Arguments of the dashboards UI component. */
export interface DashboardsArgs {
  /** Validated `helk:dashboards` settings (defaults: the UI matching the engine, 1 replica, 1 CPU, 1Gi, port 5601). */
  settings: HelkConfig["dashboards"];
  /** The engine component's endpoint: the UI's backend. */
  engine: EngineEndpoint;
  /** Setup job that prepares the UI's engine account; the UI starts after it. */
  after: string[];
  /** How workload names become host names on the target (required; no default). */
  topology: Topology;
}

export interface DashboardsEndpoint {
  kind: "kibana" | "opensearch-dashboards";
  /** URL inside the stack. */
  url: string;
}

export const DASHBOARDS_PORT = 5601;

/**
 * Kibana or OpenSearch Dashboards.
 *
 * Image conventions: upper-case env vars map to kibana.yml / opensearch_dashboards.yml keys (`SERVER_HOST` →
 * `server.host`). Kibana: `ELASTICSEARCH_HOSTS`, `ELASTICSEARCH_USERNAME`=kibana_system and
 * `ELASTICSEARCH_PASSWORD` (the elastic superuser is refused by Kibana 8+). OpenSearch Dashboards:
 * `OPENSEARCH_HOSTS`, `DISABLE_SECURITY_DASHBOARDS_PLUGIN`, `OPENSEARCH_USERNAME`/`OPENSEARCH_PASSWORD`.
 * Health check needs curl (in both official images); `/api/status` answers anonymously.
 */
export function dashboardsComponent(args: DashboardsArgs): { spec: ServiceSpec; endpoint: DashboardsEndpoint } {
  const { settings, engine, topology } = args;
  const name = "dashboards";
  const kibana = settings.kind === "kibana";
  const env: Record<string, EnvValue> = {
    SERVER_HOST: "0.0.0.0",
    // Node heap at three quarters of the memory limit, the rest for native memory.
    NODE_OPTIONS: `--max-old-space-size=${Math.floor(quantityToMiB(settings.resources.memory) * 0.75)}`,
  };
  if (kibana) {
    env.ELASTICSEARCH_HOSTS = engine.url;
    env.STATUS_ALLOWANONYMOUS = "true";
    if (engine.secured) {
      env.ELASTICSEARCH_USERNAME = "kibana_system";
      env.ELASTICSEARCH_PASSWORD = { credential: "dashboards-password" };
    }
  } else {
    env.OPENSEARCH_HOSTS = JSON.stringify([engine.url]);
    if (engine.secured) {
      env.OPENSEARCH_USERNAME = engine.username ?? "admin";
      env.OPENSEARCH_PASSWORD = { credential: "engine-password" };
      env.OPENSEARCH_SSL_VERIFICATIONMODE = "none";
    } else env.DISABLE_SECURITY_DASHBOARDS_PLUGIN = "true";
  }
  const spec: ServiceSpec = {
    kind: "service",
    name,
    title: kibana ? "Kibana" : "OpenSearchDashboards",
    image: { ref: settings.image },
    env,
    ports: [{ name: "http", port: DASHBOARDS_PORT, ...(settings.port === null ? {} : { publish: settings.port }) }],
    volumes: [],
    health: {
      command: ["curl", "-fsS", "-o", "/dev/null", `http://127.0.0.1:${DASHBOARDS_PORT}/api/status`],
      needs: "curl",
      intervalSeconds: 10,
      timeoutSeconds: 5,
      retries: 30,
      startPeriodSeconds: 60,
    },
    resources: settings.resources,
    replicas: settings.replicas,
    stateful: false,
    peers: false,
    external: true,
    uses: ["engine"],
    after: args.after,
    runAsUser: 1000,
  };
  return { spec, endpoint: { kind: settings.kind, url: `http://${topology.serviceHost(name)}:${DASHBOARDS_PORT}` } };
}
