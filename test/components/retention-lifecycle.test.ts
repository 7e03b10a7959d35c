import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createEngine } from "../../lib/engine.ts";
import type { RetentionPolicy } from "../../lib/contract/retention-env.ts";
import { ilmPolicy, runRetention } from "../../setup/retention.ts";

// The lifecycle paths of the retention job cannot meet a server here: no Elasticsearch can be had, and the
// harness's OpenSearch has no ISM plugin (its real run is test/components/retention.int.test.ts). This stand-in
// answers the calls as Elasticsearch's ILM and OpenSearch's ISM REST APIs document them, and keeps the indices,
// their settings and the policies, so what the job leaves behind can be checked.

const NOW = new Date("2026-12-02T16:00:00Z");
const day = (daysBack: number) => new Date(Date.UTC(2026, 11, 2) - daysBack * 86_400_000);
const name = (prefix: string, daysBack: number) => `${prefix}${day(daysBack).toISOString().slice(0, 10).replaceAll("-", ".")}`;
const policy: RetentionPolicy = { events: { days: 30 }, processNetwork: { days: 30 }, alerts: { days: 365 } };

interface StandIn {
  url: string;
  indices: Map<string, { bytes: number; settings: Record<string, unknown> }>;
  policies: Map<string, { body: any; seqNo: number }>;
  calls: string[];
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
  server = undefined;
});

async function standIn(kind: "elasticsearch" | "opensearch", ism: boolean, indices: Record<string, number>): Promise<StandIn> {
  const state: StandIn = {
    url: "",
    indices: new Map(Object.entries(indices).map(([index, bytes]) => [index, { bytes, settings: {} }])),
    policies: new Map(),
    calls: [],
  };
  const matching = (patterns: string) =>
    [...state.indices.keys()].filter((index) => patterns.split(",").some((p) => (p.endsWith("*") ? index.startsWith(p.slice(0, -1)) : index === p)));
  server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const path = decodeURIComponent(url.pathname);
      const body = text ? JSON.parse(text) : undefined;
      state.calls.push(`${req.method} ${path}`);
      const answer = (status: number, json: unknown) => {
        res.writeHead(status, { "content-type": "application/json", ...(kind === "elasticsearch" ? { "x-elastic-product": "Elasticsearch" } : {}) });
        res.end(JSON.stringify(json));
      };
      const notFound = () => answer(404, { error: { type: "resource_not_found_exception", reason: `${path} not found` }, status: 404 });
      let m: RegExpExecArray | null;
      if (path.startsWith("/_plugins/_ism") && !ism) return answer(400, { error: { type: "illegal_argument_exception", reason: `no handler found for uri [${path}]` } });
      if (req.method === "GET" && path === "/_plugins/_ism/policies") return answer(200, { policies: [], total_policies: 0 });
      if ((m = /^\/_cat\/indices\/(.+)$/.exec(path)))
        return answer(200, matching(m[1]!).map((index) => ({ index, "store.size": String(state.indices.get(index)!.bytes) })));
      if (req.method === "PUT" && (m = /^\/_ilm\/policy\/(.+)$/.exec(path))) {
        state.policies.set(m[1]!, { body, seqNo: 0 });
        return answer(200, { acknowledged: true });
      }
      if (req.method === "GET" && (m = /^\/(.+)\/_settings\/index\.lifecycle\.\*$/.exec(path)))
        return answer(200, Object.fromEntries(matching(m[1]!).map((index) => [index, { settings: state.indices.get(index)!.settings }])));
      if (req.method === "PUT" && (m = /^\/([^/]+)\/_settings$/.exec(path))) {
        const index = state.indices.get(m[1]!);
        if (!index) return notFound();
        const lifecycle = { name: body["index.lifecycle.name"], origination_date: String(body["index.lifecycle.origination_date"]) };
        index.settings = { index: { lifecycle } };
        return answer(200, { acknowledged: true });
      }
      if ((m = /^\/_plugins\/_ism\/policies\/(.+)$/.exec(path))) {
        const current = state.policies.get(m[1]!);
        if (req.method === "GET") return current ? answer(200, { _id: m[1], _seq_no: current.seqNo, _primary_term: 1, policy: current.body.policy }) : notFound();
        // ISM refuses to overwrite a policy without the sequence number it was read at.
        if (current && url.searchParams.get("if_seq_no") !== String(current.seqNo))
          return answer(409, { error: { type: "version_conflict_engine_exception", reason: "version conflict" } });
        state.policies.set(m[1]!, { body, seqNo: (current?.seqNo ?? -1) + 1 });
        return answer(current ? 200 : 201, { _id: m[1] });
      }
      if (req.method === "POST" && (m = /^\/_plugins\/_ism\/(add|change_policy)\/(.+)$/.exec(path)))
        return answer(200, { updated_indices: matching(m[2]!).length, failures: false, failed_indices: [] });
      if (req.method === "DELETE") {
        for (const index of path.slice(1).split(",")) state.indices.delete(index);
        return answer(200, { acknowledged: true });
      }
      notFound();
    });
  });
  await new Promise<void>((ok) => server!.listen(0, "127.0.0.1", ok));
  state.url = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  return state;
}

