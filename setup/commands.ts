import type { Command } from "commander";
import kafkajs, { Kafka, logLevel } from "kafkajs";
import { installTemplates } from "../enrichment/templates.ts";
import * as engineEnv from "../lib/contract/engine-env.ts";
import { engineSecurityFromEnv } from "../lib/contract/setup-env.ts";
import { helkKafkaAcls, type KafkaAcl } from "../lib/contract/kafka-acls.ts";
import { aclsJobFromEnv, type KafkaClientSettings, toKafkaConfig, topicConfigEntries, topicsJobFromEnv, type TopicSpec } from "../lib/contract/kafka-env.ts";
import { createEngine, type Engine } from "../lib/engine.ts";
import { retry } from "../lib/retry.ts";
import { inClusterApi, SERVICE_ACCOUNT_DIR, waitForJobs } from "./job-wait.ts";

// Not detected as a named export of the CommonJS module by Node.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ConfigResourceTypes, ResourcePatternTypes } = kafkajs;

/** How long a setup job waits for the server it configures to answer (it may start before it). */
const DEFAULT_WAIT_SECONDS = 600;

/**
 * Runs `attempt` until it succeeds or `waitSeconds` pass, then fails with the last error. Setup jobs start
 * together with the servers on Kubernetes, so "not answering yet" is normal for a while.
 */
async function untilDone<T>(what: string, waitSeconds: number, attempt: () => Promise<T>): Promise<T> {
  return retry(what, attempt, { initialDelayMs: 500, maxDelayMs: 10_000, maxElapsedMs: waitSeconds * 1000 }, {
    onRetry: ({ error }) => console.error(`${what}: not yet (${error instanceof Error ? error.message : String(error)}); retrying`),
  });
}

/** Creates missing topics, grows partitions and sets retention (time and size) of existing ones; never deletes. */
export async function ensureTopics(client: KafkaClientSettings, topics: TopicSpec[], waitSeconds = DEFAULT_WAIT_SECONDS): Promise<string[]> {
  const kafka = new Kafka(toKafkaConfig(client, { clientId: "helk-setup", logLevel: logLevel.NOTHING, retry: { retries: 2 } }));
  const admin = kafka.admin();
  try {
    await untilDone("kafka", waitSeconds, () => admin.connect());
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    if (missing.length > 0)
      await untilDone("create topics", waitSeconds, () =>
        admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((t) => ({
            topic: t.name,
            numPartitions: t.partitions,
            replicationFactor: t.replicationFactor,
            configEntries: topicConfigEntries(t),
          })),
        }),
      );
    const present = topics.filter((t) => existing.has(t.name));
    if (present.length > 0) {
      const metadata = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
      const grow = present.filter((t) => (metadata.topics.find((m) => m.name === t.name)?.partitions.length ?? 0) < t.partitions);
      if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow.map((t) => ({ topic: t.name, count: t.partitions })) });
      await admin.alterConfigs({
        validateOnly: false,
        resources: present.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.name, configEntries: topicConfigEntries(t) })),
      });
    }
    return missing.map((t) => t.name);
  } finally {
    await admin.disconnect();
  }
}

/** Adds `acls` as allow rules (one that exists already stays as it is); never removes a rule. Needs a super user. */
export async function ensureAcls(client: KafkaClientSettings, acls: readonly KafkaAcl[], waitSeconds = DEFAULT_WAIT_SECONDS): Promise<void> {
  const admin = new Kafka(toKafkaConfig(client, { clientId: "helk-setup", logLevel: logLevel.NOTHING, retry: { retries: 2 } })).admin();
  try {
    await untilDone("kafka", waitSeconds, () => admin.connect());
    await untilDone("create ACLs", waitSeconds, () =>
      admin.createAcls({
        acl: acls.map((acl) => ({
          principal: acl.principal,
          host: "*",
          resourceType: acl.resourceType === "topic" ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
          resourceName: acl.resourceName,
          resourcePatternType: ResourcePatternTypes.LITERAL,
          operation: acl.operation === "read" ? AclOperationTypes.READ : AclOperationTypes.WRITE,
          permissionType: AclPermissionTypes.ALLOW,
        })),
      }),
    );
  } finally {
    await admin.disconnect();
  }
}

