import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dailyIndex, EVENTS_INDEX_PREFIX } from "../../enrichment/transforms/document-id.ts";
import { DEFAULT_CLOCK_SKEW_THRESHOLD_SECONDS } from "../../enrichment/transforms/index.ts";
import { recordingEvents } from "../../lib/datasets.ts";
import { serviceEndpoints } from "../setup/endpoints.ts";
import { helk } from "../../harness/helk-cli.ts";
import { expectedJoins } from "./raw-expectations.ts";
import { allDocs, countDocs, createTopics, engineAt, readDeadLetters, resetIndices, ServiceProcess, serviceEnv, testNames, waitFor } from "../../harness/enrichment-process.ts";
import { CLOCK_SHIFTS, isConnection, SKEW_RECORDINGS, withShiftedUtcTime } from "./skewed-recordings.ts";

/** Each shift's copy of the connections gets its own record numbers: `shift index × 10⁹ + recorded number`. */
const COPY = 1_000_000_000;
const NOT_JSON = ['{"Channel": "Security", "EventID":', "a line of plain text"];

describe("connections whose host clock moved days away from their process, joined from the index after a restart", () => {
  const names = testNames("skew");
  const dir = mkdtempSync(join(tmpdir(), "helk-skew-"));
  const processFile = join(dir, "processes.jsonl");
  const connectionFile = join(dir, "connections.jsonl");
  const started: ServiceProcess[] = [];
  let processes: Record<string, unknown>[] = [];
  let connections: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const { kafkaBrokers, engineUrl } = serviceEndpoints();
    await resetIndices(engineAt(engineUrl));
    await createTopics(kafkaBrokers, names);
    const recorded: Record<string, unknown>[] = [];
    for (const path of SKEW_RECORDINGS) for await (const e of recordingEvents(path)) recorded.push(e);
    // Everything but the connections first; then each connection three times, its UtcTime shifted by each amount.
    processes = recorded.filter((e) => !isConnection(e));
    connections = CLOCK_SHIFTS.flatMap(({ ms }, k) =>
      recorded.filter(isConnection).map((c) => ({ ...withShiftedUtcTime(c, ms), RecordNumber: (k + 1) * COPY + Number(c.RecordNumber) })),
    );
    writeFileSync(processFile, processes.map((e) => JSON.stringify(e)).join("\n"));
    const lines = connections.map((e) => JSON.stringify(e));
    lines.splice(10, 0, NOT_JSON[0]!);
    lines.splice(500, 0, NOT_JSON[1]!);
    writeFileSync(connectionFile, `${lines.join("\r\n")}\r\n`);
  });
  afterAll(async () => {
    for (const s of started) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("joins exactly what an independent computation (same host and ProcessGuid) over the same events joins", async () => {
    const { kafkaBrokers, engineUrl } = serviceEndpoints();
    const engine = engineAt(engineUrl);
    const env = serviceEnv(kafkaBrokers, engineUrl, names);
    const replay = ["replay", "--brokers", kafkaBrokers.join(","), "--topic", names.input];
    const t0 = Date.now();
    const stage = (what: string) => console.log(`clock skew: ${what} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // The process creates, from a plain JSON-lines file, through a first service.
    const first = await ServiceProcess.start(env);
    started.push(first);
    const phase1 = await helk([...replay, processFile]);
    expect(phase1.stdout, phase1.stderr).toContain(`${processes.length}  ${processFile}`);
    const processDocs = new Set(processes.map((e) => `${String(e.Hostname).toLowerCase()}|${String(e.Channel).toLowerCase()}|${e.RecordNumber}`)).size;
    stage(`${processes.length} events other than connections produced`);
    await waitFor(async () => (await countDocs(engine, "helk-events-*")) >= processDocs, 240_000, () => first.logTail());
    stage("they are indexed");
    expect(await first.stop()).toEqual({ code: 0, signal: null });

    // A new service (empty join cache) gets the connections from standard input: every process comes from the index.
    const second = await ServiceProcess.start(env);
    started.push(second);
    const phase2 = await helk([...replay, "-"], {}, connectionFile);
    stage(`${connections.length} shifted connections produced from standard input`);
    expect(phase2.stdout, phase2.stderr).toContain(`${connections.length + NOT_JSON.length}  standard input (${NOT_JSON.length} lines not JSON, sent as they are)`);
    // Done when every connection is indexed and counted joined or unjoined, and every join counted is indexed.
    const settled = async () => {
      const joinedCount = await second.metric("helk_enrichment_joined_total");
      return (
        joinedCount + (await second.metric("helk_enrichment_unjoined_total")) >= connections.length &&
        (await countDocs(engine, "helk-process-network-*")) >= joinedCount &&
        (await countDocs(engine, "helk-events-*")) >= processDocs + connections.length
      );
    };
    await waitFor(settled, 240_000, () => second.logTail());
    stage("the connections are indexed and each joined or counted unjoined");

    const expected = expectedJoins([...processes, ...connections]);
    expect(expected.size).toBe(3 * 33);
    const joined = await allDocs<Record<string, unknown>>(engine, "helk-process-network-*", [
      "host_name", "record_number", "process_path", "process_timestamp", "shipper_timestamp", "clock_skew_seconds", "clock_skewed", "@timestamp",
    ]);
    expect(new Set(joined.map((j) => `${j.host_name}|${j.record_number}`))).toEqual(new Set(expected.keys()));
    expect(joined).toHaveLength(expected.size);
    for (const [k, { ms }] of CLOCK_SHIFTS.entries()) {
      const ofShift = joined.filter((j) => Math.floor(Number(j.record_number) / COPY) === k + 1);
      expect(ofShift).toHaveLength([...expected.keys()].filter((key) => Math.floor(Number(key.split("|")[1]) / COPY) === k + 1).length);
      for (const j of ofShift) {
        expect(j.process_path).toBe(expected.get(`${j.host_name}|${j.record_number}`)!.image);
        expect(Math.abs(Number(j.clock_skew_seconds) - ms / 1000)).toBeLessThan(DEFAULT_CLOCK_SKEW_THRESHOLD_SECONDS);
        expect(j.clock_skewed).toBe(true);
        expect(Math.abs(Date.parse(String(j["@timestamp"])) - Date.parse(String(j.process_timestamp)) - ms)).toBeLessThan(86_400_000);
      }
    }
    expect(await second.metric("helk_enrichment_joined_total")).toBe(expected.size);
    expect(await second.metric("helk_enrichment_unjoined_total")).toBe(connections.length - expected.size);

    // The lines that are not JSON were dead-lettered; the replay went on past them.
    const letters = await readDeadLetters(kafkaBrokers, names.deadLetter, NOT_JSON.length);
    expect(letters.map((l) => l.raw).sort()).toEqual([...NOT_JSON].sort());
    for (const l of letters) expect(l.reason).toMatch(/^not JSON: /);
  }, 600_000);

  it("files each connection under the day of its own (shifted) time, the shipper's time beside it", async () => {
    const engine = engineAt(serviceEndpoints().engineUrl);
    const res = await engine.request<{ hits: { hits: { _index: string; _source: { "@timestamp": string; shipper_timestamp: string; record_number: number } }[] } }>({
      method: "POST",
      path: `/${EVENTS_INDEX_PREFIX}*/_search`,
      body: { size: 5000, query: { term: { event_id: 3 } }, _source: ["@timestamp", "shipper_timestamp", "record_number"] },
    });
    const hits = res.body.hits.hits;
    expect(hits).toHaveLength(connections.length);
    for (const { _index, _source } of hits) {
      const shift = CLOCK_SHIFTS[Math.floor(_source.record_number / COPY) - 1]!;
      expect(_index).toBe(dailyIndex(EVENTS_INDEX_PREFIX, _source["@timestamp"]));
      expect(Math.abs(Date.parse(_source["@timestamp"]) - Date.parse(_source.shipper_timestamp) - shift.ms)).toBeLessThan(DEFAULT_CLOCK_SKEW_THRESHOLD_SECONDS * 1000);
    }
  });
});
