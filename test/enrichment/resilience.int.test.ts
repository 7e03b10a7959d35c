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
} from "../../harness/enrichment-process.ts";

/** Recordings with record numbers (one line, one event), so the expected documents are exactly their events. */
const RECORDINGS = ["empire_shell_dcerpc_smb_service_dll_hijack.zip", "msf_record_mic.zip", "empire_psexec_dcerpc_tcp_svcctl.zip"].map((n) => recording(n).path);

/** Fresh topics, group and empty indices for one test, and what the raw files say must end up indexed. */
async function prepare(label: string) {
  const { kafkaBrokers, engineUrl } = serviceEndpoints();
  const engine = engineAt(engineUrl);
  const names = testNames(label);
  await resetIndices(engine);
  await createTopics(kafkaBrokers, names);
  return { kafkaBrokers, engineUrl, engine, names, expected: await expectedFromRawFiles(RECORDINGS) };
}

/**
 * Waits until the service(s) indexed every expected event and no connection waits, then checks the index holds
 * exactly the raw files' events (none missing, none twice), exactly their joins, and that nothing was dead-lettered.
 */
async function expectExactlyIndexed(services: ServiceProcess[], context: Awaited<ReturnType<typeof prepare>>, produced: number): Promise<void> {
  const { engine, engineUrl, expected, kafkaBrokers, names } = context;
  await waitFor(
    async () =>
      (await countDocs(engine, "helk-events-*")) >= expected.events.size &&
      (await Promise.all(services.map((s) => s.metric("helk_enrichment_join_waiting")))).every((n) => n === 0),
    240_000,
    async () => `indexed ${await countDocs(engine, "helk-events-*")} of ${expected.events.size}:\n${services.map((s) => s.logTail(15)).join("\n")}`,
  );
  await sleep(3000); // anything beyond the expected documents would show up now
  const indexed = await indexedKeys(engineUrl);
  expect(indexed.events.length).toBe(produced);
  expect(new Set(indexed.events)).toEqual(expected.events);
  expect(indexed.joins.length).toBe(expected.joins.size);
  expect(new Set(indexed.joins)).toEqual(new Set(expected.joins.keys()));
  expect(await topicMessageCount(kafkaBrokers, names.deadLetter)).toBe(0);
}

async function indexedKeys(engineUrl: string): Promise<{ events: string[]; joins: string[] }> {
  const engine = engineAt(engineUrl);
  const events = await allDocs<{ host_name: string; channel: string; record_number: number }>(engine, "helk-events-*", ["host_name", "channel", "record_number"]);
  const joins = await allDocs<{ host_name: string; record_number: number }>(engine, "helk-process-network-*", ["host_name", "record_number"]);
  return {
    events: events.map((d) => `${d.host_name}|${d.channel.toLowerCase()}|${d.record_number}`),
    joins: joins.map((d) => `${d.host_name}|${d.record_number}`),
  };
}

/** Starts a replay and resolves once the index holds more than `documents` events (the service is mid-replay). */
async function replayUntil(context: Awaited<ReturnType<typeof prepare>>, service: ServiceProcess, documents: number) {
  const replay = replayRecordings({ brokers: context.kafkaBrokers, topic: context.names.input, recordings: RECORDINGS });
  await waitFor(async () => (await countDocs(context.engine, "helk-events-*")) > documents, 180_000, () => service.logTail());
  return replay;
}

