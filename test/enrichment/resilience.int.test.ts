import { afterEach, describe, expect, it } from "vitest";
import { recording, recordingEvents } from "../../lib/datasets.ts";
import { replayRecordings } from "../../lib/replay.ts";
import { serviceEndpoints } from "../setup/endpoints.ts";
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
const SYSMON = "Microsoft-Windows-Sysmon/Operational";

async function rawEventKeys(): Promise<{ events: Set<string>; joins: Set<string> }> {
  const events = new Set<string>();
  const processes = new Set<string>();
  const connections: [string, string][] = [];
  for (const path of RECORDINGS) {
    for await (const e of recordingEvents(path)) {
      const host = String(e.Hostname).toLowerCase();
      events.add(`${host}|${String(e.Channel).toLowerCase()}|${e.RecordNumber}`);
      if (e.Channel === SYSMON && e.EventID === 1) processes.add(`${host}|${String(e.ProcessGuid).toLowerCase()}`);
      if (e.Channel === SYSMON && e.EventID === 3) connections.push([`${host}|${String(e.ProcessGuid).toLowerCase()}`, `${host}|${e.RecordNumber}`]);
    }
  }
  return { events, joins: new Set(connections.filter(([key]) => processes.has(key)).map(([, id]) => id)) };
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
    const expected = await rawEventKeys();
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
    expect(new Set(indexed.joins)).toEqual(expected.joins);
    expect(indexed.joins.length).toBe(expected.joins.size);
    expect(await topicMessageCount(kafkaBrokers, names.deadLetter)).toBe(0);
  });

  it("with OpenSearch unreachable for 30 s mid-replay: waits, catches up, loses nothing", async () => {
    const { kafkaBrokers, engineUrl } = serviceEndpoints();
    const engine = engineAt(engineUrl);
    const names = testNames("outage");
    await resetIndices(engine);
    await createTopics(kafkaBrokers, names);
    const expected = await rawEventKeys();
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
      expect(new Set(indexed.joins)).toEqual(expected.joins);
      expect(await service.metric("helk_enrichment_bulk_retries_total")).toBeGreaterThan(0);
      expect(await topicMessageCount(kafkaBrokers, names.deadLetter)).toBe(0);
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    } finally {
      await proxy.close();
    }
  });
});
