import { z } from "zod";
import { credentialsSecretName } from "./names.ts";
import { DEFAULT_CONSUMER_GROUP, DEFAULT_DEAD_LETTER_TOPIC, DEFAULT_EVENT_TOPICS } from "../lib/contract/names.ts";

/**
 * The one schema of a HELK deployment: every `helk:` key of a stack file (`stacks/Pulumi.<stack>.yaml`).
 *
 * It is validated as a whole before any resource is declared. Unknown keys are errors (typos must not be
 * silently ignored), every field has a default so the smallest stack file is `helk:target: docker`, and an
 * invalid file fails with one {@link HelkConfigError} listing every problem by key path.
 */

/** Pulumi config namespace of every HELK setting. */
export const CONFIG_NAMESPACE = "helk";

/** An image reference pinned to a tag or digest: `repo[:port]/name:tag` or `...@sha256:...`. */
const pinnedImage = z.string().superRefine((image, ctx) => {
  const digest = /@sha256:[a-f0-9]{64}$/.test(image);
  const lastSegment = image.slice(image.lastIndexOf("/") + 1);
  const tag = lastSegment.includes(":") ? lastSegment.slice(lastSegment.indexOf(":") + 1) : undefined;
  if (!digest && !tag) ctx.addIssue({ code: "custom", message: `must be pinned to a tag or digest, got "${image}"` });
  else if (!digest && tag === "latest")
    ctx.addIssue({ code: "custom", message: `must be pinned to a version, not "latest" (got "${image}")` });
});

/** A Kubernetes-style quantity of bytes: `512Mi`, `2Gi`, `10G`. */
const byteQuantity = z
  .string()
  .regex(/^[1-9][0-9]*(Ki|Mi|Gi|Ti|K|M|G|T)$/, 'must be a size like "512Mi" or "10Gi"');

/** A JVM heap size: `512m`, `1g`. */
const heapSize = z.string().regex(/^[1-9][0-9]*[mg]$/, 'must be a heap size like "512m" or "1g"');

/** A Pulumi secret as it may appear: decrypted by the Pulumi engine, or still `{ secure: ... }` in a raw file. */
const secretValue = z.union([z.string().min(1), z.object({ secure: z.string() }).strict()], {
  error: "must be a non-empty string or a Pulumi secret",
});

const port = z.number().int().min(1).max(65535);

/** CPU and memory of one container: requests on Kubernetes, limits on both targets. */
const resources = (cpu: number, memory: string) =>
  z
    .object({
      /** CPU cores (fractions allowed). Kubernetes request and limit; Docker `--cpus`. */
      cpu: z.number().positive().max(64).default(cpu),
      /** Memory limit (and Kubernetes request). */
      memory: byteQuantity.default(memory),
    })
    .strict()
    .prefault({});

const topic = z
  .object({
    name: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, "must be a Kafka topic name ([a-zA-Z0-9._-], 1..249 chars)"),
    /** Default 3. */
    partitions: z.number().int().min(1).max(1000).default(3),
    /** Default: min(3, brokers). */
    replicationFactor: z.number().int().min(1).optional(),
    /** Hours a message is kept; default 168 (7 days). */
    retentionHours: z.number().int().min(1).default(168),
  })
  .strict();

