import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ECS_ALIASES, INDEX_TEMPLATES } from "../../enrichment/templates.ts";
import { Enricher, type EventDocument } from "../../enrichment/transforms/index.ts";
import { recording, recordingEvents } from "../../lib/datasets.ts";
import { createEngine, type Engine } from "../../lib/engine.ts";
import { serviceEndpoints } from "../setup/endpoints.ts";
import { bulkIndexLines } from "../support/bulk.ts";

/**
 * ECS field aliases on the real OpenSearch: real events (Security-Datasets recordings below) enriched and
 * indexed under the `helk-events` template's mappings; each query written with ECS names must return exactly
 * the hits of the same query with our names, and some. The template body is installed under its own index
 * pattern so this suite never touches the `helk-events-*` indices other suites use.
 */

const RECORDINGS = [
  "covenant_copy_smb_CreateRequest.zip", // Sysmon 1/3, Security 4624, 4769, 5140, 5145, 5156
  "cmd_discover_iexplorer_version_registry.zip", // Sysmon 1, 12, 13, Security 4688, 1102
  "empire_launcher_vbs.zip", // PowerShell 4103/4104
  "psh_powershell_httplistener.zip", // Sysmon 22
];
const INDEX = "helk-ecs-test-events";

let engine: Engine;
const docs: EventDocument[] = [];

beforeAll(async () => {
  engine = createEngine({ kind: "opensearch", url: serviceEndpoints().engineUrl, requestTimeoutMs: 180_000 });
  await engine.request({ method: "DELETE", path: INDEX, ignore: [404] });
  const template = INDEX_TEMPLATES["helk-events"];
  await engine.request({ method: "PUT", path: "/_index_template/helk-ecs-test", body: { ...template, index_patterns: ["helk-ecs-test-*"] } });
  const enricher = new Enricher();
  const lines: unknown[] = [];
  for (const name of RECORDINGS) {
    for await (const raw of recordingEvents(recording(name).path)) {
      const outcome = enricher.enrich(raw, { tag: undefined, now: 0 });
      if (!outcome.ok) throw new Error(`${name}: rejected: ${outcome.reason}`);
      docs.push(outcome.event.doc);
      lines.push({ index: { _index: INDEX, _id: outcome.event.id } }, outcome.event.doc);
    }
  }
  await bulkIndexLines(engine, lines);
  await engine.request({ method: "POST", path: `/${INDEX}/_refresh` });
}, 600_000);

afterAll(async () => {
  await engine?.request({ method: "DELETE", path: INDEX, ignore: [404] });
  await engine?.request({ method: "DELETE", path: "/_index_template/helk-ecs-test", ignore: [404] });
  await engine?.close();
});

async function hitIds(query: Record<string, unknown>): Promise<string[]> {
  const res = await engine.request<{ hits: { hits: { _id: string }[]; total: { value: number } } }>({
    method: "POST",
    path: `/${INDEX}/_search`,
    body: { size: 10_000, _source: false, track_total_hits: true, query, sort: ["_doc"] },
  });
  expect(res.body.hits.hits.length).toBe(res.body.hits.total.value);
  return res.body.hits.hits.map((h) => h._id).sort();
}

/** The most frequent value of a field among the indexed documents (so each query has hits). */
function commonValue(field: string): unknown {
  const counts = new Map<unknown, number>();
  for (const d of docs) {
    const v = field.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], d);
    if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const best = [...counts].sort((a, b) => b[1] - a[1])[0];
  if (best === undefined) throw new Error(`no document has ${field}`);
  return best[0];
}

const term = (field: string, value: unknown) => ({ term: { [field]: value } });

describe("ECS-named queries return the same hits as our names", () => {
  it("indexed the recordings", () => {
    expect(docs.length).toBeGreaterThan(1000);
  });

  it.each([
    ["event.code", "event_id"],
    ["event.action", "action"],
    ["winlog.channel", "channel"],
    ["host.name", "host_name"],
    ["process.executable", "process_path"],
    ["process.name", "process_name"],
    ["process.parent.name", "parent_process_name"],
    ["process.pid", "process_id"],
    ["user.name", "user_name"],
    ["user.target.name", "target_user_name"],
    ["source.ip", "src_ip"],
    ["destination.ip", "dst_ip"],
    ["destination.port", "dst_port"],
    ["network.transport", "network_protocol"],
    ["winlog.logon.type", "logon_type_description"],
    ["winlog.event_data.LogonType", "event_data.LogonType"],
    ["winlog.event_data.TargetObject", "event_data.TargetObject"],
    ["registry.path", "registry_key_path"],
    ["dns.question.name", "dns_query_name"],
    ["powershell.file.script_block_id", "script_block_id"],
  ])("term on %s = term on %s", async (ecs, ours) => {
    expect(ECS_ALIASES[ecs] ?? ecs.replace("winlog.", "")).toBe(ours);
    const value = commonValue(ours);
    const ecsHits = await hitIds(term(ecs, value));
    expect(ecsHits.length).toBeGreaterThan(0);
    expect(ecsHits).toEqual(await hitIds(term(ours, value)));
  });

  it.each([
    ["source.ip:\"172.18.0.0/16\"", "src_ip:\"172.18.0.0/16\""],
    ["network.community_id:*", "community_id:*"],
    ["process.command_line:*powershell*", "command_line:*powershell*"],
    ["event.code:4624 AND winlog.logon.type:Network AND source.ip:*", "event_id:4624 AND logon_type_description:Network AND src_ip:*"],
    ["event.code:1 AND process.parent.executable:*cmd.exe", "event_id:1 AND parent_process_path:*cmd.exe"],
    ["powershell.file.script_block_text:*", "script_block_text:*"],
  ])("query_string %s = %s", async (ecs, ours) => {
    const ecsHits = await hitIds({ query_string: { query: ecs, analyze_wildcard: true } });
    expect(ecsHits.length).toBeGreaterThan(0);
    expect(ecsHits).toEqual(await hitIds({ query_string: { query: ours, analyze_wildcard: true } }));
  });

  it("aggregates on an ECS name exactly as on ours", async () => {
    const agg = async (field: string) =>
      (await engine.request<{ aggregations: { top: { buckets: unknown[] } } }>({ method: "POST", path: `/${INDEX}/_search`, body: { size: 0, aggs: { top: { terms: { field, size: 20 } } } } })).body.aggregations.top.buckets;
    const byHost = await agg("host.name");
    expect(byHost.length).toBeGreaterThan(0);
    expect(byHost).toEqual(await agg("host_name"));
    expect(await agg("event.action")).toEqual(await agg("action"));
  });

  it("stores nothing twice: aliases are mapped as aliases, and _source has only our names", async () => {
    const mapping = await engine.request<Record<string, { mappings: { properties: Record<string, { properties: Record<string, { type: string; path: string }> }> } }>>({ method: "GET", path: `/${INDEX}/_mapping` });
    const props = mapping.body[INDEX]!.mappings.properties;
    expect(props.process!.properties.command_line).toEqual({ type: "alias", path: "command_line" });
    expect(props.source!.properties.ip).toEqual({ type: "alias", path: "src_ip" });
    const one = await engine.request<{ hits: { hits: { _source: Record<string, unknown> }[] } }>({ method: "POST", path: `/${INDEX}/_search`, body: { size: 1, query: { exists: { field: "process.command_line" } } } });
    expect(one.body.hits.hits[0]!._source.command_line).toBeTypeOf("string");
    expect(one.body.hits.hits[0]!._source.process).toBeUndefined();
  });
});
