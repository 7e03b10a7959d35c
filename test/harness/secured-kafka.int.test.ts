import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { type Consumer, Kafka, logLevel, Partitioners } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countDocs, engineAt, readDeadLetters, resetIndices, ServiceProcess, serviceEnv, testNames } from "../../harness/enrichment-process.ts";
import { kafkaClientSettings, type KafkaServer, startKafka } from "../../harness/kafka.ts";
import { type KafkaClientSettings, toKafkaConfig } from "../../lib/contract/kafka-env.ts";
import { recording } from "../../lib/datasets.ts";
import { createCertificateAuthority } from "../../lib/pki.ts";
import { replayRecordings } from "../../lib/replay.ts";
import { ensureTopics } from "../../setup/commands.ts";
import { serviceEndpoints } from "../setup/endpoints.ts";

// A private secured Kafka (SASL_SSL, SCRAM-SHA-512, StandardAuthorizer with the ACLs of lib/contract/kafka-acls.ts);
// every principal's rights are exercised against the real broker.

const id = randomUUID().slice(0, 8);
const names = testNames("secured");
const scope = { eventTopics: [names.input], deadLetterTopic: names.deadLetter, consumerGroup: names.group };
const eventTopic = names.input;
const otherTopic = `secure-other-${id}`;

let kafka: KafkaServer;
let scratch: string;
const settings = (role: "admin" | "enrichment" | "shipper") => kafkaClientSettings(kafka, role);

/**
 * A kafkajs client that gives up within seconds (a refusal must not wait on minutes of retries). With `errors`,
 * the errors kafkajs only logs are collected there: it reports a refused FindCoordinator as "Failed to find group
 * coordinator" and logs the broker's answer (GROUP_AUTHORIZATION_FAILED) at debug level.
 */
function client(settings: KafkaClientSettings, clientId = "secured-kafka-test", errors?: string[]): Kafka {
  return new Kafka(
    toKafkaConfig(settings, {
      clientId,
      logLevel: errors ? logLevel.DEBUG : logLevel.NOTHING,
      logCreator: () => ({ log }) => {
        const error = (log as { error?: { type?: string; message?: string } | string }).error;
        if (errors && error) errors.push(typeof error === "string" ? error : `${error.type ?? ""} ${error.message ?? ""}`);
      },
      connectionTimeout: 5_000,
      requestTimeout: 10_000,
      retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 1_000 },
    }),
  );
}

/** What a consumer gets when it tries to read `topic` in `groupId`: the messages' values, or the error that stopped it. */
async function consume(settings: KafkaClientSettings, groupId: string, topic: string, expected: number): Promise<string[] | Error> {
  const logged: string[] = [];
  const consumer: Consumer = client(settings, "secured-kafka-test", logged).consumer({ groupId, allowAutoTopicCreation: false, retry: { retries: 0 } });
  const values: string[] = [];
  try {
    return await new Promise<string[] | Error>((resolve) => {
      const timer = setTimeout(() => resolve(new Error(`timed out with ${values.length} of ${expected} messages`)), 60_000);
      const done = (result: string[] | Error) => {
        clearTimeout(timer);
        resolve(result instanceof Error ? new Error(`${chain(result)}\nlogged by kafkajs: ${logged.join("; ")}`) : result);
      };
      consumer.on(consumer.events.CRASH, (event) => done(event.payload.error));
      (async () => {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => {
            values.push(String(message.value));
            if (values.length >= expected) done(values);
          },
        });
      })().catch((error: Error) => done(error));
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

async function produce(settings: KafkaClientSettings, topic: string, values: string[]): Promise<void> {
  const producer = client(settings).producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 0 } });
  await producer.connect();
  try {
    await producer.send({ topic, messages: values.map((value) => ({ value })) });
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

/** `name: message` of an error, its causes and the errors it aggregates, one per line (kafkajs wraps refusals). */
function chain(error: unknown, depth = 0): string {
  if (!(error instanceof Error) || depth > 5) return String(error);
  const nested = [(error as { cause?: unknown }).cause, (error as { originalError?: unknown }).originalError, ...((error as { errors?: unknown[] }).errors ?? [])];
  return [`${error.name}: ${error.message}`, ...nested.filter((e) => e !== undefined && e !== error).map((e) => chain(e, depth + 1))].join("\n");
}

/** The error `attempt` fails with (the test fails when it succeeds). */
async function refusal(attempt: () => Promise<unknown>): Promise<Error> {
  try {
    await attempt();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a refusal, but it succeeded");
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "helk-secured-kafka-test-"));
  kafka = await startKafka({ security: "sasl_ssl", heap: "384m", aclScope: scope });
  const topics = [eventTopic, scope.deadLetterTopic, otherTopic].map((name) => ({ name, partitions: name === eventTopic ? 3 : 1, replicationFactor: 1, retentionHours: 1 }));
  await ensureTopics(settings("admin"), topics, 60);
  await produce(settings("admin"), otherTopic, ["not for the enrichment"]);
});