/** Sets the password of Elasticsearch's `kibana_system` user (Kibana 8+ refuses the superuser). */
export async function setKibanaSystemPassword(engine: Engine, password: string, waitSeconds = DEFAULT_WAIT_SECONDS): Promise<void> {
  await untilDone("set kibana_system password", waitSeconds, () =>
    engine.request({ method: "POST", path: "/_security/user/kibana_system/_password", body: { password } }),
  );
}

/** Installs the HELK index templates (the enrichment's, so events and templates never disagree). */
export async function installIndexTemplates(engine: Engine, waitSeconds = DEFAULT_WAIT_SECONDS): Promise<void> {
  await untilDone("install index templates", waitSeconds, () => installTemplates(engine));
}

async function withEngine(run: (engine: Engine) => Promise<void>): Promise<void> {
  const engine = createEngine(engineEnv.fromEnv());
  try {
    await run(engine);
  } finally {
    await engine.close();
  }
}

/**
 * `helk setup kafka-topics|engine-security|index-templates`: the deployment's one-shot jobs, configured by env;
 * `helk setup wait-jobs`: the init container that holds a Kubernetes workload until the setup Jobs it needs are done.
 */
export function registerSetupCommands(program: Command): void {
  const setup = program.command("setup").description("one-shot setup jobs of a deployment (configured by env, see components/setup.ts)");
  const wait = (cmd: Command) => cmd.option("--wait-seconds <n>", "how long to wait for the server", String(DEFAULT_WAIT_SECONDS));

  wait(setup.command("kafka-topics"))
    .description("create the topics in HELK_KAFKA_TOPICS (JSON) on HELK_KAFKA_BROKERS")
    .action(async (flags: { waitSeconds: string }) => {
      const { kafka, topics } = topicsJobFromEnv();
      const created = await ensureTopics(kafka, topics, Number(flags.waitSeconds));
      console.log(`topics ready: ${topics.map((t) => t.name).join(", ")} (created: ${created.join(", ") || "none"})`);
    });

  wait(setup.command("kafka-acls"))
    .description("allow the enrichment and shipper users what they need on HELK_INPUT_TOPICS, the dead-letter topic and the consumer group (as a super user)")
    .action(async (flags: { waitSeconds: string }) => {
      const { kafka, scope } = aclsJobFromEnv();
      const acls = helkKafkaAcls(scope);
      await ensureAcls(kafka, acls, Number(flags.waitSeconds));
      console.log(`ACLs present: ${acls.map((a) => `${a.principal} ${a.operation} ${a.resourceType} ${a.resourceName}`).join("; ")}`);
    });

  wait(setup.command("engine-security"))
    .description("set the kibana_system password (HELK_KIBANA_SYSTEM_PASSWORD) as the engine superuser")
    .action(async (flags: { waitSeconds: string }) => {
      await withEngine((engine) => setKibanaSystemPassword(engine, engineSecurityFromEnv().kibanaSystemPassword, Number(flags.waitSeconds)));
      console.log("kibana_system password set");
    });

  wait(setup.command("index-templates"))
    .description("install the helk-events and helk-process-network index templates")
    .action(async (flags: { waitSeconds: string }) => {
      await withEngine((engine) => installIndexTemplates(engine, Number(flags.waitSeconds)));
      console.log("index templates installed");
    });

  setup
    .command("wait-jobs")
    .description("in a Kubernetes pod: wait until the named Jobs of the pod's namespace have completed (fails when one failed)")
    .argument("<jobs...>", "Job names")
    .option("--wait-seconds <n>", "how long to wait", "3600")
    .option("--service-account-dir <dir>", "the pod's service-account token, ca.crt and namespace", SERVICE_ACCOUNT_DIR)
    .action(async (jobs: string[], flags: { waitSeconds: string; serviceAccountDir: string }) => {
      await waitForJobs(inClusterApi(process.env, flags.serviceAccountDir), jobs, { waitSeconds: Number(flags.waitSeconds) });
      console.log(`setup Jobs complete: ${jobs.join(", ")}`);
    });
}
