import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { EngineError } from "../../lib/engine.ts";
import {
  deadLetterBudget,
  deadLetterMessage,
  isTooLarge,
  KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
  MAX_DEAD_LETTER_RAW_BYTES,
  type MessageRef,
  recordBytes,
} from "../../enrichment/dead-letter.ts";
import { isDiskBlock, parseWatermark, pastWatermark } from "../../enrichment/disk.ts";
import { PipelineHealth } from "../../enrichment/health.ts";
import { GaveUp, pauseBeforeRetry } from "../../enrichment/retry.ts";
import { halves, refusesWholeRequest } from "../../enrichment/sink.ts";

const source = (value: Buffer | null, key: Buffer | null = Buffer.from("host")): MessageRef => ({
  topic: "winlogbeat",
  partition: 1,
  offset: "123456",
  timestamp: "1700000000000",
  key,
  value,
});

describe("dead letters always fit the topic's max.message.bytes", () => {
  const budget = deadLetterBudget(KAFKA_DEFAULT_MAX_MESSAGE_BYTES);

  it("an event of 1,048,000 bytes whose JSON escaping would grow it sixfold is cut to fit, keeping source, reason and original size", () => {
    // Control characters: each byte becomes \u00XX (6 characters) in the dead letter's JSON.
    const raw = Buffer.alloc(1_048_000, 0x01);
    const message = deadLetterMessage({ source: source(raw), stage: "index", reason: "engine refused the request holding only this document: 413" }, { maxBytes: budget });
    expect(recordBytes(message)).toBeLessThanOrEqual(budget);
    const value = JSON.parse(message.value);
    expect(value).toMatchObject({
      reason: "engine refused the request holding only this document: 413",
      stage: "index",
      source: { topic: "winlogbeat", partition: 1, offset: "123456", timestamp: "1700000000000" },
      raw_bytes: 1_048_000,
      raw_truncated: true,
      raw_encoding: "utf8",
    });
    // As much of the raw message as fits, not nothing: within one character's escape of the limit.
    expect(value.raw.length).toBeGreaterThan(budget / 6 - 1000);
    expect(recordBytes(message)).toBeGreaterThan(budget - 16);
  });

  it("an event of 5 MiB keeps at most MAX_DEAD_LETTER_RAW_BYTES, and the same cut holds for any smaller topic limit", () => {
    const raw = Buffer.alloc(5 * 1024 * 1024, 0x61);
    const plain = JSON.parse(deadLetterMessage({ source: source(raw), stage: "parse", reason: "too big" }, { maxBytes: budget }).value);
    expect(plain.raw).toHaveLength(MAX_DEAD_LETTER_RAW_BYTES);
    for (const topicMax of [200_000, 65_536, 10_000]) {
      const maxBytes = deadLetterBudget(topicMax);
      const message = deadLetterMessage({ source: source(raw), stage: "parse", reason: "r".repeat(50_000) }, { maxBytes });
      expect(recordBytes(message), `topic max ${topicMax}`).toBeLessThanOrEqual(maxBytes);
      const value = JSON.parse(message.value);
      expect(value.source.offset).toBe("123456");
      expect(value.raw_bytes).toBe(5 * 1024 * 1024);
      expect(value.reason.startsWith("rrrr")).toBe(true);
      expect(message.headers["helk-source-offset"]).toBe("123456");
    }
  });

  it("drops a joined document before cutting the raw message, and says so", () => {
    const document = { command_line: "c".repeat(600_000) };
    const message = deadLetterMessage({ source: source(Buffer.from('{"small":1}')), stage: "index", reason: "mapping", document }, { maxBytes: 100_000 });
    const value = JSON.parse(message.value);
    expect(value.document).toBeUndefined();
    expect(value.document_dropped).toBe(true);
    expect(value.raw).toBe('{"small":1}');
    const kept = JSON.parse(deadLetterMessage({ source: source(null), stage: "index", reason: "mapping", document: { a: 1 } }).value);
    expect(kept.document).toEqual({ a: 1 });
  });

  it("cuts UTF-8 text between characters and keeps binary as base64 within the limit", () => {
    const text = Buffer.from("é".repeat(600_000)); // two bytes each
    const value = JSON.parse(deadLetterMessage({ source: source(text), stage: "parse", reason: "r" }, { maxBytes: 50_000 }).value);
    expect(value.raw_encoding).toBe("utf8");
    expect(value.raw).toMatch(/^é+$/);
    const binary = Buffer.alloc(2 * 1024 * 1024, 0xff);
    const message = deadLetterMessage({ source: source(binary), stage: "parse", reason: "binary" }, { maxBytes: 50_000 });
    expect(recordBytes(message)).toBeLessThanOrEqual(50_000);
    expect(JSON.parse(message.value)).toMatchObject({ raw_encoding: "base64", raw_truncated: true, raw_bytes: 2 * 1024 * 1024 });
  });

  it("recognizes Kafka's too-large refusals, also as kafkajs wraps them", () => {
    expect(isTooLarge({ type: "MESSAGE_TOO_LARGE" })).toBe(true);
    expect(isTooLarge(new Error("The request included a message larger than the max message size the server will accept"))).toBe(true);
    expect(isTooLarge({ message: "x", cause: { type: "RECORD_LIST_TOO_LARGE" } })).toBe(true);
    expect(isTooLarge(new Error("Connection error: ECONNREFUSED"))).toBe(false);
  });
});