afterAll(async () => {
  await kafka?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("a secured harness Kafka", () => {
  it("keeps its secrets in files only its user can read, and advertises only the SASL_SSL listener", async () => {
    for (const file of [kafka.security!.users.admin.passwordFile, kafka.security!.users.enrichment.passwordFile, join(kafka.dataDir, "tls", "broker.pem")])
      expect((statSync(file).mode & 0o777).toString(8), file).toBe("600");
    const admin = client(settings("admin")).admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      expect(cluster.brokers).toEqual([{ nodeId: 1, host: "127.0.0.1", port: kafka.port }]);
      expect(kafka.controllerPort).not.toBe(kafka.port);
    } finally {
      await admin.disconnect();
    }
  });

  it("happy path: the shipper produces to the event topic, the enrichment consumes it in its group and writes dead letters", async () => {
    const values = ["event 1", "event 2", "event 3"];
    await produce(settings("shipper"), eventTopic, values);
    // Three partitions: the order across them is not kept.
    const consumed = await consume(settings("enrichment"), scope.consumerGroup, eventTopic, values.length);
    expect(Array.isArray(consumed) ? [...consumed].sort() : consumed).toEqual(values);
    const deadLetter = JSON.stringify({ reason: "written by the test", stage: "parse" });
    await produce(settings("enrichment"), scope.deadLetterTopic, [deadLetter]);
    expect(await consume(settings("admin"), `admin-reader-${id}`, scope.deadLetterTopic, 1)).toEqual([deadLetter]);
  });

  it("refuses a PLAINTEXT client and an anonymous TLS client", async () => {
    const plaintext = await refusal(() => client({ brokers: kafka.brokers }).admin().connect());
    expect(chain(plaintext)).toMatch(/KafkaJS(Connection|ConnectionClosed|RequestTimeout)Error/);
    const { sasl: _login, ...anonymous } = settings("shipper");
    const admin = client(anonymous).admin();
    const anonymousTls = await refusal(async () => {
      await admin.connect();
      await admin.listTopics();
    });
    await admin.disconnect().catch(() => undefined);
    expect(chain(anonymousTls)).toMatch(/KafkaJS(Connection|ConnectionClosed|RequestTimeout)Error|Illegal SASL state|authentication/i);
    kafka.assertRunning();
  });

  it("refuses a wrong password as an authentication failure", async () => {
    const { sasl, ...rest } = settings("enrichment");
    const error = await refusal(() => client({ ...rest, sasl: { ...sasl!, password: "not-the-password" } }).admin().connect());
    expect(chain(error)).toMatch(/KafkaJSSASLAuthenticationError: SASL SCRAM SHA-?512 authentication failed/);
  });

  it("does not let the enrichment read a topic that is not its input, nor produce to its input", async () => {
    const other = await consume(settings("enrichment"), scope.consumerGroup, otherTopic, 1);
    expect(other).toBeInstanceOf(Error);
    expect(chain(other)).toMatch(/Not authorized to access topics/);
    const deadLetters = await consume(settings("enrichment"), scope.consumerGroup, scope.deadLetterTopic, 1);
    expect(deadLetters).toBeInstanceOf(Error);
    expect(chain(deadLetters)).toMatch(/Not authorized to access topics/);
    const produced = await refusal(() => produce(settings("enrichment"), eventTopic, ["forged event"]));
    expect(chain(produced)).toMatch(/Not authorized to access topics/);
    const otherGroup = await consume(settings("enrichment"), `not-the-enrichment-group-${id}`, eventTopic, 1);
    expect(otherGroup).toBeInstanceOf(Error);
    expect(chain(otherGroup)).toMatch(/GROUP_AUTHORIZATION_FAILED|Not authorized to access group/);
  });

  it("does not let the shipper consume, write dead letters or create topics", async () => {
    const consumed = await consume(settings("shipper"), scope.consumerGroup, eventTopic, 1);
    expect(consumed).toBeInstanceOf(Error);
    expect(chain(consumed)).toMatch(/GROUP_AUTHORIZATION_FAILED|TOPIC_AUTHORIZATION_FAILED|Not authorized to access (group|topics)/);
    const deadLetter = await refusal(() => produce(settings("shipper"), scope.deadLetterTopic, ["x"]));
    expect(chain(deadLetter)).toMatch(/Not authorized to access topics/);
    const admin = client(settings("shipper")).admin();
    await admin.connect();
    try {
      const created = await refusal(() => admin.createTopics({ topics: [{ topic: `shipper-made-${id}` }] }));
      expect(chain(created)).toMatch(/AUTHORIZATION_FAILED|authoriz/i);
    } finally {
      await admin.disconnect();
    }
  });

  it("is refused by a client that trusts another CA", async () => {
    const foreignCa = join(scratch, "other-ca.crt");
    writeFileSync(foreignCa, (await createCertificateAuthority({ commonName: "another deployment's CA" })).certificatePem);
    const shipper = settings("shipper");
    const error = await refusal(() => client({ ...shipper, tls: { caFile: foreignCa, ca: readFileSync(foreignCa, "utf8") } }).admin().connect());
    expect(chain(error)).toMatch(/self[- ]signed certificate in certificate chain|unable to (verify|get local issuer)/);
  });

  it("refuses a TLS client without a certificate on the controller listener, and takes the broker's own", async () => {
    const ca = readFileSync(kafka.security!.caFile, "utf8");
    /** The TLS error of a connection to the controller, or "open" when it still stands after the handshake and 2 s. */
    const attempt = async (certificate: { key?: string; cert?: string }) => {
      const socket = connect({ host: "127.0.0.1", port: kafka.controllerPort, ca, ...certificate });
      try {
        return await new Promise<string>((resolve) => {
          socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
          socket.once("secureConnect", () => setTimeout(() => resolve("open"), 2_000));
        });
      } finally {
        socket.destroy();
      }
    };
    expect(await attempt({})).toMatch(/CERTIFICATE_REQUIRED|BAD_CERTIFICATE|HANDSHAKE_FAILURE/);
    const [key, cert] = readFileSync(join(kafka.dataDir, "tls", "broker.pem"), "utf8").split(/(?<=-----END PRIVATE KEY-----\n)/);
    expect(await attempt({ key: key!, cert: cert! })).toBe("open");
  });

  it("runs the enrichment service as its principal: a shipper's replay is indexed and a bad event dead-lettered", async () => {
    const { engineUrl } = serviceEndpoints();
    const engine = engineAt(engineUrl);
    await resetIndices(engine);
    const { security } = kafka;
    const service = await ServiceProcess.start(
      serviceEnv([kafka.bootstrap], engineUrl, names, {
        HELK_KAFKA_CA_FILE: security!.caFile,
        HELK_KAFKA_SASL_USERNAME: security!.users.enrichment.username,
        HELK_KAFKA_SASL_PASSWORD_FILE: security!.users.enrichment.passwordFile,
      }),
    );
    try {
      const replayed = await replayRecordings({ ...settings("shipper"), topic: eventTopic, recordings: [recording("msf_record_mic.zip").path], limit: 200 });
      await produce(settings("shipper"), eventTopic, ['{"Channel": "Security", "EventID":']);
      // After the one the happy path wrote, the service's own (also for the test's three plain-text events, should the
      // happy path's consumer not have committed them).
      const deadLetters = await readDeadLetters(settings("admin"), scope.deadLetterTopic, 2);
      expect(deadLetters[0]!.reason).toBe("written by the test");
      expect(deadLetters.slice(1).map((d) => d.reason)).toContainEqual(expect.stringMatching(/^not JSON/));
      await expect.poll(() => service.metric("helk_enrichment_events_in_total"), { timeout: 120_000, interval: 1_000 }).toBeGreaterThanOrEqual(replayed.produced + 1);
      await expect.poll(() => countDocs(engine, "helk-events-*"), { timeout: 60_000, interval: 1_000 }).toBeGreaterThan(0);
    } finally {
      expect((await service.stop()).code).toBe(0);
    }
  });
});