const kafka = z
  .object({
    /** Default `apache/kafka:4.1.1` (the version the tests run) (its env conventions are documented in components/kafka.ts). */
    image: pinnedImage.default("apache/kafka:4.1.1"),
    /** Kafka nodes. Every node is broker and KRaft controller, so the controller quorum is this number. Default 1. */
    brokers: z.number().int().min(1).max(9).default(1),
    /** JVM heap of each broker. Default 512m. */
    heap: heapSize.default("512m"),
    resources: resources(1, "1Gi"),
    /** Persistent storage per broker. Default 5Gi. */
    storage: byteQuantity.default("5Gi"),
    /** Published port of the first broker (the next brokers get the next ports); null: not published. Default 9092. */
    port: port.nullable().default(9092),
    /** Topics the enrichment consumes. Default ["winlogbeat"]. */
    eventTopics: z.array(z.string()).min(1).default(() => [...DEFAULT_EVENT_TOPICS]),
    /** Where events that cannot be processed go. Default "helk-dead-letter". */
    deadLetterTopic: z.string().default(DEFAULT_DEAD_LETTER_TOPIC),
    /** Topics created by the kafka-topics setup job. Default: winlogbeat and helk-dead-letter. */
    topics: z.array(topic).min(1).prefault([...DEFAULT_EVENT_TOPICS.map((name) => ({ name })), { name: DEFAULT_DEAD_LETTER_TOPIC, partitions: 1 }]),
  })
  .strict()
  .prefault({});

const engine = z
  .object({
    /** `elasticsearch` (default) or `opensearch`. */
    kind: z.enum(["elasticsearch", "opensearch"]).default("elasticsearch"),
    /** Default `docker.elastic.co/elasticsearch/elasticsearch:9.1.5` or `opensearchproject/opensearch:2.19.3`. */
    image: pinnedImage.optional(),
    /** Engine nodes (each master-eligible and data). Default 1 (single-node discovery). */
    nodes: z.number().int().min(1).max(9).default(1),
    /** JVM heap per node. Default 1g. */
    heap: heapSize.default("1g"),
    resources: resources(1, "2Gi"),
    /** Persistent storage per node. Default 10Gi. */
    storage: byteQuantity.default("10Gi"),
    /** Security (authentication) on. Default true for elasticsearch, false for opensearch. */
    security: z.boolean().optional(),
    /** Published HTTP port; null: not published. Default 9200. */
    port: port.nullable().default(9200),
  })
  .strict()
  .prefault({});

const dashboards = z
  .object({
    enabled: z.boolean().default(true),
    /** `kibana` for elasticsearch, `opensearch-dashboards` for opensearch (default: the one matching the engine). */
    kind: z.enum(["kibana", "opensearch-dashboards"]).optional(),
    /** Default `docker.elastic.co/kibana/kibana:9.1.5` or `opensearchproject/opensearch-dashboards:2.19.3`. */
    image: pinnedImage.optional(),
    /** Default 1. */
    replicas: z.number().int().min(1).max(10).default(1),
    resources: resources(1, "1Gi"),
    /** Published port; null: not published. Default 5601. */
    port: port.nullable().default(5601),
  })
  .strict()
  .prefault({});

const enrichment = z
  .object({
    enabled: z.boolean().default(true),
    /**
     * Name:tag of the enrichment image. On docker it is built from `enrichment/Dockerfile` under this name; on
     * kubernetes it must be pushed to a registry the cluster pulls from. Default `helk-enrichment:0.1.0`.
     */
    image: pinnedImage.default("helk-enrichment:0.1.0"),
    /** Build argument BASE_IMAGE of `enrichment/Dockerfile`. Default `node:20.20.2-bookworm-slim`. */
    baseImage: pinnedImage.default("node:20.20.2-bookworm-slim"),
    /** Consumer instances sharing the partitions of one consumer group. Default 1. */
    replicas: z.number().int().min(1).max(20).default(1),
    /** Default "helk-enrichment". */
    consumerGroup: z.string().min(1).default(DEFAULT_CONSUMER_GROUP),
    /**
     * MITRE ATT&CK bundle (STIX JSON, plain or gzipped) the service and the ATT&CK load job read, as a file on the
     * Docker host: bind-mounted read-only into those containers (docker target only; it must be readable by uid
     * 1000). Set at most one of attackBundleFile and attackBundle.
     */
    attackBundleFile: z
      .string()
      .superRefine((path, ctx) => {
        if (!path.startsWith("/") || path.endsWith("/"))
          ctx.addIssue({
            code: "custom",
            message: `must be the absolute path of a file on the Docker host (it is bind-mounted into the containers), got ${JSON.stringify(path)}`,
          });
      })
      .optional(),
    /**
     * The same bundle as a path inside the enrichment image (one that carries it, as e2e's does), or an http(s)
     * URL each container downloads and verifies against attackSha256.
     */
    attackBundle: z
      .string()
      .superRefine((source, ctx) => {
        if (!source.startsWith("/") && !/^https?:\/\/[^/]+/.test(source))
          ctx.addIssue({
            code: "custom",
            message: `must be an absolute path inside the enrichment image or an http(s) URL, got ${JSON.stringify(source)}`,
          });
      })
      .optional(),
    /** sha256 (hex) of the file at an http(s) attackBundle, as served; required with such a URL. */
    attackSha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex digits (the sha256 of the bundle at helk:enrichment.attackBundle)")
      .optional(),
    resources: resources(0.5, "512Mi"),
    /** Published HTTP port (health, metrics) of the first replica; null: not published. Default 8080. */
    port: port.nullable().default(8080),
  })
  .strict()
  .prefault({});

