import { randomUUID } from "node:crypto";
import { Kafka, logLevel, type Admin, type Producer } from "kafkajs";
import type { StackEndpoints } from "../../lib/contract/endpoints.ts";
import { errorMessage, type CheckContext, type CheckGroup } from "../runner.ts";

/** Topic of the produce/consume round trip; created with one partition when missing. */
export const smokeTopic = "helk-smoke";

/**
 * One lazily opened Kafka connection shared by every check that talks to Kafka (the Kafka checks and the
 * enrichment probe's producer), so an unreachable broker costs one connect timeout, not one per check.
 */
export class KafkaSession {
  readonly kafka: Kafka;
  private adminClient?: Promise<Admin>;
  private producerClient?: Promise<Producer>;

  constructor(readonly bootstrap: string) {
    this.kafka = new Kafka({
      clientId: "helk-smoke",
      brokers: bootstrap.split(",").map((b) => b.trim()),
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      // Few, short retries: a smoke test reports an unreachable broker instead of waiting it out.
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 },
      logLevel: logLevel.NOTHING,
    });
  }

  admin(): Promise<Admin> {
    this.adminClient ??= this.connect(this.kafka.admin());
    return this.adminClient;
  }

  producer(): Promise<Producer> {
    this.producerClient ??= this.connect(this.kafka.producer({ allowAutoTopicCreation: false }));
    return this.producerClient;
  }

  /** Runs `work`, turning any failure into an error that names Kafka and where it was looked for. */
  async use<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      const message = errorMessage(err);
      throw new Error(message.startsWith("kafka at ") ? message : `kafka at ${this.bootstrap}: ${message}`);
    }
  }

  async close(): Promise<void> {
    const clients = [this.adminClient, this.producerClient].filter((c) => c !== undefined);
    await Promise.all(clients.map((c) => c.then((client) => client.disconnect()).catch(() => undefined)));
  }

  private async connect<C extends { connect(): Promise<void> }>(client: C): Promise<C> {
    try {
      await client.connect();
      return client;
    } catch (err) {
      throw new Error(`kafka at ${this.bootstrap} unreachable: ${errorMessage(err)}`);
    }
  }
}

/** The topics the stack is configured with: explicit specs plus the event and dead-letter topics. */
export function expectedTopics(kafka: StackEndpoints["kafka"]): Array<{ name: string; partitions?: number; replicationFactor?: number }> {
  const byName = new Map<string, { name: string; partitions?: number; replicationFactor?: number }>();
  for (const name of [...kafka.eventTopics, kafka.deadLetterTopic]) byName.set(name, { name });
  for (const spec of kafka.topics) byName.set(spec.name, spec);
  return [...byName.values()];
}

export function kafkaChecks(endpoints: StackEndpoints, session: KafkaSession): CheckGroup {
  return {
    component: "kafka",
    checks: [
      {
        id: "kafka.metadata",
        component: "kafka",
        title: "cluster metadata reachable",
        run: () =>
          session.use(async () => {
            const cluster = await (await session.admin()).describeCluster();
            return {
              status: "pass",
              message: `${cluster.brokers.length} broker(s), controller ${cluster.controller}, cluster ${cluster.clusterId}`,
            };
          }),
      },
      {
        id: "kafka.topics",
        component: "kafka",
        title: "configured topics exist with their partitions",
        run: () => session.use(() => checkTopics(endpoints, session)),
      },
      {
        id: "kafka.roundtrip",
        component: "kafka",
        title: `produce and consume on ${smokeTopic}`,
        run: (ctx) => session.use(() => roundTrip(session, ctx)),
      },
    ],
  };
}

async function checkTopics(endpoints: StackEndpoints, session: KafkaSession) {
  const admin = await session.admin();
  const expected = expectedTopics(endpoints.kafka);
  const existing = new Set(await admin.listTopics());
  const missing = expected.filter((t) => !existing.has(t.name)).map((t) => t.name);
  if (missing.length > 0) throw new Error(`kafka at ${session.bootstrap} lacks topic(s) ${missing.join(", ")}`);

  const { topics } = await admin.fetchTopicMetadata({ topics: expected.map((t) => t.name) });
  const problems: string[] = [];
  const found: string[] = [];
  for (const spec of expected) {
    const meta = topics.find((t) => t.name === spec.name)!;
    const partitions = meta.partitions.length;
    const replicas = Math.min(...meta.partitions.map((p) => p.replicas.length));
    if (spec.partitions !== undefined && partitions !== spec.partitions) {
      problems.push(`${spec.name} has ${partitions} partition(s), configured ${spec.partitions}`);
    }
    if (spec.replicationFactor !== undefined && replicas !== spec.replicationFactor) {
      problems.push(`${spec.name} has replication factor ${replicas}, configured ${spec.replicationFactor}`);
    }
    found.push(`${spec.name} (${partitions}p×${replicas})`);
  }
  if (problems.length > 0) throw new Error(`kafka at ${session.bootstrap}: ${problems.join("; ")}`);
  return { status: "pass" as const, message: found.join(", ") };
}

async function roundTrip(session: KafkaSession, ctx: CheckContext) {
  const admin = await session.admin();
  const created = await admin.createTopics({ topics: [{ topic: smokeTopic, numPartitions: 1 }], waitForLeaders: true });
  const marker = randomUUID();
  const producer = await session.producer();
  const [sent] = await producer.send({ topic: smokeTopic, acks: -1, messages: [{ key: marker, value: marker }] });
  if (!sent?.baseOffset) throw new Error(`kafka at ${session.bootstrap} did not acknowledge the smoke message`);

  // A fresh group read from the offset just written: only this run's message matters.
  const groupId = `helk-smoke-${marker}`;
  const consumer = session.kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  try {
    ctx.progress(`consuming the smoke message from ${smokeTopic}`);
    await consumer.connect();
    await consumer.subscribe({ topic: smokeTopic, fromBeginning: true });
    const received = new Promise<void>((resolve, reject) => {
      ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ message }) => {
            if (message.value?.toString() === marker) resolve();
          },
        })
        .catch(reject);
    });
    consumer.seek({ topic: smokeTopic, partition: sent.partition, offset: sent.baseOffset });
    await received;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return {
    status: "pass" as const,
    message: `${created ? "created " : ""}${smokeTopic}: message at partition ${sent.partition} offset ${sent.baseOffset} read back`,
  };
}
