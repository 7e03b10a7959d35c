import { z } from "zod";
import { SIGMA_LEVELS, SIGMA_STATUSES, type SigmaLevel } from "../../lib/contract/detections-env.ts";
import { DEFAULT_CONSUMER_GROUP, DEFAULT_DEAD_LETTER_TOPIC, DEFAULT_EVENT_TOPICS } from "../../lib/contract/names.ts";
import { DEFAULT_ENRICHMENT_MEMORY } from "../../lib/contract/enrichment-env.ts";

/**
 * The one schema of a HELK deployment: every `helk:` key of a stack file (`stacks/Pulumi.<stack>.yaml`).
 *
 * It is validated as a whole before any resource is declared. Unknown keys are errors (typos must not be
 * silently ignored), every field has a default so the smallest stack file is `helk:target: docker`, and an
 * invalid file fails with one {@link HelkConfigError} listing every problem by key path.
 */

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

/** Whole mebibytes as a byte quantity (`33554432` → `32Mi`). */
const mebibytes = (bytes: number) => `${Math.floor(bytes / (1024 * 1024))}Mi`;

/** A JVM heap size: `512m`, `1g`. */
const heapSize = z.string().regex(/^[1-9][0-9]*[mg]$/, 'must be a heap size like "512m" or "1g"');

/** A Pulumi secret as it may appear: decrypted by the Pulumi engine, or still `{ secure: ... }` in a raw file. */
export const secretValue = z.union([z.string().min(1), z.object({ secure: z.string() }).strict()], {
  error: "must be a non-empty string or a Pulumi secret",
});

const port = z.number().int().min(1).max(65535);

/** A host port a service is published on, `defaultPort` unless set; null: not published. */
const publishedPort = (defaultPort: number) => port.nullable().default(defaultPort);

/** A section of the config: unknown keys are errors, and a section left out gets every default. */
function section<Shape extends z.ZodRawShape>(shape: Shape) {
  return z
    .object(shape)
    .strict()
    .prefault({} as z.input<z.ZodObject<Shape, z.core.$strict>>);
}

/** CPU and memory of one container: requests on Kubernetes, limits on both targets. */
const resources = (cpu: number, memory: string) =>
  section({
    /** CPU cores (fractions allowed). Kubernetes request and limit; Docker `--cpus`. */
    cpu: z.number().positive().max(64).default(cpu),
    /** Memory limit (and Kubernetes request). */
    memory: byteQuantity.default(memory),
  });

export const topic = z
  .object({
    name: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, "must be a Kafka topic name ([a-zA-Z0-9._-], 1..249 chars)"),
    /** Default 3. */
    partitions: z.number().int().min(1).max(1000).default(3),
    /** Default: min(3, brokers). */
    replicationFactor: z.number().int().min(1).optional(),
    /**
     * Hours a message is kept (Kafka's retention.ms). Default 168 (7 days); the dead-letter topic's comes from
     * helk:retention.deadLetters.days.
     */
    retentionHours: z.number().int().min(1).optional(),
    /**
     * Most bytes one partition keeps (Kafka's retention.bytes; the oldest segments go first), e.g. "1Gi"; unset:
     * time only. Counted against helk:kafka.storage. The dead-letter topic's comes from helk:retention.deadLetters.size.
     */
    retentionSizePerPartition: byteQuantity.optional(),
  })
  .strict();

/** The event topics' default size budget: what the default 5Gi broker volume holds with the dead letters beside. */
const DEFAULT_EVENT_PARTITION_SIZE = "1Gi";

const kafka = section({
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
  port: publishedPort(9092),
  /** Topics the enrichment consumes. Default ["winlogbeat"]. */
  eventTopics: z.array(z.string()).min(1).default(() => [...DEFAULT_EVENT_TOPICS]),
  /** Where events that cannot be processed go. Default "helk-dead-letter". */
  deadLetterTopic: z.string().default(DEFAULT_DEAD_LETTER_TOPIC),
  /** Topics created by the kafka-topics setup job. Default: winlogbeat and helk-dead-letter. */
  topics: z
    .array(topic)
    .min(1)
    .prefault([
      ...DEFAULT_EVENT_TOPICS.map((name) => ({ name, retentionSizePerPartition: DEFAULT_EVENT_PARTITION_SIZE })),
      { name: DEFAULT_DEAD_LETTER_TOPIC, partitions: 1 },
    ]),
});