const jupyter = z
  .object({
    enabled: z.boolean().default(true),
    /** Default `quay.io/jupyter/base-notebook:2024-12-09`. */
    image: pinnedImage.default("quay.io/jupyter/base-notebook:2024-12-09"),
    resources: resources(1, "1Gi"),
    /** Persistent storage for notebooks. Default 2Gi. */
    storage: byteQuantity.default("2Gi"),
    /** Published port; null: not published. Default 8888. */
    port: port.nullable().default(8888),
  })
  .strict()
  .prefault({});

const setup = z
  .object({
    /** Create the Kafka topics (`helk kafka ensure-topics`). Default true. */
    kafkaTopics: z.boolean().default(true),
    /** Set the dashboards' service-account password in Elasticsearch (`helk engine security`). Default true. */
    engineSecurity: z.boolean().default(true),
    /** Install the HELK index templates (`helk engine templates`). Default true. */
    indexTemplates: z.boolean().default(true),
    /** Load MITRE ATT&CK into the engine (`helk attack load`). Default true. */
    attackLoad: z.boolean().default(true),
    /** Import the HELK dashboards (`helk dashboards import`). Default true. */
    dashboardsImport: z.boolean().default(true),
  })
  .strict()
  .prefault({});

const images = z
  .object({
    /** Pull registry images (docker.RemoteImage). false: the images already exist locally (e2e). Default true. */
    pull: z.boolean().default(true),
  })
  .strict()
  .prefault({});

const ports = z
  .object({
    /** Host address published ports bind to. Default 127.0.0.1 (never 0.0.0.0 unless asked). */
    bindAddress: z.union([z.ipv4(), z.ipv6()], { error: "must be an IPv4 or IPv6 address" }).default("127.0.0.1"),
    /** Host name clients outside the stack use (Kafka's advertised external listener, endpoints). Default: bindAddress (127.0.0.1 when it is a wildcard). */
    advertisedHost: z.string().min(1).optional(),
  })
  .strict()
  .prefault({});

const credentials = z
  .object({
    /** Generate missing passwords and tokens with @pulumi/random. Default true. */
    generate: z.boolean().default(true),
    /** Password of the engine superuser (`elastic` or `admin`). */
    enginePassword: secretValue.optional(),
    /** Password of the dashboards' service account (`kibana_system`); elasticsearch only. */
    dashboardsPassword: secretValue.optional(),
    /** Jupyter token. */
    jupyterToken: secretValue.optional(),
  })
  .strict()
  .prefault({});