describe("bulk requests the engine refuses whole", () => {
  it("400 and 413 are split, other failures retried", () => {
    expect(refusesWholeRequest(new EngineError("too large", 413))).toBe(true);
    expect(refusesWholeRequest(new EngineError("bad", 400))).toBe(true);
    for (const status of [0, 401, 429, 500, 503]) expect(refusesWholeRequest(new EngineError("x", status)), String(status)).toBe(false);
    expect(refusesWholeRequest(new Error("400"))).toBe(false);
  });

  it("halves cover every document once, in order, and shrink down to single documents", () => {
    const docs = Array.from({ length: 7 }, (_, i) => i);
    const [a, b] = halves(docs);
    expect([...a, ...b]).toEqual(docs);
    expect(a.length - b.length).toBeLessThanOrEqual(1);
    // Splitting again and again reaches single documents in at most ceil(log2(n)) + 1 levels.
    let level = [docs];
    let depth = 0;
    while (level.some((d) => d.length > 1)) {
      level = level.flatMap((d) => (d.length > 1 ? halves(d) : [d]));
      depth++;
    }
    expect(level.flat()).toEqual(docs);
    expect(depth).toBeLessThanOrEqual(Math.ceil(Math.log2(docs.length)));
  });
});

describe("flood-stage watermarks", () => {
  const disk = { totalBytes: 100 * 1024 ** 3, availableBytes: 4 * 1024 ** 3 }; // 96 % used

  it("reads percentages, ratios and byte sizes as the engine does", () => {
    expect(parseWatermark("95%")).toEqual({ usedRatio: 0.95 });
    expect(parseWatermark("0.95")).toEqual({ usedRatio: 0.95 });
    expect(parseWatermark("1b")).toEqual({ freeBytes: 1 });
    expect(parseWatermark("500MB")).toEqual({ freeBytes: 500 * 1024 ** 2 });
    expect(parseWatermark("1.5gb")).toEqual({ freeBytes: 1.5 * 1024 ** 3 });
    expect(() => parseWatermark("lots")).toThrow(/not a disk watermark: "lots"/);
  });

  it("tells a disk past the flood stage from one under it, with Elasticsearch's max headroom", () => {
    expect(pastWatermark(disk, parseWatermark("95%"))).toBe(true);
    expect(pastWatermark(disk, parseWatermark("97%"))).toBe(false);
    expect(pastWatermark(disk, parseWatermark("5gb"))).toBe(true);
    expect(pastWatermark(disk, parseWatermark("1b"))).toBe(false);
    // 95 % would want 5 GiB free; a 1 GiB headroom caps that, and 4 GiB are free.
    expect(pastWatermark(disk, parseWatermark("95%"), 1024 ** 3)).toBe(false);
  });

  it("recognizes the flood-stage block among engine errors", () => {
    expect(isDiskBlock("cluster_block_exception", "index [helk-events-2024.01.01] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];")).toBe(true);
    expect(isDiskBlock("cluster_block_exception", "index [x] blocked by: [FORBIDDEN/8/index write (api)];")).toBe(false);
    expect(isDiskBlock("es_rejected_execution_exception", "rejected execution of flood stage")).toBe(false);
  });
});

