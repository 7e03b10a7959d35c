import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../enrichment/config.ts";

const minimal = { HELK_KAFKA_BROKERS: "127.0.0.1:9092", HELK_ENGINE_KIND: "opensearch", HELK_ENGINE_URL: "http://127.0.0.1:9200" };

describe("enrichment configuration from the environment", () => {
  it("applies the contract's defaults", () => {
    const config = loadConfig(minimal);
    expect(config.HELK_INPUT_TOPICS).toEqual(["winlogbeat"]);
    expect(config.HELK_DEAD_LETTER_TOPIC).toBe("helk-dead-letter");
    expect(config.HELK_CONSUMER_GROUP).toBe("helk-enrichment");
    expect(config.HELK_HTTP_HOST).toBe("127.0.0.1");
    expect(config.HELK_HTTP_PORT).toBe(8080);
  });

  it("parses lists and numbers", () => {
    const config = loadConfig({ ...minimal, HELK_KAFKA_BROKERS: "a:1, b:2", HELK_INPUT_TOPICS: "x,y,", HELK_JOIN_WAIT_MS: "250" });
    expect(config.HELK_KAFKA_BROKERS).toEqual(["a:1", "b:2"]);
    expect(config.HELK_INPUT_TOPICS).toEqual(["x", "y"]);
    expect(config.HELK_JOIN_WAIT_MS).toBe(250);
  });

  it("names every bad or missing variable, never a password's value", () => {
    let message = "";
    try {
      loadConfig({ HELK_KAFKA_BROKERS: "kafka", HELK_ENGINE_URL: "ftp://x", HELK_HTTP_PORT: "70000", HELK_JOIN_WAIT_MS: "soon", HELK_ENGINE_PASSWORD: "" });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/HELK_KAFKA_BROKERS \("kafka"\): each broker must be host:port/);
    expect(message).toMatch(/HELK_ENGINE_KIND \(not set\)/);
    expect(message).toMatch(/HELK_ENGINE_URL \("ftp:\/\/x"\): must be an http\(s\) URL/);
    expect(message).toMatch(/HELK_HTTP_PORT \("70000"\)/);
    expect(message).toMatch(/HELK_JOIN_WAIT_MS \("soon"\): must be a whole number/);
  });
});