const kubernetes = z
  .object({
    /** Namespace of every object. Default "helk". */
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label")
      .default("helk"),
    /** Storage class of the volume claims; default: the cluster's default class. */
    storageClass: z.string().optional(),
    /** Schedulable nodes; replicas with required anti-affinity may not exceed it. Default 3. */
    nodes: z.number().int().min(1).default(3),
    /** Name of the Secret holding credentials (keys: engine-password, dashboards-password, jupyter-token). Default `<helk:name>-credentials`. */
    credentialsSecret: z.string().optional(),
  })
  .strict()
  .prefault({});

export const helkConfigSchema = z
  .object({
    /** `docker` (one Docker host, via Pulumi) or `kubernetes` (cdk8s manifests). Required. */
    target: z.enum(["docker", "kubernetes"]),
    /** Prefix of every resource name (containers, volumes, network, Kubernetes objects). Default "helk". */
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,20}$/, "must be lower-case letters, digits and dashes, starting with a letter")
      .default("helk"),
    images,
    ports,
    kafka,
    engine,
    dashboards,
    enrichment,
    jupyter,
    setup,
    credentials,
    kubernetes,
  })
  .strict();

type Parsed = z.output<typeof helkConfigSchema>;

/** Checks between fields, run once every field is valid on its own (so they never see nonsense values). */
function crossFieldProblems(config: Parsed): string[] {
  const problems: string[] = [];
  const problem = (path: (string | number)[], message: string) => problems.push(`${keyPath(path)} ${message}`);
  const { kafka, engine, dashboards, kubernetes, credentials } = config;

  if (kafka.brokers % 2 === 0)
    problem(
      ["kafka", "brokers"],
      `must be odd: every broker is also a KRaft controller and the controller quorum needs a majority, got ${kafka.brokers}`,
    );
  kafka.topics.forEach((topic, index) => {
    if ((topic.replicationFactor ?? 1) > kafka.brokers)
      problem(
        ["kafka", "topics", index, "replicationFactor"],
        `must be <= helk:kafka.brokers (${kafka.brokers}), got ${topic.replicationFactor}`,
      );
  });
  const topicNames = kafka.topics.map((topic) => topic.name);
  for (const name of [...kafka.eventTopics, kafka.deadLetterTopic]) {
    if (!topicNames.includes(name))
      problem(["kafka", "topics"], `must declare topic "${name}" (used by helk:kafka.eventTopics or deadLetterTopic)`);
  }
  if (dashboards.kind && dashboards.kind !== matchingDashboards(engine.kind))
    problem(
      ["dashboards", "kind"],
      `must be "${matchingDashboards(engine.kind)}" to match helk:engine.kind "${engine.kind}", got "${dashboards.kind}"`,
    );
  if (config.target === "kubernetes") {
    const spread: [string[], number][] = [
      [["kafka", "brokers"], kafka.brokers],
      [["engine", "nodes"], engine.nodes],
    ];
    for (const [path, replicas] of spread) {
      if (replicas > kubernetes.nodes)
        problem(
          path,
          `must be <= helk:kubernetes.nodes (${kubernetes.nodes}): replicas are spread one per node, got ${replicas}`,
        );
    }
    if (!credentials.generate && engineSecurityOn(config) && !credentials.enginePassword)
      problem(
        ["credentials", "enginePassword"],
        "is required on target kubernetes when helk:credentials.generate is false",
      );
  }
  problems.push(...attackSourceProblems(config));
  if (config.target === "docker" && engine.nodes > 1 && engineSecurityOn(config) && engine.kind === "elasticsearch")
    problem(
      ["engine", "nodes"],
      `must be 1 on target docker while Elasticsearch security is on (several nodes need transport TLS certificates, provided on kubernetes by a Secret), got ${engine.nodes}`,
    );
  if (config.target === "docker" && kafka.port !== null && kafka.port + kafka.brokers - 1 > 65535)
    problem(["kafka", "port"], `leaves no room for ${kafka.brokers} published broker ports, got ${kafka.port}`);
  return problems;
}