describe("pipeline health", () => {
  it("a failure shows as a stall only after stallAfterMs, and is over with the first success", () => {
    const health = new PipelineHealth(30_000, 0);
    health.progressed(25_000); // other writes go through meanwhile: only the failure's own age counts
    health.failed("engine", "bulk request: did not answer", 1_000);
    expect(health.state(true, 30_999)).toEqual({ paused: [], stalled: [] });
    health.failed("engine", "bulk request: answered 503", 20_000); // keeps its start
    const { stalled, paused } = health.state(true, 31_000);
    expect(stalled).toEqual(["engine failing for 30 s: bulk request: answered 503"]);
    expect(paused).toEqual(stalled);
    health.succeeded("engine");
    health.progressed(31_500);
    expect(health.state(true, 32_000)).toEqual({ paused: [], stalled: [] });
  });

  it("work waiting with nothing written for stallAfterMs is a stall, whatever reported it; no work waiting is none", () => {
    const health = new PipelineHealth(30_000, 0);
    expect(health.state(false, 100_000).stalled).toEqual([]);
    expect(health.state(true, 129_000).stalled).toEqual([]);
    expect(health.state(true, 130_000).stalled).toEqual(["nothing written for 30 s"]);
    health.failed("dead-letter topic", "MESSAGE_TOO_LARGE", 131_000);
    health.succeeded("dead-letter topic");
    expect(health.state(true, 140_000).stalled).toEqual(["nothing written for 40 s; last failure: MESSAGE_TOO_LARGE"]);
  });

  it("a write block pauses at once and is lifted when unblocked", () => {
    const health = new PipelineHealth(30_000, 0);
    health.blocked("engine write block", "disk usage exceeded flood-stage watermark");
    expect(health.state(true, 1).paused).toEqual(["engine write block: disk usage exceeded flood-stage watermark"]);
    health.unblocked("engine write block");
    expect(health.state(true, 2).paused).toEqual([]);
  });
});

describe("the pause between retries", () => {
  const log = pino({ level: "silent" });

  it("is bounded by maxDelayMs (with jitter), reports the failure and heartbeats", async () => {
    const reasons: string[] = [];
    let heartbeats = 0;
    const options = { maxDelayMs: 40, log, onRetry: (r: string) => reasons.push(r), onWait: async () => void heartbeats++ };
    const started = Date.now();
    for (let failures = 1; failures <= 5; failures++) await pauseBeforeRetry("indexing", new Error("429"), failures, options);
    // 100 ms doubling, capped at 40 ms, ±25 %: five pauses of at most 50 ms each.
    expect(Date.now() - started).toBeLessThan(5 * 50 + 200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(5 * 30 - 5);
    expect(reasons).toEqual(Array(5).fill("indexing: 429"));
    expect(heartbeats).toBe(5);
  });

  it("ends with GaveUp once the service gives up (shutdown grace over)", async () => {
    await expect(pauseBeforeRetry("indexing", new Error("blocked"), 1, { maxDelayMs: 10, log, shouldGiveUp: () => true })).rejects.toThrow(GaveUp);
  });
});
