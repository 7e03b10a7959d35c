import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../lib/data.ts";
import { recording, recordingEvents } from "../../lib/datasets.ts";
import { replayRecordings } from "../../lib/replay.ts";
import { serviceEndpoints } from "../setup/endpoints.ts";
import { expectedFromRawFiles } from "./raw-expectations.ts";
import {
  allDocs,
  countDocs,
  createTopics,
  engineAt,
  resetIndices,
  ServiceProcess,
  serviceEnv,
  testNames,
  topicMessageCount,
  waitFor,
} from "../../harness/enrichment-process.ts";

/** Five recordings with record numbers (each line one distinct event) and one exported without (it repeats lines). */
const RECORDINGS = [
  "msf_record_mic.zip",
  "covenant_dcsync_dcerpc_drsuapi_DsGetNCChanges.zip",
  "empire_shell_net_local_users.zip",
  "empire_psexec_dcerpc_tcp_svcctl.zip",
  "empire_shell_dcerpc_smb_service_dll_hijack.zip",
].map((name) => recording(name).path);
const WITHOUT_RECORD_NUMBERS = recording("cmd_psexec_lsa_secrets_dump.zip").path;
const run = promisify(execFile);

/** Expectations from the raw files, plus the distinct lines of the recording without record numbers. */
async function expectations() {
  const expected = await expectedFromRawFiles(RECORDINGS);
  const lines = new Set<string>();
  for await (const e of recordingEvents(WITHOUT_RECORD_NUMBERS)) lines.add(JSON.stringify(e));
  return { ...expected, distinctLinesWithoutRecordNumbers: lines.size };
}