/** The ATT&CK bundle keys fit together: one source, a checksum exactly for a download, host files on docker only. */
function attackSourceProblems(config: Parsed): string[] {
  const { attackBundleFile, attackBundle, attackSha256 } = config.enrichment;
  const key = (name: string) => keyPath(["enrichment", name]);
  const problems: string[] = [];
  const download = attackBundle !== undefined && /^https?:/.test(attackBundle);
  if (attackBundleFile !== undefined && attackBundle !== undefined)
    problems.push(`${key("attackBundleFile")} and ${key("attackBundle")} are both set; give one ATT&CK bundle source`);
  if (attackBundleFile !== undefined && config.target !== "docker")
    problems.push(
      `${key("attackBundleFile")} is a file on the Docker host and only works with target docker; on ${config.target} ` +
        `give ${key("attackBundle")} (an https URL, with ${key("attackSha256")}, or a path inside your enrichment image)`,
    );
  if (download && attackSha256 === undefined)
    problems.push(`${key("attackSha256")} is required when ${key("attackBundle")} is an http(s) URL (nothing is downloaded unverified), got none`);
  if (!download && attackSha256 !== undefined)
    problems.push(`${key("attackSha256")} is only used with an http(s) ${key("attackBundle")}; remove it or set that URL`);
  return problems;
}

/**
 * Why deploying this config cannot load ATT&CK, or undefined when it can: the ATT&CK load job
 * (`helk:setup.attackLoad`) needs a bundle source. On Docker the program defaults to the pinned bundle that
 * `helk attack fetch` (run by `npm run lab`) verified into the cache, so this is asked only when that is missing.
 * Checked by the Pulumi program before any resource is declared, not by the schema, so that synth and small
 * configs stay valid.
 */
export function missingAttackSource(config: HelkConfig): string | undefined {
  const { attackBundleFile, attackBundle } = config.enrichment;
  if (!config.setup.attackLoad || attackBundleFile !== undefined || attackBundle !== undefined) return undefined;
  const remedy =
    config.target === "docker"
      ? "run `npx helk attack fetch` (or `npm run lab`), which downloads the pinned enterprise-attack-18.1.json once " +
        "and verifies it (`--from-file <copy>` for one you have), or run " +
        "`pulumi config set --path helk:enrichment.attackBundleFile /absolute/path/enterprise-attack-18.1.json`, " +
        "or set helk:enrichment.attackBundle to its https URL with helk:enrichment.attackSha256"
      : "set helk:enrichment.attackBundle to the https URL of enterprise-attack-18.1.json (MITRE's attack-stix-data " +
        "repository) with helk:enrichment.attackSha256, the checksum you verified, or to a path inside your enrichment image";
  return (
    `${keyPath(["enrichment", "attackBundleFile"])} or ${keyPath(["enrichment", "attackBundle"])} is required while ` +
    `${keyPath(["setup", "attackLoad"])} is true (the ATT&CK load job and the enrichment service read that bundle): ` +
    `${remedy}; or set ${keyPath(["setup", "attackLoad"])} to false`
  );
}

/** Host name clients on the Docker host use for published ports: the advertised host, else the bind address. */
export function publishedHost(config: HelkConfig): string {
  const bind = config.ports.bindAddress;
  if (config.ports.advertisedHost) return config.ports.advertisedHost;
  if (bind === "0.0.0.0" || bind === "::") return "127.0.0.1";
  return bind.includes(":") ? `[${bind}]` : bind;
}

export function matchingDashboards(kind: Parsed["engine"]["kind"]): "kibana" | "opensearch-dashboards" {
  return kind === "elasticsearch" ? "kibana" : "opensearch-dashboards";
}

function engineSecurityOn(config: Parsed): boolean {
  return config.engine.security ?? config.engine.kind === "elasticsearch";
}