describe("the retention job with a lifecycle plugin (stand-in server)", () => {
  it("Elasticsearch: puts one ILM policy per class and attaches it to each dated index with its day as origination date", async () => {
    const es = await standIn("elasticsearch", false, { [name("helk-events-", 0)]: 10, [name("helk-events-", 400)]: 10, "helk-events-archive": 10 });
    const engine = createEngine({ kind: "elasticsearch", url: es.url });
    try {
      const report = await runRetention(engine, policy, { now: NOW, log: () => {} });
      expect(report.lifecycle).toBe("ilm");
      // Ages are ILM's: nothing deleted by the job.
      expect(report.deleted).toEqual([]);
      expect([...es.policies.keys()].sort()).toEqual(["helk-alerts-retention", "helk-events-retention", "helk-process-network-retention"]);
      expect(es.policies.get("helk-events-retention")!.body).toEqual(ilmPolicy({ days: 30 }));
      expect(es.policies.get("helk-events-retention")!.body.policy.phases.delete.min_age).toBe("31d");
      expect(es.indices.get(name("helk-events-", 400))!.settings).toEqual({
        index: { lifecycle: { name: "helk-events-retention", origination_date: String(day(400).getTime()) } },
      });
      expect(es.indices.get("helk-events-archive")!.settings).toEqual({});

      // A second run finds them attached and sets nothing again; a size budget is still the job's.
      es.calls.length = 0;
      const sized = await runRetention(engine, { ...policy, events: { days: 30, maxBytes: 15 } }, { now: NOW, log: () => {} });
      expect(es.calls.filter((call) => call.endsWith("/_settings"))).toEqual([]);
      expect(sized.deleted).toEqual([name("helk-events-", 400)]);
    } finally {
      await engine.close();
    }
  });

  it("OpenSearch with ISM: puts one ISM policy per class (updating it at the version read) and still deletes by the name's day", async () => {
    const os = await standIn("opensearch", true, { [name("helk-events-", 10)]: 10, [name("helk-events-", 40)]: 10 });
    const engine = createEngine({ kind: "opensearch", url: os.url });
    try {
      const first = await runRetention(engine, policy, { now: NOW, log: () => {} });
      expect(first.lifecycle).toBe("ism");
      expect(first.deleted).toEqual([name("helk-events-", 40)]);
      const events = os.policies.get("helk-events-retention")!.body.policy;
      expect(events.ism_template).toEqual([{ index_patterns: ["helk-events-*"], priority: 100 }]);
      expect(events.states[0].transitions).toEqual([{ state_name: "delete", conditions: { min_index_age: "31d" } }]);
      expect(os.calls).toContain("POST /_plugins/_ism/add/helk-events-*");
      expect(os.calls).toContain("POST /_plugins/_ism/change_policy/helk-events-*");

      await runRetention(engine, { ...policy, events: { days: 7 } }, { now: NOW, log: () => {} });
      expect(os.policies.get("helk-events-retention")).toMatchObject({ seqNo: 1, body: { policy: { states: [{ transitions: [{ conditions: { min_index_age: "8d" } }] }, {}] } } });
    } finally {
      await engine.close();
    }
  });

  it("OpenSearch without ISM: no policy, the job deletes; a dry run installs and deletes nothing", async () => {
    const os = await standIn("opensearch", false, { [name("helk-events-", 40)]: 10 });
    const engine = createEngine({ kind: "opensearch", url: os.url });
    try {
      const lines: string[] = [];
      const dry = await runRetention(engine, policy, { now: NOW, dryRun: true, log: (line) => lines.push(line) });
      expect(dry).toMatchObject({ lifecycle: "none", deleted: [] });
      expect(lines[0]).toBe(`would delete ${name("helk-events-", 40)} (10 B; 40 days old, past 30)`);
      expect(os.calls.filter((call) => !call.startsWith("GET"))).toEqual([]);
      expect((await runRetention(engine, policy, { now: NOW, log: () => {} })).deleted).toEqual([name("helk-events-", 40)]);
      expect(os.indices.size).toBe(0);
    } finally {
      await engine.close();
    }
  });
});
