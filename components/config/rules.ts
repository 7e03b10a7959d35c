import { posix } from "node:path";
import type { CredentialKey } from "../../lib/contract/env.ts";
import { formatBytes } from "../../lib/bytes.ts";
import { partitionCeilingBytes } from "../../lib/contract/kafka-env.ts";
import { quantityToBytes } from "../model.ts";
import { keyPath } from "./errors.ts";
import { engineSecurityOn, matchingDashboards, resolveTopic, type HelkConfig } from "./resolve.ts";
import type { ParsedConfig } from "./schema.ts";

/** Checks between fields, run once every field is valid on its own (so they never see nonsense values). */
export function crossFieldProblems(config: ParsedConfig): string[] {
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
  problems.push(...attackSourceProblems(config), ...geoipProblems(config), ...detectionRuleProblems(config));
  problems.push(...deadLetterTopicProblems(config), ...engineBudgetProblems(config), ...kafkaBudgetProblems(config));
  if (config.target === "docker" && engine.nodes > 1 && engineSecurityOn(config) && engine.kind === "elasticsearch")
    problem(
      ["engine", "nodes"],
      `must be 1 on target docker while Elasticsearch security is on (several nodes need transport TLS certificates, provided on kubernetes by a Secret), got ${engine.nodes}`,
    );
  if (config.target === "docker" && kafka.port !== null && kafka.port + kafka.brokers - 1 > 65535)
    problem(["kafka", "port"], `leaves no room for ${kafka.brokers} published broker ports, got ${kafka.port}`);
  return problems;
}

/**
 * Share of the engine's volumes the retention size budgets may take: the engine stops placing shards on a node at
 * its low disk watermark (85%) and blocks writes at flood stage (95%); the rest holds the small indices (ATT&CK,
 * rules, coverage) and what is written between two runs of the retention job.
 */
export const ENGINE_BUDGET_SHARE = 0.8;
/** Share of a broker's volume the topics' size budgets may take: the rest is for internal topics and the 5-minute retention checks. */
export const KAFKA_BUDGET_SHARE = 0.85;

/** The dead-letter topic's retention is `helk:retention.deadLetters`: the topic entry may not say otherwise. */
function deadLetterTopicProblems(config: ParsedConfig): string[] {
  const { kafka, retention } = config;
  const index = kafka.topics.findIndex((t) => t.name === kafka.deadLetterTopic);
  const topic = kafka.topics[index];
  if (!topic) return [];
  const problems: string[] = [];
  const days = keyPath(["retention", "deadLetters", "days"]);
  if (topic.retentionHours !== undefined && topic.retentionHours !== retention.deadLetters.days * 24)
    problems.push(
      `${keyPath(["kafka", "topics", index, "retentionHours"])} (${topic.retentionHours}) of the dead-letter topic disagrees with ${days} ` +
        `(${retention.deadLetters.days} days = ${retention.deadLetters.days * 24} h): set the dead letters' retention in ${days} and remove retentionHours from the topic`,
    );
  if (topic.retentionSizePerPartition !== undefined)
    problems.push(
      `${keyPath(["kafka", "topics", index, "retentionSizePerPartition"])} is not used on the dead-letter topic: set ${keyPath(["retention", "deadLetters", "size"])} (spread over its partitions)`,
    );
  return problems;
}

/** The engine classes' size budgets fit the engine's volumes (all nodes), with the watermarks' headroom. */
function engineBudgetProblems(config: ParsedConfig): string[] {
  const { retention, engine } = config;
  const sized = (["events", "processNetwork", "alerts"] as const).flatMap((name) => {
    const size = retention[name].size;
    return size === undefined ? [] : [{ name, size, bytes: quantityToBytes(size) }];
  });
  if (sized.length === 0) return [];
  const total = sized.reduce((sum, c) => sum + c.bytes, 0);
  const capacity = quantityToBytes(engine.storage) * engine.nodes;
  if (total <= capacity * ENGINE_BUDGET_SHARE) return [];
  return [
    `${keyPath(["retention"])} sizes (${sized.map((c) => `${c.name} ${c.size}`).join(" + ")} = ${formatBytes(total)}) do not fit the engine's volumes: ` +
      `they may take ${ENGINE_BUDGET_SHARE * 100}% (${formatBytes(capacity * ENGINE_BUDGET_SHARE)}) of ${keyPath(["engine", "storage"])} ${engine.storage} × ` +
      `${keyPath(["engine", "nodes"])} ${engine.nodes}, since the engine blocks writes at its flood-stage disk watermark; ` +
      `lower ${keyPath(["retention"])}.<class>.size or raise ${keyPath(["engine", "storage"])}`,
  ];
}

/**
 * The topics' size budgets fit each broker's volume: a broker holds its share of the partition copies (partitions ×
 * replication / brokers, rounded up), each up to its retention.bytes plus one open segment.
 */
function kafkaBudgetProblems(config: ParsedConfig): string[] {
  const { kafka } = config;
  const loads = kafka.topics.flatMap((entry) => {
    const topic = resolveTopic(config, entry, Math.min(3, kafka.brokers));
    if (topic.retentionBytes === undefined) return [];
    const copies = Math.ceil((topic.partitions * topic.replicationFactor) / kafka.brokers);
    return [{ name: topic.name, copies, each: partitionCeilingBytes(topic.retentionBytes) }];
  });
  const perBroker = loads.reduce((sum, l) => sum + l.copies * l.each, 0);
  const volume = quantityToBytes(kafka.storage);
  if (perBroker <= volume * KAFKA_BUDGET_SHARE) return [];
  return [
    `${keyPath(["kafka", "storage"])} ${kafka.storage} is too small for the topics' size budgets: each broker holds up to ${formatBytes(perBroker)} of them ` +
      `(${loads.map((l) => `${l.name}: ${l.copies} partition cop${l.copies === 1 ? "y" : "ies"} × ${formatBytes(l.each)}`).join("; ")}; ` +
      `retention.bytes plus one open segment each), over ${KAFKA_BUDGET_SHARE * 100}% (${formatBytes(volume * KAFKA_BUDGET_SHARE)}) of the volume; ` +
      `lower ${keyPath(["kafka", "topics"])}[].retentionSizePerPartition or ${keyPath(["retention", "deadLetters", "size"])}, or raise ${keyPath(["kafka", "storage"])}`,
  ];
}