const defaultImages = {
  elasticsearch: "docker.elastic.co/elasticsearch/elasticsearch:9.1.5",
  opensearch: "opensearchproject/opensearch:2.19.3",
  kibana: "docker.elastic.co/kibana/kibana:9.1.5",
  "opensearch-dashboards": "opensearchproject/opensearch-dashboards:2.19.3",
} as const;

/** The validated deployment, with every engine-dependent default resolved. */
export type HelkConfig = Omit<Parsed, "engine" | "dashboards" | "kafka" | "kubernetes"> & {
  kubernetes: Parsed["kubernetes"] & { credentialsSecret: string };
  engine: Parsed["engine"] & { image: string; security: boolean };
  dashboards: Parsed["dashboards"] & { kind: "kibana" | "opensearch-dashboards"; image: string };
  kafka: Omit<Parsed["kafka"], "topics"> & { topics: KafkaTopic[] };
};
export type KafkaTopic = Required<z.output<typeof topic>>;
/** What a stack file may hold (every field optional except target). */
export type HelkConfigInput = z.input<typeof helkConfigSchema>;
export type SecretValue = z.output<typeof secretValue>;

/** Every problem of an invalid config, one per line, each naming its `helk:` key path. */
export class HelkConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid HELK config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  - ${problems.join("\n  - ")}`);
    this.name = "HelkConfigError";
  }
}

/** Validates a whole deployment (the `helk:` keys without their prefix, as nested objects). */
export function parseHelkConfig(raw: unknown): HelkConfig {
  const result = helkConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new HelkConfigError(result.error.issues.map(describeIssue));
  const parsed = result.data;
  const problems = crossFieldProblems(parsed);
  if (problems.length > 0) throw new HelkConfigError(problems);
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

function describeIssue(issue: z.core.$ZodIssue): string {
  const key = keyPath(issue.path);
  const got = "input" in issue ? describeValue(issue.input) : undefined;
  if ("input" in issue && issue.input === undefined && issue.code !== "unrecognized_keys") return `${key} is required`;
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((k) => `${keyPath([...issue.path, k])} is not a known setting`).join("; ");
    case "too_small":
      return `${key} must be >= ${issue.minimum}, got ${got}`;
    case "too_big":
      return `${key} must be <= ${issue.maximum}, got ${got}`;
    case "invalid_type":
      return `${key} must be ${issue.expected === "int" ? "an integer" : `a ${issue.expected}`}, got ${got}`;
    case "invalid_value":
      return `${key} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${got}`;
    default:
      return `${key} ${issue.message}${got !== undefined && issue.code !== "custom" ? `, got ${got}` : ""}`;
  }
}

function keyPath(path: PropertyKey[]): string {
  let out = CONFIG_NAMESPACE;
  path.forEach((segment, index) => {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += index === 0 ? `:${String(segment)}` : `.${String(segment)}`;
  });
  return out;
}

function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return String(value);
}

/**
 * Turns flat `helk:<key>` config entries (a stack file's `config:` map, or `pulumi.runtime.allConfig()`) into
 * the nested object {@link parseHelkConfig} validates. Keys of other namespaces are ignored. Pulumi hands
 * structured values over as JSON text, so strings that parse as JSON objects or arrays are decoded.
 */
export function helkSettings(entries: Record<string, unknown>): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(entries)) {
    const [namespace, key] = splitKey(fullKey);
    if (namespace !== CONFIG_NAMESPACE || key === undefined) continue;
    settings[key] = decodeValue(value);
  }
  return settings;
}

function splitKey(fullKey: string): [string, string | undefined] {
  const colon = fullKey.indexOf(":");
  return colon < 0 ? [fullKey, undefined] : [fullKey.slice(0, colon), fullKey.slice(colon + 1)];
}

function decodeValue(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const trimmed = value.trim();
  if (/^[[{]/.test(trimmed) || /^(true|false|-?\d+(\.\d+)?|null)$/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return value;
    }
  }
  return value;
}
