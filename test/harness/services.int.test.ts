import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createEngine } from "../../lib/engine.ts";
import { serviceEndpoints, testKafka } from "../setup/endpoints.ts";

// One real round trip against each server of this run, through the same endpoints every other suite gets.

describe("Kafka of the test run", () => {
  it("creates a topic, produces a message and consumes it in a consumer group", async () => {
    const kafka = testKafka("harness-test");
    const topic = `harness-roundtrip-${randomUUID()}`;
    const admin = kafka.admin();
    const producer = kafka.producer();
    const consumer = kafka.consumer({ groupId: `harness-${randomUUID()}` });
    try {
      await admin.connect();
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true })).toBe(true);
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(metadata.topics[0]?.partitions).toHaveLength(2);

      await producer.connect();
      const value = `hello ${randomUUID()}`;
      await producer.send({ topic, messages: [{ key: "k1", value }] });

      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = await new Promise<string>((resolve) => {
        void consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) });
      });
      expect(received).toBe(value);
    } finally {
      await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
    }
  });
});

describe("OpenSearch of the test run", () => {
  const engine = createEngine({ kind: "opensearch", url: serviceEndpoints().engineUrl, requestTimeoutMs: 10_000 });
  afterAll(() => engine.close());

  it("answers as OpenSearch 2.19 with the common modules", async () => {
    const root = await engine.request<{ version: { distribution: string; number: string } }>({ method: "GET", path: "/" });
    expect(root.body.version.distribution).toBe("opensearch");
    expect(root.body.version.number).toMatch(/^2\.19\./);
    const plugins = await engine.request<Array<{ component: string }>>({ method: "GET", path: "/_cat/plugins", query: { format: "json" } });
    const components = plugins.body.map((p) => p.component).join(" ");
    for (const module of ["PainlessPlugin", "ReindexPlugin", "CommonAnalysisPlugin", "MapperExtrasPlugin", "ParentJoinPlugin"]) {
      expect(components).toContain(module);
    }
  });

  it("indexes through a composable template and alias, then searches and aggregates", async () => {
    const name = `harness-${randomUUID()}`;
    await engine.request({
      method: "PUT",
      path: `/_index_template/${name}`,
      body: {
        index_patterns: [`${name}-*`],
        template: {
          settings: { number_of_shards: 1, number_of_replicas: 0 },
          mappings: { properties: { "@timestamp": { type: "date" }, host_name: { type: "keyword" } } },
          aliases: { [name]: {} },
        },
      },
    });
    await engine.request({
      method: "POST",
      path: "/_bulk",
      query: { refresh: "true" },
      bulk: [
        { index: { _index: `${name}-a` } },
        { "@timestamp": "2026-01-01T00:00:00Z", host_name: "wkst01" },
        { index: { _index: `${name}-a` } },
        { "@timestamp": "2026-01-01T01:00:00Z", host_name: "wkst01" },
        { index: { _index: `${name}-b` } },
        { "@timestamp": "2026-01-02T00:00:00Z", host_name: "dc01" },
      ],
    });
    const result = await engine.request<{
      hits: { total: { value: number } };
      aggregations: { hosts: { buckets: Array<{ key: string; doc_count: number }> }; days: { buckets: unknown[] } };
    }>({
      method: "POST",
      path: `/${name}/_search`,
      body: {
        query: { term: { host_name: "wkst01" } },
        aggs: {
          hosts: { terms: { field: "host_name" } },
          days: { date_histogram: { field: "@timestamp", calendar_interval: "day" } },
        },
      },
    });
    expect(result.body.hits.total.value).toBe(2);
    expect(result.body.aggregations.hosts.buckets).toEqual([{ key: "wkst01", doc_count: 2 }]);
    expect(result.body.aggregations.days.buckets).toHaveLength(1);

    const deleted = await engine.request<{ deleted: number }>({
      method: "POST",
      path: `/${name}/_delete_by_query`,
      query: { refresh: "true" },
      body: { query: { script: { script: { lang: "painless", source: "doc['host_name'].value == 'dc01'" } } } },
    });
    expect(deleted.body.deleted).toBe(1);
    await engine.request({ method: "DELETE", path: `/${name}-*` });
    await engine.request({ method: "DELETE", path: `/_index_template/${name}` });
  });
});

describe("Jupyter of the test run", () => {
  const api = async <T>(method: string, path: string): Promise<T> => {
    const { jupyterUrl, jupyterToken } = serviceEndpoints();
    const response = await fetch(`${jupyterUrl}${path}`, {
      method,
      headers: { Authorization: `token ${jupyterToken}` },
      signal: AbortSignal.timeout(30_000),
    });
    expect(response.ok, `${method} ${path} answered ${response.status}`).toBe(true);
    return (response.status === 204 ? undefined : await response.json()) as T;
  };

  it("refuses requests without the token", async () => {
    const response = await fetch(`${serviceEndpoints().jupyterUrl}/api/kernels`);
    expect(response.status).toBe(403);
  });

  it("lists the python3 kernel and runs one", async () => {
    const specs = await api<{ default: string; kernelspecs: Record<string, unknown> }>("GET", "/api/kernelspecs");
    expect(Object.keys(specs.kernelspecs)).toContain("python3");
    const kernel = await api<{ id: string; name: string }>("POST", "/api/kernels");
    expect(kernel.name).toBe(specs.default);
    const kernels = await api<Array<{ id: string }>>("GET", "/api/kernels");
    expect(kernels.map((k) => k.id)).toContain(kernel.id);
    await api("DELETE", `/api/kernels/${kernel.id}`);
  });
});