describe("enrichment service resilience", () => {
  const started: ServiceProcess[] = [];
  const start = async (env: Record<string, string>) => {
    const service = await ServiceProcess.start(env);
    started.push(service);
    return service;
  };
  afterEach(async () => {
    for (const s of started.splice(0)) await s.stop("SIGKILL");
  });

  it("killed with SIGKILL mid-replay and started again: nothing missing, nothing duplicated", async () => {
    const context = await prepare("sigkill");
    // Small bulks, so the kill lands between commits with work in flight.
    const env = serviceEnv(context.kafkaBrokers, context.engineUrl, context.names, { HELK_BULK_MAX_DOCS: "300" });
    const first = await start(env);
    const replay = await replayUntil(context, first, 2000);
    expect((await first.stop("SIGKILL")).signal).toBe("SIGKILL");
    const indexedAtKill = await countDocs(context.engine, "helk-events-*");
    const produced = (await replay).produced;
    expect(indexedAtKill).toBeLessThan(produced); // the kill really was mid-replay

    // Joins survive the restart: connections whose process was read before the kill are joined from the index.
    await expectExactlyIndexed([await start(env)], context, produced);
  });

  it("killed with SIGKILL while several bulk requests are in flight: nothing lost, nothing duplicated", async () => {
    const context = await prepare("sigkill-in-flight");
    // A pre-filled topic and small requests: the service keeps its four request slots busy from the start.
    const produced = (await replayRecordings({ brokers: context.kafkaBrokers, topic: context.names.input, recordings: RECORDINGS })).produced;
    const env = serviceEnv(context.kafkaBrokers, context.engineUrl, context.names, { HELK_BULK_MAX_DOCS: "100", HELK_BULK_IN_FLIGHT: "4" });
    const first = await start(env);
    let inFlight = 0;
    const deadline = Date.now() + 120_000;
    while ((inFlight = await first.metric("helk_enrichment_bulk_requests_in_flight")) < 3 || (await first.metric("helk_enrichment_indexed_total")) === 0) {
      if (Date.now() > deadline) throw new Error(`never 3 bulk requests in flight:\n${first.logTail()}`);
      await sleep(20);
    }
    expect((await first.stop("SIGKILL")).signal).toBe("SIGKILL");
    expect(inFlight).toBeGreaterThanOrEqual(3);
    expect(await countDocs(context.engine, "helk-events-*")).toBeLessThan(produced); // killed mid-way

    await expectExactlyIndexed([await start(env)], context, produced);
  });

  it("on SIGTERM mid-replay: exits 0 having committed only what it wrote; a new instance finishes the rest", async () => {
    const context = await prepare("sigterm");
    const env = serviceEnv(context.kafkaBrokers, context.engineUrl, context.names, { HELK_BULK_MAX_DOCS: "300" });
    const first = await start(env);
    const replay = await replayUntil(context, first, 2000);
    const stoppedAt = Date.now();
    expect(await first.stop("SIGTERM"), first.logTail()).toEqual({ code: 0, signal: null });
    expect(Date.now() - stoppedAt).toBeLessThan(30_000);
    const produced = (await replay).produced;

    // Everything committed is indexed (at-least-once): committed offsets never run ahead of the index.
    const committed = await committedMessages(context.kafkaBrokers, context.names.group, context.names.input);
    expect(committed).toBeGreaterThan(0);
    expect(await countDocs(context.engine, "helk-events-*")).toBeGreaterThanOrEqual(committed);

    const second = await start(env);
    await expectExactlyIndexed([second], context, produced);
    // The second instance started from the first one's commits, not from the beginning.
    expect(await second.metric("helk_enrichment_events_in_total")).toBeLessThanOrEqual(produced - committed);
  });

  it("with OpenSearch unreachable for 30 s mid-replay: waits, catches up, loses nothing", async () => {
    const context = await prepare("outage");
    const target = new URL(context.engineUrl);
    const proxy = await CuttableProxy.start({ host: target.hostname, port: Number(target.port) });
    try {
      const service = await start(serviceEnv(context.kafkaBrokers, proxy.url, context.names, { HELK_BULK_MAX_DOCS: "300" }));
      const replay = await replayUntil(context, service, 1000);

      proxy.setCut(true);
      const cutAt = Date.now();
      const produced = (await replay).produced;
      // Requests the engine received before the cut are still indexed (for seconds on a loaded machine): wait until
      // the count holds still, then nothing more may arrive while the cut lasts.
      let duringOutage = await countDocs(context.engine, "helk-events-*");
      for (let settled = false; !settled && Date.now() - cutAt < 20_000; ) {
        await sleep(2500);
        const count = await countDocs(context.engine, "helk-events-*");
        settled = count === duringOutage;
        duringOutage = count;
      }
      const readiness = await fetch(`${service.url}/readyz`);
      expect(readiness.status).toBe(503);
      expect(((await readiness.json()) as { engine: string }).engine).toMatch(/unreachable/);
      await sleep(Math.max(0, 30_000 - (Date.now() - cutAt)));
      expect(await countDocs(context.engine, "helk-events-*")).toBe(duringOutage); // nothing got through the cut
      expect(duringOutage).toBeLessThan(produced);
      expect(service.child.exitCode).toBeNull();
      proxy.setCut(false);

      await expectExactlyIndexed([service], context, produced);
      expect(await service.metric("helk_enrichment_bulk_retries_total")).toBeGreaterThan(0);
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    } finally {
      await proxy.close();
    }
  });

  it("two replicas in one consumer group share the partitions and index everything once", async () => {
    const context = await prepare("replicas");
    const env = serviceEnv(context.kafkaBrokers, context.engineUrl, context.names);
    const replicas = [await start(env), await start(env)];
    const produced = (await replayRecordings({ brokers: context.kafkaBrokers, topic: context.names.input, recordings: RECORDINGS })).produced;
    await expectExactlyIndexed(replicas, context, produced);
    const perReplica = await Promise.all(replicas.map((r) => r.metric("helk_enrichment_events_in_total")));
    expect(perReplica.every((n) => n > 0), `events per replica: ${perReplica}`).toBe(true);
    expect(perReplica[0]! + perReplica[1]!).toBe(produced);
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

