import { Kafka, logLevel } from "kafkajs";
import { afterEach, describe, expect, it } from "vitest";
import { recording } from "../../lib/datasets.ts";
import { replayRecordings } from "../../lib/replay.ts";
import { serviceEndpoints } from "../setup/endpoints.ts";
import { expectedFromRawFiles } from "./raw-expectations.ts";
import {
  allDocs,
  countDocs,
  createTopics,
  CuttableProxy,
  engineAt,
  resetIndices,
  ServiceProcess,
  serviceEnv,
  sleep,
  testNames,
  topicMessageCount,
  waitFor,
} from "./service-process.ts";

/** Recordings with record numbers (one line, one event), so the expected documents are exactly their events. */
const RECORDINGS = ["empire_shell_dcerpc_smb_service_dll_hijack.zip", "msf_record_mic.zip", "empire_psexec_dcerpc_tcp_svcctl.zip"].map((n) => recording(n).path);
async function indexedKeys(engineUrl: string): Promise<{ events: string[]; joins: string[] }> {
  const engine = engineAt(engineUrl);
  const events = await allDocs<{ host_name: string; channel: string; record_number: number }>(engine, "helk-events-*", ["host_name", "channel", "record_number"]);
  const joins = await allDocs<{ host_name: string; record_number: number }>(engine, "helk-process-network-*", ["host_name", "record_number"]);
  return {
    events: events.map((d) => `${d.host_name}|${d.channel.toLowerCase()}|${d.record_number}`),
    joins: joins.map((d) => `${d.host_name}|${d.record_number}`),
  };
}

