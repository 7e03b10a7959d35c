import { randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { helkKafkaAcls, KAFKA_USERS, type KafkaAclScope, type KafkaRole } from "../lib/contract/kafka-acls.ts";
import { clientFromEnv, type KafkaClientSettings, toKafkaConfig, toSecurityEnv } from "../lib/contract/kafka-env.ts";
import { DEFAULT_CONSUMER_GROUP, DEFAULT_DEAD_LETTER_TOPIC, DEFAULT_EVENT_TOPICS } from "../lib/contract/names.ts";
import { createCertificateAuthority, issueCertificate, kafkaPemKeystore } from "../lib/pki.ts";
import { ensureAcls } from "../setup/commands.ts";
import { classpath, resolveJars } from "./maven.ts";
import { freePort, keepRunDirs, makeRunDir, ServerProcess } from "./process.ts";

const run = promisify(execFile);

/** Apache Kafka from Maven Central; kafkajs 2.2.4 speaks to 4.x (see README, "Servers for tests and benchmarks"). */
export const KAFKA_VERSION = "4.1.1";

export interface KafkaOptions {
  /** Client port; a free one when omitted. */
  port?: number;
  /** KRaft controller port; a free one when omitted. */
  controllerPort?: number;
  /**
   * Directory for config, log dirs and the server log. Default: a fresh unique directory, removed on stop.
   * With `keepData`, an existing formatted directory is reused as it is and nothing is removed.
   */
  dataDir?: string;
  keepData?: boolean;
  /** JVM heap, e.g. "512m". Default `$HELK_KAFKA_HEAP` or 512m. */
  heap?: string;
  readyTimeoutMs?: number;
  /** See {@link import("./process.ts").LaunchOptions.linkToParent}. Default true. */
  linkToParent?: boolean;
  /**
   * `plaintext` (default): one PLAINTEXT listener, no authorization. `sasl_ssl`: the secured cluster, see
   * {@link secureServerProperties}: TLS from a CA of this run, SCRAM-SHA-512 users `admin`, `enrichment`,
   * `shipper`, and the ACLs of lib/contract/kafka-acls.ts.
   */
  security?: "plaintext" | "sasl_ssl";
  /** `sasl_ssl` only: the topics and group the ACLs name. Default the contract's default names. */
  aclScope?: KafkaAclScope;
}

/** What clients of a secured harness Kafka need, as files of its run directory (mode 0600). */
export interface KafkaSecurityFiles {
  /** PEM certificate of this run's CA, which issued the broker's certificate. */
  caFile: string;
  /** Per role: the SCRAM user name and the file holding its password. */
  users: Record<KafkaRole, { username: string; passwordFile: string }>;
}

export interface KafkaEndpoints {
  /** `127.0.0.1:<port>` */
  bootstrap: string;
  brokers: string[];
  port: number;
  /** The KRaft controller's port (loopback, not advertised; mutual TLS when secured). */
  controllerPort: number;
  /** Set for `security: "sasl_ssl"`. */
  security?: KafkaSecurityFiles;
}

export type KafkaServer = ServerProcess & KafkaEndpoints;

/**
 * Client settings for `server`, read the way our processes read them (lib/contract/kafka-env.ts, from the CA and
 * password files): as `role` on a secured server, anonymous on a plaintext one.
 */
export function kafkaClientSettings(server: Pick<KafkaEndpoints, "bootstrap" | "security">, role: KafkaRole): KafkaClientSettings {
  const security = server.security && { caFile: server.security.caFile, sasl: server.security.users[role] };
  return clientFromEnv({ HELK_KAFKA_BROKERS: server.bootstrap, ...(toSecurityEnv(security) as Record<string, string>) });
}

export async function resolveKafka(): Promise<string> {
  return resolveJars(`kafka-${KAFKA_VERSION}`, [
    { groupId: "org.apache.kafka", artifactId: "kafka_2.13", version: KAFKA_VERSION },
    // Kafka 4 logs through log4j 2; this binds its slf4j calls to it.
    { groupId: "org.apache.logging.log4j", artifactId: "log4j-slf4j-impl", version: "2.24.3" },
  ]);
}

function serverProperties(dir: string, port: number, controllerPort: number, secured?: SecurityMaterial): string {
  return `# Written by the HELK service harness: one KRaft node acting as broker and controller, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
${secured ? secureServerProperties(port, controllerPort, secured) : plaintextListeners(port, controllerPort)}
log.dirs=${join(dir, "kafka-logs")}
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
`;
}

function plaintextListeners(port: number, controllerPort: number): string {
  return `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT`;
}

/** The broker's certificate subject: its principal on the controller listener (mutual TLS). */
const BROKER_COMMON_NAME = "helk-kafka-broker";

/**
 * The secured node: clients only on SASL_SSL (SCRAM-SHA-512), which the broker also uses for itself as the admin
 * user; the controller listener on loopback, not advertised, over TLS that requires the broker's certificate;
 * StandardAuthorizer denying whatever no ACL allows, with the admin and the broker's certificate as super users.
 */
function secureServerProperties(port: number, controllerPort: number, secured: SecurityMaterial): string {
  // The JAAS value is the broker's own login; the file holding it is mode 0600 in a 0700 run directory.
  return `listeners=SASL_SSL://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=SASL_SSL://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:SSL,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${KAFKA_USERS.admin}" password="${secured.passwords.admin}";
ssl.keystore.type=PEM
ssl.keystore.location=${secured.keystoreFile}
ssl.truststore.type=PEM
ssl.truststore.location=${secured.files.caFile}
ssl.endpoint.identification.algorithm=https
listener.name.controller.ssl.client.auth=required
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:${KAFKA_USERS.admin};User:CN=${BROKER_COMMON_NAME}`;
}

interface SecurityMaterial {
  files: KafkaSecurityFiles;
  /** PEM keystore of the broker: its key, its certificate and the CA's. */
  keystoreFile: string;
  passwords: Record<KafkaRole, string>;
}

const ROLES = Object.keys(KAFKA_USERS) as KafkaRole[];

/**
 * The CA, the broker's certificate and the users' passwords of a secured run, in `<dir>/tls` and
 * `<dir>/secrets`; made once per data directory, so a kept cluster restarts with the same ones.
 */
async function securityMaterial(dir: string): Promise<SecurityMaterial> {
  const tls = join(dir, "tls");
  const secrets = join(dir, "secrets");
  const files: KafkaSecurityFiles = {
    caFile: join(tls, "ca.crt"),
    users: Object.fromEntries(ROLES.map((role) => [role, { username: KAFKA_USERS[role], passwordFile: join(secrets, `${role}.password`) }])) as KafkaSecurityFiles["users"],
  };
  const keystoreFile = join(tls, "broker.pem");
  if (!existsSync(keystoreFile)) {
    mkdirSync(tls, { recursive: true, mode: 0o700 });
    mkdirSync(secrets, { recursive: true, mode: 0o700 });
    const ca = await createCertificateAuthority({ commonName: `helk harness CA (${dir})` });
    const broker = await issueCertificate(ca, {
      commonName: BROKER_COMMON_NAME,
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
      // Server on both listeners, client towards its own controller listener.
      usage: "server-and-client",
    });
    writeFileSync(files.caFile, ca.certificatePem);
    writeFileSync(keystoreFile, kafkaPemKeystore(broker), { mode: 0o600 });
    for (const role of ROLES) writeFileSync(files.users[role].passwordFile, randomBytes(24).toString("base64url"), { mode: 0o600 });
  }
  const passwords = Object.fromEntries(ROLES.map((role) => [role, readFileSync(files.users[role].passwordFile, "utf8")])) as Record<KafkaRole, string>;
  return { files, keystoreFile, passwords };
}

const LOG4J2 = `status = error
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = console
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
logger.stateChange.name = state.change.logger
logger.stateChange.level = WARN
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
`;

/** Starts a single-node Kafka (KRaft combined mode) on 127.0.0.1 and waits until it serves metadata. */
export async function startKafka(options: KafkaOptions = {}): Promise<KafkaServer> {
  const home = await resolveKafka();
  const dir = options.dataDir ?? makeRunDir("kafka");
  mkdirSync(dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const controllerPort = options.controllerPort ?? (await freePort());
  const secured = options.security === "sasl_ssl" ? await securityMaterial(dir) : undefined;
  const properties = join(dir, "server.properties");
  writeFileSync(properties, serverProperties(dir, port, controllerPort, secured), { mode: 0o600 });
  writeFileSync(join(dir, "log4j2.properties"), LOG4J2);
  const cp = classpath(home);
  const jvm = [`-Dlog4j2.configurationFile=${join(dir, "log4j2.properties")}`, "-Djava.awt.headless=true"];

  const logDirs = join(dir, "kafka-logs");
  if (!options.keepData) rmSync(logDirs, { recursive: true, force: true });
  if (!existsSync(join(logDirs, "meta.properties"))) {
    // KRaft storage must be formatted with a cluster id before the first start.
    const clusterId = randomBytes(16).toString("base64url");
    try {
      // SCRAM users exist from the first start (the broker logs in as admin). StorageTool takes them only as
      // arguments: the passwords are on this short-lived local command line, never on the server's.
      const users = secured ? ROLES.flatMap((role) => ["--add-scram", `SCRAM-SHA-512=[name=${KAFKA_USERS[role]},password=${secured.passwords[role]}]`]) : [];
      await run("java", [...jvm, "-cp", cp, "kafka.tools.StorageTool", "format", "--ignore-formatted", `--cluster-id=${clusterId}`, "-c", properties, ...users]);
    } catch (error) {
      const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
      if (!options.dataDir) rmSync(dir, { recursive: true, force: true });
      throw new Error(`Kafka storage format failed in ${dir}: ${(error as Error).message}\n${stdout}${stderr}`);
    }
  }

  const heap = options.heap ?? process.env.HELK_KAFKA_HEAP ?? "512m";
  const launched = await ServerProcess.launch({
    name: "Kafka",
    command: "java",
    args: [`-Xms${heap}`, `-Xmx${heap}`, "-XX:+UseG1GC", ...jvm, "-cp", cp, "kafka.Kafka", properties],
    runDir: dir,
    logFile: join(dir, "server.log"),
    linkToParent: options.linkToParent ?? true,
    removeRunDir: !options.keepData && !options.dataDir && !keepRunDirs(),
  });
  const bootstrap = `127.0.0.1:${port}`;
  const server: KafkaServer = Object.assign(launched, { bootstrap, brokers: [bootstrap], port, controllerPort, ...(secured ? { security: secured.files } : {}) });

  try {
    const admin = kafkaClientSettings(server, "admin");
    await server.waitUntilReady("metadata and group coordinator", () => kafkaReady(admin), options.readyTimeoutMs ?? 120_000);
    if (secured) {
      const scope = options.aclScope ?? { eventTopics: DEFAULT_EVENT_TOPICS, deadLetterTopic: DEFAULT_DEAD_LETTER_TOPIC, consumerGroup: DEFAULT_CONSUMER_GROUP };
      await ensureAcls(admin, helkKafkaAcls(scope), 60);
    }
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/**
 * True once the broker answers a metadata request and its group coordinator is loaded, so the first consumer
 * group of a test joins at once instead of retrying through "coordinator not available".
 */
export async function kafkaReady(client: KafkaClientSettings): Promise<boolean> {
  const kafka = new Kafka(
    toKafkaConfig(client, {
      clientId: "helk-harness-readiness",
      logLevel: logLevel.NOTHING,
      // The TLS handshake and SCRAM exchange of a secured broker take longer than a plaintext connect.
      connectionTimeout: client.tls ? 5_000 : 1_000,
      requestTimeout: 5_000,
      retry: { retries: 0 },
    }),
  );
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) return false;
    await admin.describeGroups(["helk-harness-readiness"]);
    return true;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
