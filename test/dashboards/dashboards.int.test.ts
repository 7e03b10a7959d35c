import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { BlockList, isIPv4 } from "node:net";
import { isAbsolute, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { indexAttackModel } from "../../attack/attack-index.ts";
import { loadAttackBundle } from "../../attack/bundle.ts";
import { computeCoverage, eventSourceCountsFromEngine, indexCoverage, observedTechniquesFromEngine, type CoverageReport } from "../../attack/coverage.ts";
import { AttackLookup } from "../../attack/lookup.ts";
import { dataViews } from "../../dashboards/data-views.ts";
import { dashboards, enterpriseTacticOrder, internalRanges } from "../../dashboards/definitions.ts";
import type { Panel } from "../../dashboards/model.ts";
import { hasData, runPanel, type Row } from "../../dashboards/query.ts";
import type { RenderedPanel } from "../../dashboards/render.ts";
import { convertRules, sharedSigmaArchive } from "../../detections/convert.ts";
import { detectionRules, installRules, RULES_ALIAS } from "../../detections/rules.ts";
import { DetectionScheduler, STATE_INDEX } from "../../detections/scheduler.ts";
import { installTemplates } from "../../enrichment/templates.ts";
import { DEFAULT_CLOCK_SKEW_THRESHOLD_SECONDS, Enricher, type EventDocument, type IndexAction } from "../../enrichment/transforms/index.ts";
import { attackBundlePath, projectRoot } from "../../lib/data.ts";
import { recording, recordingEvents } from "../../lib/datasets.ts";
import { createEngine, type Engine } from "../../lib/engine.ts";
import { serviceEndpoints } from "../setup/endpoints.ts";
import { bulkIndexLines } from "../support/bulk.ts";

/**
 * Every dashboard panel's query against the real OpenSearch, over Security-Datasets recordings replayed
 * through the enrichment transforms (with ATT&CK tags injected into Sysmon RuleNames, as a tagging Sysmon
 * config would write them), the ATT&CK index and the coverage scores of the ATT&CK part, and the alerts the
 * detections scheduler writes with one SigmaHQ rule. Every panel must return data; answers are compared with
 * the same figures computed here from the enriched documents, the ATT&CK model and the alerts; the CLI then
 * renders every panel into dist/dashboards (build output, not committed).
 */

const run = promisify(execFile);
const recordings = [
  "cmd_bitsadmin_download_psh_script.zip",
  "covenant_installutil.zip",
  "wmic_remote_xsl_jscript.zip",
  "cmd_sharpview_pcre_net.zip",
  "empire_launcher_vbs.zip",
  // Many process → network joins (Covenant grunts calling home over DCOM and PowerShell remoting).
  "covenant_dcom_executeexcel4macro_allowed.zip",
  "covenant_psremoting_grunt.zip",
  // Failed logons (Security 4625), module and script block logging (PowerShell 4103/4104), privileged logons.
  "cmd_psh_stop_netprofm_eventlog_before_reboot.zip",
];

/** SigmaHQ "HackTool - Empire PowerShell Launch Parameters" (high): empire_launcher_vbs starts Empire's launcher. */
const empireLaunchRule = "79f4ede3-402e-41c8-bc3e-ebbf5f162581";

/** Sysmon-modular style RuleName tags, by the image an event is about. */
const tagsByImage: Record<string, string> = {
  "powershell.exe": "technique_id=T1059.001,technique_name=PowerShell",
  "cmd.exe": "technique_id=T1059.003,technique_name=Windows Command Shell",
  "wmic.exe": "technique_id=T1047,technique_name=Windows Management Instrumentation",
  "bitsadmin.exe": "technique_id=T1197,technique_name=BITS Jobs",
  "installutil.exe": "technique_id=T1218.004,technique_name=InstallUtil",
  "net.exe": "technique_id=T1087.001,technique_name=Local Account",
  "rundll32.exe": "technique_id=T1218.011,technique_name=Rundll32",
};
const sysmonChannel = "Microsoft-Windows-Sysmon/Operational";

function withInjectedTag(event: Record<string, unknown>): Record<string, unknown> {
  if (event.Channel !== sysmonChannel || typeof event.Image !== "string") return event;
  const tag = tagsByImage[event.Image.split("\\").pop()!.toLowerCase()];
  return tag ? { ...event, RuleName: tag } : event;
}

let engine: Engine;
// By index and id, as the engine keeps them: a record shipped twice (recordings overlap) is one document.
const eventsById = new Map<string, EventDocument>();
const joinedById = new Map<string, EventDocument>();
let events: EventDocument[] = [];
let joined: EventDocument[] = [];
let coverage: CoverageReport;
let alerts: { rule: { id: string; title: string; level: string }; host_name: string }[] = [];

async function bulkIndex(actions: IndexAction[]): Promise<void> {
  await bulkIndexLines(engine, actions.flatMap((a) => [{ index: { _index: a.index, _id: a.id } }, a.doc]));
}

beforeAll(async () => {
  // 2,000-document bulks: on a loaded 2-core CI machine the engine can take longer than the 30 s default.
  engine = createEngine({ kind: "opensearch", url: serviceEndpoints().engineUrl, requestTimeoutMs: 180_000 });
  await engine.request({
    method: "DELETE",
    path: `/helk-events-*,helk-process-network-*,helk-alerts-*,${STATE_INDEX},${RULES_ALIAS}*`,
    query: { expand_wildcards: "all" },
    ignore: [404],
  });
  await installTemplates(engine);

  const model = await loadAttackBundle(attackBundlePath());
  const lookup = AttackLookup.fromModel(model);
  const enricher = new Enricher({ attack: lookup });
  const actions: IndexAction[] = [];
  for (const name of recordings) {
    for await (const raw of recordingEvents(recording(name).path)) {
      const outcome = enricher.enrich(withInjectedTag(raw), { tag: undefined });
      if (!outcome.ok) throw new Error(`${name}: event rejected: ${outcome.reason}`);
      actions.push(outcome.event, ...outcome.joined);
      eventsById.set(`${outcome.event.index}/${outcome.event.id}`, outcome.event.doc);
      for (const j of outcome.joined) joinedById.set(`${j.index}/${j.id}`, j.doc);
    }
  }
  events = [...eventsById.values()];
  joined = [...joinedById.values()];
  const tagged = events.filter((e) => e.mitre_technique_id !== undefined).length;
  console.log(`dashboards data: ${recordings.length} recordings, ${events.length} events (${tagged} with RuleName tags), ${joined.length} joined connections`);
  await bulkIndex(actions);
  await engine.request({ method: "POST", path: "/helk-events-*,helk-process-network-*/_refresh" });

  // The ATT&CK part's own indexing and coverage scoring, over what was just indexed.
  await indexAttackModel(engine, model);
  coverage = computeCoverage(model, lookup, await eventSourceCountsFromEngine(engine), await observedTechniquesFromEngine(engine));
  await indexCoverage(engine, coverage);
  await engine.request({ method: "POST", path: "/helk-mitre-attack,helk-attack-coverage/_refresh" });

  // The detections part's own conversion and scheduler, with one SigmaHQ rule, write the alerts.
  const reports = await convertRules({ sources: [sharedSigmaArchive()], selection: { levels: ["high"], tags: ["attack.t1059.001"] } });
  await installRules(engine, detectionRules(reports.filter((r) => r.id === empireLaunchRule), lookup));
  const run = await new DetectionScheduler(engine, { settleMs: 0 }).runOnce();
  expect(run).toMatchObject({ rules: 1, errors: [] });
  await engine.request({ method: "POST", path: "/helk-alerts-*/_refresh" });
  const found = await engine.request<{ hits: { hits: { _source: (typeof alerts)[number] }[] } }>({
    method: "POST",
    path: "/helk-alerts-*/_search",
    body: { size: 1000, _source: ["rule", "host_name"] },
  });
  alerts = found.body.hits.hits.map((h) => h._source);
  console.log(`alerts: ${alerts.length} from rule ${empireLaunchRule}`);
}, 900_000);
afterAll(() => engine?.close());

const panels = dashboards.flatMap((d) => d.panels);
const panel = (id: string): Panel => panels.find((p) => p.id === id)!;
/** An address as the engine's `ip` type returns it (IPv6 compressed: `0:0:0:0:0:0:0:1` → `::1`). */
const canonicalIp = (ip: unknown) => (isIPv4(String(ip)) ? String(ip) : new URL(`http://[${String(ip)}]/`).hostname.slice(1, -1));
const tally = (values: string[]) => values.reduce((m, v) => m.set(v, (m.get(v) ?? 0) + 1), new Map<string, number>());
/** The top rows of a tally, as a panel lists them (count descending). */
const topCounts = (counts: Map<string, number>, size: number) => [...counts.values()].sort((a, b) => b - a).slice(0, size);

describe("dashboard panel queries against the real OpenSearch", () => {
  it("indexed enough to show something: events, joined connections, injected tags", () => {
    expect(events.length).toBeGreaterThan(5000);
    expect(joined.length).toBeGreaterThan(3);
    expect(events.filter((e) => e.mitre_technique_id !== undefined).length).toBeGreaterThan(10);
  });

  it("returns data for every panel of every dashboard (listing the panels that return none)", async () => {
    const empty: string[] = [];
    for (const p of panels) {
      const rows = await runPanel(engine, p);
      console.log(`panel ${p.id}: ${rows.length} rows`);
      if (!hasData(rows)) empty.push(p.id);
    }
    expect(empty).toEqual([]);
  });

  it("logon panels count the enriched 4624 logons by type and the 4625 failures by reason", async () => {
    const security = (id: number) => events.filter((e) => e.channel === "Security" && e.event_id === id);
    const types = await runPanel(engine, panel("helk-logon-types"));
    expect(new Map(types.map((r) => [r.label, r.count]))).toEqual(tally(security(4624).map((e) => `${e.logon_type} ${e.logon_type_description}`)));
    const reasons = await runPanel(engine, panel("helk-logon-failure-reasons"));
    expect(security(4625).length).toBeGreaterThan(0);
    expect(new Map(reasons.map((r) => [r.label, r.count]))).toEqual(tally(security(4625).map((e) => String(e.logon_status_description))));
  });

  it("PowerShell panels count the script blocks (4104) per host and the module logging commands (4103)", async () => {
    const powershell = (id: number) => events.filter((e) => e.channel === "Microsoft-Windows-PowerShell/Operational" && e.event_id === id);
    const perHost = await runPanel(engine, panel("helk-powershell-script-blocks-by-host"));
    expect(new Map(perHost.map((r) => [r.label, r.count]))).toEqual(tally(powershell(4104).map((e) => e.host_name)));
    const commands = await runPanel(engine, panel("helk-powershell-commands"));
    const commandCounts = tally(powershell(4103).flatMap((e) => (typeof e.powershell_command_name === "string" ? [e.powershell_command_name] : [])));
    expect(commands.map((r) => r.count)).toEqual(topCounts(commandCounts, 20));
    for (const r of commands) expect(r.count).toBe(commandCounts.get(String(r.label)));
  });

  it("lists the ATT&CK groups and software that use the observed techniques, by how many of them", async () => {
    const observed = coverage.techniques.filter((t) => t.observedCount > 0);
    expect(observed.length).toBeGreaterThan(0);
    for (const [id, names] of [["helk-attack-groups", observed.flatMap((t) => t.groupNames)], ["helk-attack-software", observed.flatMap((t) => t.softwareNames)]] as const) {
      const rows = (await runPanel(engine, panel(id))) as unknown as { key: string; techniques: { value: number } }[];
      const uses = tally(names);
      const expected = [...uses].sort(([a, m], [b, n]) => n - m || (a < b ? -1 : 1)).slice(0, 25);
      expect(rows.map((r) => [r.key, r.techniques.value]), id).toEqual(expected);
    }
  });

  it("alerts panels show the alerts the scheduler wrote", async () => {
    expect(alerts.length).toBeGreaterThan(0);
    const byRule = await runPanel(engine, panel("helk-alerts-rules"));
    expect(new Map(byRule.map((r) => [r.label, r.count]))).toEqual(tally(alerts.map((a) => `${a.rule.level} · ${a.rule.title}`)));
    const table = await runPanel(engine, panel("helk-alerts-table"));
    expect(table.map((r) => r["rule.id"])).toEqual(alerts.map(() => empireLaunchRule));
  });

  it("top hosts and parent → child pairs count what the enriched documents hold", async () => {
    const hosts = await runPanel(engine, panel("helk-top-hosts"));
    const hostCounts = tally(events.map((e) => String(e.host_name)));
    expect(hosts.map((r) => r.count)).toEqual(topCounts(hostCounts, 10));
    for (const r of hosts) expect(r.count).toBe(hostCounts.get(String(r.label)));

    const pairs = await runPanel(engine, panel("helk-parent-child-pairs"));
    const pairCounts = tally(events.filter((e) => e.event_id === 1 && e.parent_process_name && e.process_name).map((e) => `${e.parent_process_name} → ${e.process_name}`));
    expect(pairs.map((r) => r.count)).toEqual(topCounts(pairCounts, 20));
    for (const r of pairs) expect(r.count).toBe(pairCounts.get(String(r.label)));
  });

  it("hosts with clock skew are those whose events' own time is beyond the threshold from their shipper's", async () => {
    const rows = await runPanel(engine, panel("helk-clock-skewed-hosts"));
    const skewed = events.filter((e) => Math.abs(Number(e.clock_skew_seconds)) > DEFAULT_CLOCK_SKEW_THRESHOLD_SECONDS);
    // Some of these recordings' hosts logged hours away from their shipper (time zones): the panel must list them.
    expect(skewed.length).toBeGreaterThan(0);
    expect(new Map(rows.map((r) => [r.label, r.count]))).toEqual(tally(skewed.map((e) => String(e.host_name))));
  });

  it("top techniques and tactics come from the parsed RuleName tags and their ATT&CK context", async () => {
    const techniques = await runPanel(engine, panel("helk-top-techniques"));
    const techniqueCounts = tally(events.filter((e) => e.mitre_technique_id).map((e) => `${e.mitre_technique_id} ${e.mitre_technique_name}`));
    expect(techniques.map((r) => r.label).sort()).toEqual([...techniqueCounts.keys()].sort());
    for (const r of techniques) expect(r.count).toBe(techniqueCounts.get(String(r.label)));
    expect(techniques.map((r) => r.label)).toContain("T1059.001 PowerShell");

    const tactics = await runPanel(engine, panel("helk-top-tactics"));
    const tacticCounts = tally(events.flatMap((e) => (e.attack as { tactics?: string[] } | undefined)?.tactics ?? []));
    expect(new Map(tactics.map((r) => [r.label, r.count]))).toEqual(tacticCounts);
    expect(tacticCounts.get("execution")).toBeGreaterThan(0);
  });

  it("splits destinations into internal and external ranges as node's BlockList does", async () => {
    const internal = new BlockList();
    for (const cidr of internalRanges) {
      const [address, prefix] = cidr.split("/");
      internal.addSubnet(address!, Number(prefix), isIPv4(address!) ? "ipv4" : "ipv6");
    }
    const withIp = joined.filter((d) => typeof d.dst_ip === "string");
    const inside = withIp.filter((d) => internal.check(String(d.dst_ip), isIPv4(String(d.dst_ip)) ? "ipv4" : "ipv6")).length;
    const rows = await runPanel(engine, panel("helk-internal-external-destinations"));
    expect(rows.map((r) => r.count)).toEqual([inside, withIp.length - inside]);
    expect(inside).toBeGreaterThan(0);
    expect(withIp.length - inside).toBeGreaterThan(0);
  });

  it("lists the joined connections with process, parent and destination, newest first", async () => {
    const rows = await runPanel(engine, panel("helk-process-network-table"));
    expect(rows).toHaveLength(Math.min(joined.length, 50));
    for (const row of rows) {
      expect(row.process_path).toBeTruthy();
      expect(row.dst_ip).toBeTruthy();
      const match = joined.find((d) => d.process_path === row.process_path && d.dst_ip === row.dst_ip && d.dst_port === row.dst_port);
      expect(match, JSON.stringify(row)).toBeDefined();
      expect(row.parent_process_name).toBe(match!.parent_process_name ?? null);
    }
    const destinations = await runPanel(engine, panel("helk-destinations-by-process"));
    const byPair = tally(joined.map((d) => `${d.process_name}|${canonicalIp(d.dst_ip)}`));
    for (const r of destinations) expect(r.count).toBe(byPair.get(`${r.category}|${r.series}`));
  });

  it("Sysmon events over time: one series per top-10 event id, each adding up to that id's events", async () => {
    const rows = await runPanel(engine, panel("helk-events-over-time"));
    const perSeries = new Map<string, number>();
    for (const r of rows) perSeries.set(String(r.series), (perSeries.get(String(r.series)) ?? 0) + Number(r.count));
    const idCounts = tally(events.filter((e) => e.channel === sysmonChannel).map((e) => String(e.event_id)));
    expect([...perSeries.values()].sort((a, b) => b - a)).toEqual(topCounts(idCounts, 10));
    for (const [id, count] of perSeries) expect(count).toBe(idCounts.get(id));
    expect(perSeries.has("1")).toBe(true);
    // Several time buckets: the interval follows the data's time range.
    expect(new Set(rows.map((r) => r.time)).size).toBeGreaterThan(3);
  });

  it("feeds the coverage view with scored techniques per tactic, observed counts included", async () => {
    const rows = (await runPanel(engine, panel("helk-attack-coverage-matrix"))) as unknown as { _source: Record<string, unknown> }[];
    expect(rows.length).toBeGreaterThan(10);
    for (const { _source: doc } of rows) {
      expect(enterpriseTacticOrder).toContain(doc.tactic);
      expect(Number(doc.score) > 0 || Number(doc.observed_count) > 0).toBe(true);
    }
    const powershell = rows.find((r) => r._source.technique_id === "T1059.001");
    expect(Number(powershell?._source.observed_count)).toBe(events.filter((e) => (e.attack as { technique_id?: string } | undefined)?.technique_id === "T1059.001").length);

    const perTactic: Row[] = await runPanel(engine, panel("helk-attack-techniques-per-tactic"));
    expect(perTactic.map((r) => r.label).sort()).toEqual([...enterpriseTacticOrder].sort());
  });

  it("declares every data view field with the type the engine maps it to", async () => {
    for (const view of dataViews) {
      const res = await engine.request<Record<string, { mappings: Record<string, { mapping: Record<string, { type: string }> }> }>>({
        method: "GET",
        path: `/${view.pattern}/_mapping/field/${Object.keys(view.fields).join(",")}`,
      });
      const mapped = new Map<string, string>();
      for (const index of Object.values(res.body)) {
        for (const [name, field] of Object.entries(index.mappings)) mapped.set(name, Object.values(field.mapping)[0]!.type);
      }
      for (const [name, type] of Object.entries(view.fields)) expect(`${view.pattern} ${name}: ${mapped.get(name)}`).toBe(`${view.pattern} ${name}: ${type}`);
    }
  });
});

describe("helk dashboards render", () => {
  it("draws every panel from the engine into dist/dashboards as SVG and PNG", async () => {
    const out = join(projectRoot, "dist", "dashboards");
    const { stdout } = await run("npx", ["tsx", "cli/helk.ts", "dashboards", "render", "--out", out], {
      cwd: projectRoot,
      env: { ...process.env, HELK_ENGINE_KIND: "opensearch", HELK_ENGINE_URL: serviceEndpoints().engineUrl },
    });
    expect(stdout).toContain(`${panels.length} panels drawn into ${out}, 0 without data`);
    const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8")) as RenderedPanel[];
    expect(index.map((r) => r.panel).sort()).toEqual(panels.map((p) => p.id).sort());
    for (const r of index) {
      // The index names files relative to the output folder, never a path of this machine.
      expect([r.png, r.svg].filter(isAbsolute)).toEqual([]);
      const png = readFileSync(join(out, r.png));
      expect(png.subarray(1, 4).toString()).toBe("PNG");
      expect(png.length).toBeGreaterThan(5000);
      expect(readFileSync(join(out, r.svg), "utf8")).toMatch(/^<svg/);
    }
  });
});