describe("enrichment service resilience", () => {
  const started: ServiceProcess[] = [];
  afterEach(async () => {
    for (const s of started.splice(0)) await s.stop("SIGKILL");
  });

  it("killed with SIGKILL mid-replay and started again: nothing missing, nothing duplicated", async () => {
    const { kafkaBrokers, engineUrl } = serviceEndpoints();
    const engine = engineAt(engineUrl);
    const names = testNames("sigkill");
    await resetIndices(engine);
    await createTopics(kafkaBrokers, names);
    const expected = await expectedFromRawFiles(RECORDINGS);
    // Small bulks, so the kill lands between commits with work in flight.
    const env = serviceEnv(kafkaBrokers, engineUrl, names, { HELK_BULK_MAX_DOCS: "300" });

    const first = await ServiceProcess.start(env);
    started.push(first);
    const replay = replayRecordings({ brokers: kafkaBrokers, topic: names.input, recordings: RECORDINGS });
    await waitFor(async () => (await countDocs(engine, "helk-events-*")) > 2000, 180_000, () => first.logTail());
    expect((await first.stop("SIGKILL")).signal).toBe("SIGKILL");
    const indexedAtKill = await countDocs(engine, "helk-events-*");
    const produced = (await replay).produced;
    expect(indexedAtKill).toBeLessThan(produced); // the kill really was mid-replay

    const second = await ServiceProcess.start(env);
    started.push(second);
    await waitFor(
      async () => (await countDocs(engine, "helk-events-*")) >= expected.events.size && (await second.metric("helk_enrichment_join_waiting")) === 0,
      240_000,
      async () => `indexed ${await countDocs(engine, "helk-events-*")} of ${expected.events.size}:\n${second.logTail()}`,
    );
    await sleep(3000); // anything beyond the expected documents would show up now

    const indexed = await indexedKeys(engineUrl);
    expect(indexed.events.length).toBe(produced);
    expect(new Set(indexed.events)).toEqual(expected.events);
    // Joins survive the restart: connections whose process was read before the kill are joined from the index.
    expect(new Set(indexed.joins)).toEqual(new Set(expected.joins.keys()));
    expect(indexed.joins.length).toBe(expected.joins.size);
    expect(await topicMessageCount(kafkaBrokers, names.deadLetter)).toBe(0);
  });

  it("with OpenSearch unreachable for 30 s mid-replay: waits, catches up, loses nothing", async () => {
    const { kafkaBrokers, engineUrl } = serviceEndpoints();
    const engine = engineAt(engineUrl);
    const names = testNames("outage");
    await resetIndices(engine);
    await createTopics(kafkaBrokers, names);
    const expected = await expectedFromRawFiles(RECORDINGS);
    const target = new URL(engineUrl);
    const proxy = await CuttableProxy.start({ host: target.hostname, port: Number(target.port) });
    try {
      const service = await ServiceProcess.start(serviceEnv(kafkaBrokers, proxy.url, names, { HELK_BULK_MAX_DOCS: "300" }));
      started.push(service);
      const replay = replayRecordings({ brokers: kafkaBrokers, topic: names.input, recordings: RECORDINGS });
      await waitFor(async () => (await countDocs(engine, "helk-events-*")) > 1000, 180_000, () => service.logTail());

      proxy.setCut(true);
      const cutAt = Date.now();
      const produced = (await replay).produced;
      await sleep(5000);
      const duringOutage = await countDocs(engine, "helk-events-*");
      const readiness = await fetch(`${service.url}/readyz`);
      expect(readiness.status).toBe(503);
      expect(((await readiness.json()) as { engine: string }).engine).toMatch(/unreachable/);
      await sleep(Math.max(0, 30_000 - (Date.now() - cutAt)));
      expect(await countDocs(engine, "helk-events-*")).toBe(duringOutage); // nothing got through the cut
      expect(duringOutage).toBeLessThan(produced);
      expect(service.child.exitCode).toBeNull();
      proxy.setCut(false);

      await waitFor(
        async () => (await countDocs(engine, "helk-events-*")) >= expected.events.size && (await service.metric("helk_enrichment_join_waiting")) === 0,
        240_000,
        async () => `indexed ${await countDocs(engine, "helk-events-*")} of ${expected.events.size}:\n${service.logTail()}`,
      );
      await sleep(3000);
      const indexed = await indexedKeys(engineUrl);
      expect(indexed.events.length).toBe(produced);
      expect(new Set(indexed.events)).toEqual(expected.events);
      expect(new Set(indexed.joins)).toEqual(new Set(expected.joins.keys()));
      expect(await service.metric("helk_enrichment_bulk_retries_total")).toBeGreaterThan(0);
      expect(await topicMessageCount(kafkaBrokers, names.deadLetter)).toBe(0);
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    } finally {
      await proxy.close();
    }
  });

  it("on SIGTERM mid-replay: exits 0 having committed only what it wrote; a new instance finishes the rest", async () => {
    const { kafkaBrokers, engineUrl } = serviceEndpoints();
    const engine = engineAt(engineUrl);
    const names = testNames("sigterm");
    await resetIndices(engine);
    await createTopics(kafkaBrokers, names);
    const expected = await expectedFromRawFiles(RECORDINGS);
    const env = serviceEnv(kafkaBrokers, engineUrl, names, { HELK_BULK_MAX_DOCS: "300" });

    const first = await ServiceProcess.start(env);
    started.push(first);
    const replay = replayRecordings({ brokers: kafkaBrokers, topic: names.input, recordings: RECORDINGS });
    await waitFor(async () => (await countDocs(engine, "helk-events-*")) > 2000, 180_000, () => first.logTail());
    const stoppedAt = Date.now();
    const exit = await first.stop("SIGTERM");
    expect(exit, first.logTail()).toEqual({ code: 0, signal: null });
    expect(Date.now() - stoppedAt).toBeLessThan(30_000);
    const produced = (await replay).produced;

    // Everything committed is indexed (at-least-once): committed offsets never run ahead of the index.
    const committed = await committedMessages(kafkaBrokers, names.group, names.input);
    expect(committed).toBeGreaterThan(0);
    expect(await countDocs(engine, "helk-events-*")).toBeGreaterThanOrEqual(committed);

    const second = await ServiceProcess.start(env);
    started.push(second);
    await waitFor(
      async () => (await countDocs(engine, "helk-events-*")) >= expected.events.size && (await second.metric("helk_enrichment_join_waiting")) === 0,
      240_000,
      async () => `indexed ${await countDocs(engine, "helk-events-*")} of ${expected.events.size}:\n${second.logTail()}`,
    );
    // The second instance starts from the first one's commits, not from the beginning.
    expect(await second.metric("helk_enrichment_events_in_total")).toBeLessThanOrEqual(produced - committed);
    await sleep(3000);
    const indexed = await indexedKeys(engineUrl);
    expect(indexed.events.length).toBe(produced);
    expect(new Set(indexed.events)).toEqual(expected.events);
    expect(new Set(indexed.joins)).toEqual(new Set(expected.joins.keys()));
  });

  it("two replicas in one consumer group share the partitions and index everything once", async () => {
    const { kafkaBrokers, engineUrl } = serviceEndpoints();
    const engine = engineAt(engineUrl);
    const names = testNames("replicas");
    await resetIndices(engine);
    await createTopics(kafkaBrokers, names);
    const expected = await expectedFromRawFiles(RECORDINGS);
    const env = serviceEnv(kafkaBrokers, engineUrl, names);
    const replicas = [await ServiceProcess.start(env), await ServiceProcess.start(env)];
    started.push(...replicas);

    const produced = (await replayRecordings({ brokers: kafkaBrokers, topic: names.input, recordings: RECORDINGS })).produced;
    await waitFor(
      async () => (await countDocs(engine, "helk-events-*")) >= expected.events.size,
      240_000,
      async () => `indexed ${await countDocs(engine, "helk-events-*")} of ${expected.events.size}:\n${replicas.map((r) => r.logTail(10)).join("\n")}`,
    );
    await sleep(3000);
    const perReplica = await Promise.all(replicas.map((r) => r.metric("helk_enrichment_events_in_total")));
    expect(perReplica.every((n) => n > 0), `events per replica: ${perReplica}`).toBe(true);
    expect(perReplica[0]! + perReplica[1]!).toBe(produced);
    const indexed = await indexedKeys(engineUrl);
    expect(indexed.events.length).toBe(produced);
    expect(new Set(indexed.events)).toEqual(expected.events);
    expect(new Set(indexed.joins)).toEqual(new Set(expected.joins.keys()));
  });
});

/** Sum of a consumer group's committed offsets on a topic (partitions without a commit count 0). */
async function committedMessages(brokers: string[], groupId: string, topic: string): Promise<number> {
  const admin = new Kafka({ clientId: "helk-test-offsets", brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return offsets!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}
