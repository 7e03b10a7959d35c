import { describe, expect, it } from "vitest";
import { deadLetterMessage, MAX_DEAD_LETTER_RAW_BYTES, type MessageRef } from "../../enrichment/dead-letter.ts";

const source = (value: Buffer | null): MessageRef => ({ topic: "winlogbeat", partition: 2, offset: "41", timestamp: "1700000000000", key: Buffer.from("host"), value });

describe("dead-letter messages", () => {
  it("carry reason, stage, source position and the original text", () => {
    const message = deadLetterMessage({ source: source(Buffer.from('{"a":')), stage: "parse", reason: "not JSON: x" }, { now: new Date(0) });
    expect(JSON.parse(message.value)).toEqual({
      reason: "not JSON: x",
      stage: "parse",
      source: { topic: "winlogbeat", partition: 2, offset: "41", timestamp: "1700000000000" },
      raw: '{"a":',
      raw_encoding: "utf8",
      raw_bytes: 5,
      raw_truncated: false,
      failed_at: "1970-01-01T00:00:00.000Z",
    });
    expect(message.headers).toMatchObject({ "helk-reason": "not JSON: x", "helk-source-topic": "winlogbeat", "helk-source-partition": "2", "helk-source-offset": "41" });
    expect(message.key?.toString()).toBe("host");
  });

  it("keep binary messages as base64 and cut large ones", () => {
    const binary = JSON.parse(deadLetterMessage({ source: source(Buffer.from([0xff, 0x00, 0xfe])), stage: "parse", reason: "binary" }).value);
    expect(binary).toMatchObject({ raw: "/wD+", raw_encoding: "base64", raw_bytes: 3 });
    const big = JSON.parse(deadLetterMessage({ source: source(Buffer.alloc(3 * 1024 * 1024, 0x61)), stage: "parse", reason: "too big" }).value);
    expect(big.raw).toHaveLength(MAX_DEAD_LETTER_RAW_BYTES);
    expect(big).toMatchObject({ raw_bytes: 3 * 1024 * 1024, raw_truncated: true });
  });

  it("handle an empty (null) message", () => {
    expect(JSON.parse(deadLetterMessage({ source: source(null), stage: "parse", reason: "empty" }).value)).toMatchObject({ raw: "", raw_bytes: 0 });
  });
});
