import { Kafka, logLevel, Partitioners } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recording, recordingEvents } from "../../lib/datasets.ts";
import { serviceEndpoints } from "../setup/endpoints.ts";
import {
  allDocs,
  countDocs,
  createTopics,
  engineAt,
  readDeadLetters,
  resetIndices,
  ServiceProcess,
  serviceEnv,
  testNames,
} from "../../harness/enrichment-process.ts";

const SYSMON = "Microsoft-Windows-Sysmon/Operational";

describe("poison messages", () => {
  const names = testNames("poison");
  let service: ServiceProcess;

  beforeAll(async () => {
    const { kafkaBrokers, engineUrl } = serviceEndpoints();
    await resetIndices(engineAt(engineUrl));
    await createTopics(kafkaBrokers, names, 1);
    service = await ServiceProcess.start(serviceEnv(kafkaBrokers, engineUrl, names));
  });
  afterAll(async () => {
    await service?.stop();
  });

  it("go to the dead-letter topic with a reason and their source offset, while the good events around them are indexed", async () => {
    const { kafkaBrokers, engineUrl } = serviceEndpoints();
    // Read the whole (small) recording: leaving the zip stream early trips node-stream-zip (ESPIPE).
    const all: Record<string, unknown>[] = [];
    for await (const e of recordingEvents(recording("msf_record_mic.zip").path)) all.push(e);
    const good = all.slice(0, 300);
    const processCreate = good.find((e) => e.Channel === SYSMON && e.EventID === 1) ?? good[0]!;
    const connection = good.find((e) => e.Channel === SYSMON && e.EventID === 3) ?? good[0]!;

    const poison: { what: string; value: Buffer | string | null; reason: RegExp; stage: string }[] = [
      { what: "unparseable JSON", value: '{"Channel": "Security", "EventID":', reason: /^not JSON/, stage: "parse" },
      { what: "binary garbage", value: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0xc3, 0x28]), reason: /not UTF-8/, stage: "parse" },
      { what: "a 2 MiB event", value: JSON.stringify({ ...processCreate, RecordNumber: 1, CommandLine: "x".repeat(2 * 1024 * 1024) }), reason: /exceeds the 1048576-byte limit/, stage: "parse" },
      { what: "a wrong field type", value: JSON.stringify({ ...processCreate, RecordNumber: 2, ProcessId: "not-a-pid" }), reason: /ProcessId must be a non-negative integer/, stage: "parse" },
      { what: "an event id of the wrong type", value: JSON.stringify({ ...processCreate, RecordNumber: 3, EventID: { id: 1 } }), reason: /EventID must be an event id/, stage: "parse" },
      { what: "an unknown channel", value: JSON.stringify({ ...processCreate, RecordNumber: 4, Channel: "Bogus/Channel" }), reason: /unknown channel "Bogus\/Channel"/, stage: "parse" },
      { what: "an unknown shape", value: JSON.stringify({ hello: "world" }), reason: /unknown event shape/, stage: "parse" },
      { what: "an empty message", value: null, reason: /^not JSON/, stage: "parse" },
      {
        what: "a value the engine's mapping rejects",
        value: JSON.stringify({ ...connection, RecordNumber: 999_999_001, ProcessGuid: "{00000000-0000-0000-0000-00000000dead}", SourceIp: "not-an-ip" }),
        reason: /mapper_parsing_exception.*src_ip|src_ip.*mapper_parsing_exception/s,
        stage: "index",
      },
    ];

    // Good events with a poison message after every 30 of them; remember where each poison landed.
    const producer = new Kafka({ clientId: "poison-test", brokers: kafkaBrokers, logLevel: logLevel.NOTHING }).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const poisonOffsets = new Map<string, string>();
    try {
      let next = 0;
      for (let i = 0; i < good.length; i++) {
        await producer.send({ topic: names.input, messages: [{ value: JSON.stringify(good[i]) }] });
        if (i % 30 === 29 && next < poison.length) {
          const p = poison[next++]!;
          const [meta] = await producer.send({ topic: names.input, messages: [{ value: p.value }] });
          poisonOffsets.set(p.what, meta!.baseOffset!);
        }
      }
      expect(next).toBe(poison.length);
    } finally {
      await producer.disconnect();
    }

    const letters = await readDeadLetters(kafkaBrokers, names.deadLetter, poison.length, 120_000);
    expect(letters.length, `dead letters: ${JSON.stringify(letters.map((l) => l.reason))}\n${service.logTail()}`).toBe(poison.length);
    for (const p of poison) {
      const letter = letters.find((l) => l.source.offset === poisonOffsets.get(p.what));
      expect(letter, `no dead letter for ${p.what}`).toBeDefined();
      expect(letter!.reason, p.what).toMatch(p.reason);
      expect(letter!.stage, p.what).toBe(p.stage);
      expect(letter!.source).toMatchObject({ topic: names.input, partition: 0 });
    }
    const big = letters.find((l) => l.source.offset === poisonOffsets.get("a 2 MiB event"))!;
    expect(big.raw_bytes).toBeGreaterThan(2 * 1024 * 1024);

    // Every good event is indexed, and nothing else.
    const engine = engineAt(engineUrl);
    expect(await countDocs(engine, "helk-events-*")).toBe(good.length);
    const docs = await allDocs<{ record_number: number }>(engine, "helk-events-*", ["record_number"]);
    expect(new Set(docs.map((d) => d.record_number))).toEqual(new Set(good.map((e) => e.RecordNumber)));
    expect(await service.metric("helk_enrichment_dead_lettered_total")).toBe(poison.length);
    expect(service.child.exitCode).toBeNull();
  });
});