const engine = section({
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
  port: publishedPort(9200),
});

const dashboards = section({
  enabled: z.boolean().default(true),
  /** `kibana` for elasticsearch, `opensearch-dashboards` for opensearch (default: the one matching the engine). */
  kind: z.enum(["kibana", "opensearch-dashboards"]).optional(),
  /** Default `docker.elastic.co/kibana/kibana:9.1.5` or `opensearchproject/opensearch-dashboards:2.19.3`. */
  image: pinnedImage.optional(),
  /** Default 1. */
  replicas: z.number().int().min(1).max(10).default(1),
  resources: resources(1, "1Gi"),
  /** Published port; null: not published. Default 5601. */
  port: publishedPort(5601),
});

/** A file on the Docker host that is bind-mounted into containers. */
const hostFile = z.string().superRefine((path, ctx) => {
  if (!path.startsWith("/") || path.endsWith("/"))
    ctx.addIssue({
      code: "custom",
      message: `must be the absolute path of a file on the Docker host (it is bind-mounted into the containers), got ${JSON.stringify(path)}`,
    });
});

const enrichment = section({
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
  attackBundleFile: hostFile.optional(),
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
  /**
   * GeoIP and ASN of public addresses from MaxMind-format databases (GeoLite2/GeoIP2 City or Country, ASN) you
   * provide as files on the Docker host: bind-mounted read-only into the service (docker target only; readable by
   * uid 1000). Off while unset; none is shipped.
   */
  geoip: z.object({ cityDatabaseFile: hostFile.optional(), asnDatabaseFile: hostFile.optional() }).strict().optional(),
  resources: resources(0.5, "512Mi"),
  /**
   * What the process/network join may hold, in estimated bytes (`HELK_JOIN_CACHE_BYTES`, `HELK_JOIN_WAITING_BYTES`):
   * `cache` of process contexts (default 48Mi), `waiting` connections that came before their process (default
   * 16Mi). Each between 64Ki and 1Gi; both live in the service's 144 MB heap.
   */
  joinMemory: section({
    cache: byteQuantity.default(mebibytes(DEFAULT_ENRICHMENT_MEMORY.joinCacheBytes)),
    waiting: byteQuantity.default(mebibytes(DEFAULT_ENRICHMENT_MEMORY.joinWaitingBytes)),
  }),
  /** Published HTTP port (health, metrics) of the first replica; null: not published. Default 8080. */
  port: publishedPort(8080),
});

const jupyter = section({
  enabled: z.boolean().default(true),
  /** Default `quay.io/jupyter/base-notebook:2024-12-09`. */
  image: pinnedImage.default("quay.io/jupyter/base-notebook:2024-12-09"),
  resources: resources(1, "1Gi"),
  /** Persistent storage for notebooks. Default 2Gi. */
  storage: byteQuantity.default("2Gi"),
  /** Published port; null: not published. Default 8888. */
  port: publishedPort(8888),
});

/** An absolute path; `what` names in the message what it must be the path of. */
const absolutePath = (what: string) =>
  z.string().superRefine((path, ctx) => {
    if (!path.startsWith("/")) ctx.addIssue({ code: "custom", message: `must be the absolute path of ${what}, got ${JSON.stringify(path)}` });
  });

const sigmaRules = "a Sigma rule archive (.tar.gz) or a folder of .yml rules";

