import { randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Kafka, logLevel } from "kafkajs";
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
}

export interface KafkaEndpoints {
  /** `127.0.0.1:<port>` */
  bootstrap: string;
  brokers: string[];
  port: number;
}

export type KafkaServer = ServerProcess & KafkaEndpoints;

export async function resolveKafka(): Promise<string> {
  return resolveJars(`kafka-${KAFKA_VERSION}`, [
    { groupId: "org.apache.kafka", artifactId: "kafka_2.13", version: KAFKA_VERSION },
    // Kafka 4 logs through log4j 2; this binds its slf4j calls to it.
    { groupId: "org.apache.logging.log4j", artifactId: "log4j-slf4j-impl", version: "2.24.3" },
  ]);
}

function serverProperties(dir: string, port: number, controllerPort: number): string {
  return `# Written by the HELK service harness: one KRaft node acting as broker and controller, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
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
  const properties = join(dir, "server.properties");
  writeFileSync(properties, serverProperties(dir, port, controllerPort));
  writeFileSync(join(dir, "log4j2.properties"), LOG4J2);
  const cp = classpath(home);
  const jvm = [`-Dlog4j2.configurationFile=${join(dir, "log4j2.properties")}`, "-Djava.awt.headless=true"];

  const logDirs = join(dir, "kafka-logs");
  if (!options.keepData) rmSync(logDirs, { recursive: true, force: true });
  if (!existsSync(join(logDirs, "meta.properties"))) {
    // KRaft storage must be formatted with a cluster id before the first start.
    const clusterId = randomBytes(16).toString("base64url");
    try {
      await run("java", [...jvm, "-cp", cp, "kafka.tools.StorageTool", "format", "--ignore-formatted", `--cluster-id=${clusterId}`, "-c", properties]);
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
  const server: KafkaServer = Object.assign(launched, { bootstrap, brokers: [bootstrap], port });

  try {
    await server.waitUntilReady("metadata and group coordinator", () => kafkaReady(server.brokers), options.readyTimeoutMs ?? 120_000);
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
export async function kafkaReady(brokers: string[]): Promise<boolean> {
  const kafka = new Kafka({
    clientId: "helk-harness-readiness",
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  });
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