/** GeoIP databases are host files: docker only, and at least one of them when the key is set. */
function geoipProblems(config: ParsedConfig): string[] {
  const geoip = config.enrichment.geoip;
  if (geoip === undefined) return [];
  const key = keyPath(["enrichment", "geoip"]);
  if (config.target !== "docker")
    return [
      `${key} names files on the Docker host and only works with target docker; on ${config.target} the enrichment ` +
        "runs without GeoIP (remove the key)",
    ];
  if (geoip.cityDatabaseFile === undefined && geoip.asnDatabaseFile === undefined)
    return [`${key} needs cityDatabaseFile or asnDatabaseFile (a MaxMind-format .mmdb file on the Docker host), got neither`];
  return [];
}

/** The ATT&CK bundle keys fit together: one source, a checksum exactly for a download, host files on docker only. */
function attackSourceProblems(config: ParsedConfig): string[] {
  const { attackBundleFile, attackBundle, attackSha256 } = config.enrichment;
  const key = (name: string) => keyPath(["enrichment", name]);
  const problems: string[] = [];
  const download = attackBundle !== undefined && /^https?:/.test(attackBundle);
  if (attackBundleFile !== undefined && attackBundle !== undefined)
    problems.push(`${key("attackBundleFile")} and ${key("attackBundle")} are both set; give one ATT&CK bundle source`);
  if (attackBundleFile !== undefined)
    problems.push(
      ...dockerHostOnly(config, `${key("attackBundleFile")} is a file`, `${key("attackBundle")} (an https URL, with ${key("attackSha256")}, or a path inside your enrichment image)`),
    );
  if (download && attackSha256 === undefined)
    problems.push(`${key("attackSha256")} is required when ${key("attackBundle")} is an http(s) URL (nothing is downloaded unverified), got none`);
  if (!download && attackSha256 !== undefined)
    problems.push(`${key("attackSha256")} is only used with an http(s) ${key("attackBundle")}; remove it or set that URL`);
  return problems;
}

/**
 * Files of the Docker host are bind-mounted into containers: a Kubernetes pod cannot see them. `subject` says what
 * the setting is ("helk:x.y is a file"), `instead` what to give on other targets.
 */
function dockerHostOnly(config: ParsedConfig, subject: string, instead: string): string[] {
  if (config.target === "docker") return [];
  return [`${subject} on the Docker host and only works with target docker; on ${config.target} give ${instead}`];
}

/** The Sigma rules of the rules job: at least one source while enabled, host files on docker only, one mount each. */
function detectionRuleProblems(config: ParsedConfig): string[] {
  const { enabled, rules, ruleFiles } = config.detections;
  const key = (name: string) => keyPath(["detections", name]);
  const problems: string[] = [];
  if (enabled && rules.length + ruleFiles.length === 0)
    problems.push(
      `${key("rules")} or ${key("ruleFiles")} must name at least one Sigma rule archive (.tar.gz) or folder while ` +
        `${key("enabled")} is true: the rules job converts only what they name (e.g. ruleFiles: ` +
        `[/absolute/path/sigmahq-rules-windows.tar.gz] on docker, or rules: [<path inside your enrichment image>])`,
    );
  if (ruleFiles.length > 0)
    problems.push(...dockerHostOnly(config, `${key("ruleFiles")} lists files`, `${key("rules")} (paths inside your enrichment image)`));
  const names = ruleFiles.map((path) => posix.basename(path));
  const repeated = [...new Set(names.filter((name, i) => names.indexOf(name) !== i))];
  if (repeated.length > 0)
    problems.push(
      `${key("ruleFiles")} must end in distinct names (each is mounted under its own name in the rules job), got ${repeated.map((n) => JSON.stringify(n)).join(", ")} more than once`,
    );
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

/** The `helk:credentials` setting that gives each credential. */
export const CREDENTIAL_SETTINGS = {
  "engine-password": "enginePassword",
  "dashboards-password": "dashboardsPassword",
  "jupyter-token": "jupyterToken",
} as const satisfies Record<CredentialKey, keyof Omit<HelkConfig["credentials"], "generate">>;

/**
 * Why the `needed` credentials cannot all be given or generated, one problem each (none when they can): a value
 * still encrypted, or a missing one while generate is false. Which credentials a deployment needs follows from its
 * model (`neededCredentials`), so the Pulumi program checks this once the model is built, before any resource.
 */
export function credentialProblems(config: HelkConfig, needed: readonly CredentialKey[]): string[] {
  return needed.flatMap((credential) => {
    const setting = CREDENTIAL_SETTINGS[credential];
    const given = config.credentials[setting];
    const key = keyPath(["credentials", setting]);
    if (typeof given === "object") return [`${key} is still encrypted: run through the Pulumi CLI, which decrypts it`];
    if (given === undefined && !config.credentials.generate) return [`${key} is required when ${keyPath(["credentials", "generate"])} is false`];
    return [];
  });
}