const detections = section({
  /**
   * Convert Sigma rules and run them (issue 16): the setup job `setup-detection-rules` and the `detections`
   * service, both from the enrichment image. Default false.
   */
  enabled: z.boolean().default(false),
  /** Rule archives or folders inside the enrichment image (one that carries them, as e2e's does). */
  rules: z.array(absolutePath(`${sigmaRules} inside the enrichment image`)).default([]),
  /**
   * Rule archives or folders on the Docker host (your own rules), bind-mounted read-only into the rules job
   * (docker target only; readable by uid 1000).
   */
  ruleFiles: z.array(absolutePath(`${sigmaRules} on the Docker host (it is bind-mounted into the rules job)`)).default([]),
  /** Rule levels deployed. Default ["high", "critical"]. */
  levels: z
    .array(z.enum(SIGMA_LEVELS))
    .min(1)
    .default((): SigmaLevel[] => ["high", "critical"]),
  /** Only rules with one of these Sigma tags (`attack.t1003.001`, `attack.credential-access`); default: any. */
  tags: z
    .array(z.string().regex(/^[a-z0-9_-]+\.[a-z0-9._-]+$/i, 'must be a Sigma tag like "attack.t1003.001" or "attack.credential-access"'))
    .min(1)
    .optional(),
  /** Only rules of these statuses; default: any. */
  statuses: z.array(z.enum(SIGMA_STATUSES)).min(1).optional(),
  /** Seconds between two runs of the deployed rules. Default 10. */
  intervalSeconds: z.number().int().min(1).max(3600).default(10),
  /** Of the detections service. */
  resources: resources(0.25, "384Mi"),
});

const setup = section({
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
});

/** How long (and optionally how much of) one data class is kept. */
const retentionClass = (days: number) =>
  section({
    /** Days kept besides today: daily indices dated more than this many days before today (UTC) are deleted. */
    days: z.number().int().min(1).max(36500).default(days),
    /** Most disk the class may use, e.g. "20Gi" (engine: all copies of its indices); the oldest go first. Default: no limit. */
    size: byteQuantity.optional(),
  });

const retention = section({
  /** Deploy the retention job (`helk retention run`, a CronJob on kubernetes, a looping container on docker). Default true. */
  enabled: z.boolean().default(true),
  /** helk-events-YYYY.MM.DD. Default 30 days. */
  events: retentionClass(30),
  /** helk-process-network-YYYY.MM.DD. Default 30 days. */
  processNetwork: retentionClass(30),
  /** helk-alerts-YYYY.MM.DD (detections). Default 365 days. */
  alerts: retentionClass(365),
  /**
   * The dead-letter topic (Kafka only): its retention.ms, and retention.bytes = size / partitions. Default 14 days,
   * 512Mi.
   */
  deadLetters: section({
    days: z.number().int().min(1).max(3650).default(14),
    size: byteQuantity.default("512Mi"),
  }),
  /** Hours between two runs of the job (divides 24, so a cron schedule can say it). Default 6. */
  everyHours: z.literal([1, 2, 3, 4, 6, 8, 12, 24]).default(6),
  resources: resources(0.25, "384Mi"),
});

const images = section({
  /** Pull registry images (docker.RemoteImage). false: the images already exist locally (e2e). Default true. */
  pull: z.boolean().default(true),
});

const ports = section({
  /** Host address published ports bind to. Default 127.0.0.1 (never 0.0.0.0 unless asked). */
  bindAddress: z.union([z.ipv4(), z.ipv6()], { error: "must be an IPv4 or IPv6 address" }).default("127.0.0.1"),
  /** Host name clients outside the stack use (Kafka's advertised external listener, endpoints). Default: bindAddress (127.0.0.1 when it is a wildcard). */
  advertisedHost: z.string().min(1).optional(),
});

const credentials = section({
  /** Generate missing passwords and tokens with @pulumi/random. Default true. */
  generate: z.boolean().default(true),
  /** Password of the engine superuser (`elastic` or `admin`). */
  enginePassword: secretValue.optional(),
  /** Password of the dashboards' service account (`kibana_system`); elasticsearch only. */
  dashboardsPassword: secretValue.optional(),
  /** Jupyter token. */
  jupyterToken: secretValue.optional(),
});

const kubernetes = section({
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
});

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
    detections,
    setup,
    retention,
    credentials,
    kubernetes,
  })
  .strict();

/** The schema's output: every field valid on its own, defaults applied, nothing derived yet. */
export type ParsedConfig = z.output<typeof helkConfigSchema>;
/** What a stack file may hold (every field optional except target). */
export type HelkConfigInput = z.input<typeof helkConfigSchema>;
export type SecretValue = z.output<typeof secretValue>;
