import type { HelkConfig } from "./config.ts";
import type { EngineEndpoint } from "../lib/contract/engine-env.ts";
import { ORDINAL, type EnvValue, type ServiceSpec, type Topology } from "./model.ts";

/** Arguments of the search engine component. */
export interface EngineArgs {
  /**
   * Validated `helk:engine` settings (defaults: elasticsearch 9.1.5, 1 node, heap 1g, 1 CPU, 2Gi, 10Gi storage,
   * security on for elasticsearch and off for opensearch).
   */
  settings: HelkConfig["engine"];
  /** Cluster name. Default: the deployment name. */
  clusterName: string;
  /** Kubernetes Secret with `ca.crt`, `tls.crt`, `tls.key` for node-to-node TLS; needed by a secured multi-node Elasticsearch. */
  transportTlsSecret?: string;
  /** How workload names become host names on the target (required; no default). */
  topology: Topology;
}

export const ENGINE_PORT = 9200;
const TRANSPORT_PORT = 9300;

/**
 * Elasticsearch or OpenSearch, one node per instance, every node master-eligible and data.
 *
 * Image conventions (env vars with dots are settings of elasticsearch.yml / opensearch.yml):
 * - elasticsearch: `ES_JAVA_OPTS` heap, `ELASTIC_PASSWORD` sets the `elastic` password, `xpack.security.*`.
 *   Health check needs bash and curl (in the official image).
 * - opensearch: `OPENSEARCH_JAVA_OPTS` heap, `DISABLE_SECURITY_PLUGIN=true` and `DISABLE_INSTALL_DEMO_CONFIG=true`
 *   when security is off, else `OPENSEARCH_INITIAL_ADMIN_PASSWORD` for `admin` (HTTPS with demo certificates).
 *   Health check without security needs only bash and grep (HTTP over bash /dev/tcp); with security, curl.
 * Both: `discovery.type=single-node` for one node, else seed hosts and initial masters; data in
 * `/usr/share/<engine>/data`, run as uid 1000. `node.store.allow_mmap=false` avoids needing vm.max_map_count on
 * the host.
 */
export function engineComponent(args: EngineArgs): { spec: ServiceSpec; endpoint: EngineEndpoint } {
  const { settings, topology } = args;
  const name = "engine";
  const elastic = settings.kind === "elasticsearch";
  const hosts = Array.from({ length: settings.nodes }, (_, i) => topology.instanceHost(name, i));
  const home = elastic ? "/usr/share/elasticsearch" : "/usr/share/opensearch";
  const scheme = !elastic && settings.security ? "https" : "http";

  const env: Record<string, EnvValue> = {
    "cluster.name": args.clusterName,
    "node.name": topology.instanceHost(name, ORDINAL),
    "network.host": "0.0.0.0",
    "network.publish_host": topology.instanceHost(name, ORDINAL),
    "node.store.allow_mmap": "false",
  };
  if (settings.nodes === 1) env["discovery.type"] = "single-node";
  else {
    env["discovery.seed_hosts"] = hosts.join(",");
    env[elastic ? "cluster.initial_master_nodes" : "cluster.initial_cluster_manager_nodes"] = hosts.join(",");
  }
  const heap = `-Xms${settings.heap} -Xmx${settings.heap}`;
  if (elastic) {
    env.ES_JAVA_OPTS = heap;
    env["xpack.security.enabled"] = String(settings.security);
    env["xpack.security.http.ssl.enabled"] = "false";
    env["xpack.license.self_generated.type"] = "basic";
    if (settings.security) env.ELASTIC_PASSWORD = { credential: "engine-password" };
    const transportTls = settings.security && settings.nodes > 1;
    env["xpack.security.transport.ssl.enabled"] = String(transportTls);
    if (transportTls) {
      env["xpack.security.transport.ssl.verification_mode"] = "certificate";
      env["xpack.security.transport.ssl.certificate"] = "certs/tls.crt";
      env["xpack.security.transport.ssl.key"] = "certs/tls.key";
      env["xpack.security.transport.ssl.certificate_authorities"] = "certs/ca.crt";
    }
  } else {
    env.OPENSEARCH_JAVA_OPTS = heap;
    if (settings.security) env.OPENSEARCH_INITIAL_ADMIN_PASSWORD = { credential: "engine-password" };
    else {
      env.DISABLE_SECURITY_PLUGIN = "true";
      env.DISABLE_INSTALL_DEMO_CONFIG = "true";
    }
  }

  const healthPath = "/_cluster/health?wait_for_status=yellow&timeout=5s";
  const healthCommand = !settings.security
    ? [
        "bash",
        "-c",
        `exec 3<>/dev/tcp/127.0.0.1/${ENGINE_PORT} && printf 'GET ${healthPath} HTTP/1.0\\r\\n\\r\\n' >&3 && grep -qE '"status":"(green|yellow)"' <&3`,
      ]
    : elastic
      ? ["bash", "-c", `curl -fsS -u "elastic:$ELASTIC_PASSWORD" 'http://127.0.0.1:${ENGINE_PORT}${healthPath}'`]
      : ["bash", "-c", `curl -kfsS -u "admin:$OPENSEARCH_INITIAL_ADMIN_PASSWORD" 'https://127.0.0.1:${ENGINE_PORT}${healthPath}'`];

  const spec: ServiceSpec = {
    kind: "service",
    name,
    title: elastic ? "Elasticsearch" : "OpenSearch",
    image: { ref: settings.image },
    env,
    ports: [
      { name: "http", port: ENGINE_PORT, ...(settings.port === null ? {} : { publish: settings.port }) },
      { name: "transport", port: TRANSPORT_PORT },
    ],
    volumes: [{ name: "data", mountPath: `${home}/data`, size: settings.storage }],
    health: {
      command: healthCommand,
      needs: settings.security ? "bash and curl" : "bash and grep (HTTP over /dev/tcp)",
      intervalSeconds: 10,
      timeoutSeconds: 8,
      retries: 30,
      startPeriodSeconds: 60,
    },
    resources: settings.resources,
    replicas: settings.nodes,
    stateful: true,
    peers: true,
    external: false,
    uses: [],
    after: [],
    runAsUser: 1000,
    ...(elastic && settings.security && settings.nodes > 1 && args.transportTlsSecret
      ? { secretMounts: [{ name: "certs", secret: args.transportTlsSecret, mountPath: `${home}/config/certs` }] }
      : {}),
  };
  return {
    spec,
    endpoint: {
      kind: settings.kind,
      url: `${scheme}://${topology.serviceHost(name)}:${ENGINE_PORT}`,
      ...(settings.security ? { username: elastic ? "elastic" : "admin" } : {}),
      secured: settings.security,
    },
  };
}