describe("replaying Security-Datasets recordings through the enrichment service", () => {
  const names = testNames("replay");
  let service: ServiceProcess;

  beforeAll(async () => {
    const { kafkaBrokers, engineUrl } = serviceEndpoints();
    await resetIndices(engineAt(engineUrl));
    await createTopics(kafkaBrokers, names);
    service = await ServiceProcess.start(serviceEnv(kafkaBrokers, engineUrl, names));
  });
  afterAll(async () => {
    await service?.stop();
  });

  it("indexes every produced event or dead-letters it, exactly, and the joins match the raw files", async () => {
    const { kafkaBrokers, engineUrl } = serviceEndpoints();
    const engine = engineAt(engineUrl);
    const expected = await expectations();
    expect(expected.joins.size).toBeGreaterThan(10);

    const main = await replayRecordings({ brokers: kafkaBrokers, topic: names.input, recordings: RECORDINGS });
    expect(main.produced).toBe(expected.events.size);
    const extra = await replayRecordings({ brokers: kafkaBrokers, topic: names.input, recordings: [WITHOUT_RECORD_NUMBERS] });
    const produced = main.produced + extra.produced;

    // Done when every message is either a document or a dead letter, and no connection still waits.
    const distinctExpected = main.produced + expected.distinctLinesWithoutRecordNumbers;
    await waitFor(
      async () =>
        (await countDocs(engine, "helk-events-*")) + (await topicMessageCount(kafkaBrokers, names.deadLetter)) >= distinctExpected &&
        (await service.metric("helk_enrichment_events_in_total")) >= produced &&
        (await service.metric("helk_enrichment_join_waiting")) === 0,
      240_000,
      async () => `indexed ${await countDocs(engine, "helk-events-*")} of ${distinctExpected}; service log:\n${service.logTail()}`,
    );
    const deadLetters = await topicMessageCount(kafkaBrokers, names.deadLetter);
    expect(deadLetters).toBe(0); // real recordings hold no bad input
    expect(await service.metric("helk_enrichment_events_in_total")).toBe(produced);
    // Every message was acknowledged by the engine (repeated lines overwrite their own document) or dead-lettered.
    expect((await service.metric("helk_enrichment_indexed_total", 'kind="event"')) + (await service.metric("helk_enrichment_dead_lettered_total"))).toBe(produced);

    // Exactly one document per event of the five recordings: the same (host, channel, record) set, no more.
    const docs = await allDocs<{ host_name: string; channel: string; record_number?: number }>(engine, "helk-events-*", ["host_name", "channel", "record_number"]);
    const withRecords = docs.filter((d) => d.record_number !== undefined);
    expect(withRecords.length).toBe(main.produced);
    expect(new Set(withRecords.map((d) => `${d.host_name}|${d.channel.toLowerCase()}|${d.record_number}`))).toEqual(expected.events);
    // The recording without record numbers: one document per distinct line (repeated lines are one event).
    expect(docs.length - withRecords.length).toBe(expected.distinctLinesWithoutRecordNumbers);
    expect(extra.produced).toBeGreaterThan(expected.distinctLinesWithoutRecordNumbers);

    // Joined documents equal the join computed over the raw files.
    const joined = await allDocs<Record<string, unknown>>(engine, "helk-process-network-*", [
      "host_name", "record_number", "process_path", "command_line", "parent_process_path", "dst_ip", "join_key", "event_id",
    ]);
    expect(joined.length).toBe(expected.joins.size);
    for (const j of joined) {
      const want = expected.joins.get(`${j.host_name}|${j.record_number}`);
      expect(want, `unexpected joined document ${j.host_name}|${j.record_number}`).toBeDefined();
      expect(j.event_id).toBe(3);
      expect(j.process_path).toBe(want!.image);
      expect(j.command_line).toBe(want!.commandLine);
      expect(j.parent_process_path).toBe(want!.parentImage);
      expect(j.dst_ip).toBe(want!.dstIp);
    }
    expect(await service.metric("helk_enrichment_joined_total")).toBeGreaterThanOrEqual(expected.joins.size);

    // Operations endpoints: alive, ready, and the metrics the issue names.
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${service.url}/readyz`)).json()).toEqual({ ready: true, kafka: "ok", engine: "ok", pipeline: "ok" });
    expect(await service.metric("helk_enrichment_bulk_seconds_count")).toBeGreaterThan(0);
    expect(await service.metric("helk_enrichment_consumer_lag")).toBe(0);
    expect(await service.metric("helk_enrichment_unjoined_total")).toBeGreaterThan(0); // most connections have no process create
    const metricsText = await (await fetch(`${service.url}/metrics`)).text();
    for (const name of ["helk_enrichment_dead_lettered_total", "helk_enrichment_join_cache_entries", "helk_enrichment_consumer_lag{"]) {
      expect(metricsText).toContain(name);
    }
  });

  it("replaying a recording again as winlogbeat 7 and 6 (helk replay) overwrites the same documents, never duplicates", async () => {
    const { kafkaBrokers, engineUrl } = serviceEndpoints();
    const engine = engineAt(engineUrl);
    const before = await countDocs(engine, "helk-events-*");
    const eventsInBefore = await service.metric("helk_enrichment_events_in_total");
    let replayed = 0;
    for (const shape of ["winlogbeat7", "winlogbeat6"]) {
      const { stdout } = await run(process.execPath, ["--import", "tsx", "cli/helk.ts", "replay", "msf_record_mic.zip", "--brokers", kafkaBrokers.join(","), "--topic", names.input, "--shape", shape], { cwd: projectRoot });
      const produced = Number(/(\d+)\s+events produced to/.exec(stdout)?.[1]);
      expect(produced, stdout).toBe(6202);
      replayed += produced;
    }
    await waitFor(
      async () => (await service.metric("helk_enrichment_events_in_total")) >= eventsInBefore + replayed && (await service.metric("helk_enrichment_join_waiting")) === 0,
      180_000,
      () => service.logTail(),
    );
    await waitFor(async () => (await countWhere(engine, { term: { source_shape: "winlogbeat6" } })) === 6202, 60_000, () => service.logTail());
    expect(await countDocs(engine, "helk-events-*")).toBe(before);
    expect(await countWhere(engine, { term: { source_shape: "winlogbeat7" } })).toBe(0); // overwritten by the winlogbeat 6 copy
    expect(await topicMessageCount(kafkaBrokers, names.deadLetter)).toBe(0);
  });
});

async function countWhere(engine: ReturnType<typeof engineAt>, query: unknown): Promise<number> {
  await engine.request({ method: "POST", path: "/helk-events-*/_refresh" });
  return (await engine.request<{ count: number }>({ method: "POST", path: "/helk-events-*/_count", body: { query } })).body.count;
}
