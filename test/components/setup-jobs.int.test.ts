import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTopics, installIndexTemplates } from "../../setup/commands.ts";
import { INDEX_TEMPLATES } from "../../enrichment/templates.ts";
import { createEngine, type Engine } from "../../lib/engine.ts";
import { serviceEndpoints } from "../setup/endpoints.ts";

// The deployment's setup jobs (`helk setup kafka-topics|index-templates`) against the real Kafka and OpenSearch.
// `helk setup engine-security` targets Elasticsearch's security API, which no server here provides.
let engine: Engine;
beforeAll(() => {
  engine = createEngine({ kind: "opensearch", url: serviceEndpoints().engineUrl });
});
afterAll(() => engine?.close());

describe("setup jobs", () => {
  it("creates missing topics with partitions, replication and retention, then only grows them", async () => {
    const brokers = serviceEndpoints().kafkaBrokers;
    const name = `helk-setup-test-${Date.now()}`;
    const topic = { name, partitions: 2, replicationFactor: 1, retentionHours: 5 };
    expect(await ensureTopics({ brokers }, [topic], 30)).toEqual([name]);
    expect(await ensureTopics({ brokers }, [{ ...topic, partitions: 4, retentionHours: 7 }], 30)).toEqual([]);

    const admin = new Kafka({ clientId: "helk-setup-test", brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [name] });
      expect(metadata.topics[0]!.partitions).toHaveLength(4);
      const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name, configNames: ["retention.ms"] }] });
      expect(configs.resources[0]!.configEntries[0]!.configValue).toBe(String(7 * 3_600_000));
      await admin.deleteTopics({ topics: [name] });
    } finally {
      await admin.disconnect();
    }
  });

  it("sets a topic's size budget (retention.bytes, and a segment a tenth of it) and removes it when the budget goes", async () => {
    const brokers = serviceEndpoints().kafkaBrokers;
    const name = `helk-setup-size-test-${Date.now()}`;
    const topic = { name, partitions: 1, replicationFactor: 1, retentionHours: 5, retentionBytes: 100 * 2 ** 20 };
    const admin = new Kafka({ clientId: "helk-setup-test", brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const configOf = async () => {
      const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name, configNames: ["retention.ms", "retention.bytes", "segment.bytes"] }] });
      return Object.fromEntries(described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
    };
    try {
      expect(await ensureTopics({ brokers }, [topic], 30)).toEqual([name]);
      expect(await configOf()).toEqual({ "retention.ms": String(5 * 3_600_000), "retention.bytes": String(100 * 2 ** 20), "segment.bytes": String(10 * 2 ** 20) });
      const { retentionBytes: _dropped, ...timeOnly } = topic;
      await ensureTopics({ brokers }, [timeOnly], 30);
      expect(await configOf()).toEqual({ "retention.ms": String(5 * 3_600_000), "retention.bytes": "-1", "segment.bytes": String(2 ** 30) });
      await admin.deleteTopics({ topics: [name] });
    } finally {
      await admin.disconnect();
    }
  });

  it("fails naming Kafka when no broker answers in time", async () => {
    await expect(ensureTopics({ brokers: ["127.0.0.1:1"] }, [{ name: "x", partitions: 1, replicationFactor: 1, retentionHours: 1 }], 1)).rejects.toThrow(/^kafka: gave up after 1 s/);
  });

  it("installs the HELK index templates", async () => {
    await installIndexTemplates(engine, 30);
    for (const name of Object.keys(INDEX_TEMPLATES)) {
      const { status } = await engine.request({ method: "HEAD", path: `/_index_template/${name}`, ignore: [404] });
      expect(status, name).toBe(200);
    }
  });
});
