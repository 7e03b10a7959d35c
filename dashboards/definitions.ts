import { channels, eventsDataView, eventsOf, mitreAttackDataView, processNetworkDataView } from "./data-views.ts";
import { investigationDashboards } from "./investigations.ts";
import type { Dashboard } from "./model.ts";

/**
 * HELK's dashboards. Every panel reads a data view of `data-views.ts` (or, for Vega views, names its index),
 * with field names of the shared contract (enriched events, joined process/network documents, ATT&CK
 * techniques and coverage, alerts).
 */

/** Tactic shortnames in ATT&CK Enterprise matrix order: the columns of the coverage view. */
export const enterpriseTacticOrder = [
  "reconnaissance",
  "resource-development",
  "initial-access",
  "execution",
  "persistence",
  "privilege-escalation",
  "defense-evasion",
  "credential-access",
  "discovery",
  "lateral-movement",
  "collection",
  "command-and-control",
  "exfiltration",
  "impact",
];

/**
 * Destinations inside the network: RFC 1918 private ranges and loopback, plus link-local and multicast
 * (which never leave the local segment) and their IPv6 counterparts (unique local, link-local, multicast).
 */
export const internalRanges = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "224.0.0.0/4",
  "::1/128",
  "fc00::/7",
  "fe80::/10",
  "ff00::/8",
];
const internalLucene = internalRanges.map((cidr) => `dst_ip:"${cidr}"`).join(" OR ");

export const sysmonAttackDashboard: Dashboard = {
  id: "helk-sysmon-attack",
  title: "HELK — Sysmon and ATT&CK",
  description: "Windows/Sysmon event volume, ATT&CK techniques and tactics from RuleName tags, hosts, process lineage.",
  panels: [
    {
      id: "helk-events-over-time",
      title: "Sysmon events over time by event id",
      dataView: eventsDataView,
      filter: eventsOf(channels.sysmon),
      query: { kind: "events_over_time", split: { field: "event_id", size: 10 } },
      grid: { x: 0, y: 0, w: 48, h: 14 },
    },
    {
      id: "helk-top-techniques",
      title: "Top ATT&CK techniques (RuleName tags)",
      dataView: eventsDataView,
      filter: "mitre_technique_id:*",
      query: { kind: "top_values", fields: ["mitre_technique_id", "mitre_technique_name"], size: 15, separator: " " },
      grid: { x: 0, y: 14, w: 24, h: 16 },
    },
    {
      id: "helk-top-tactics",
      title: "Top ATT&CK tactics (RuleName tags)",
      dataView: eventsDataView,
      filter: "attack.tactics:*",
      query: { kind: "top_values", fields: ["attack.tactics"], size: 14 },
      grid: { x: 24, y: 14, w: 24, h: 16 },
    },
    {
      id: "helk-top-hosts",
      title: "Top hosts",
      dataView: eventsDataView,
      query: { kind: "top_values", fields: ["host_name"], size: 10 },
      grid: { x: 0, y: 30, w: 16, h: 16 },
    },
    {
      id: "helk-parent-child-pairs",
      title: "Top parent → child process pairs",
      dataView: eventsDataView,
      filter: "event_id:1",
      query: { kind: "top_values", fields: ["parent_process_name", "process_name"], size: 20, separator: " → " },
      grid: { x: 16, y: 30, w: 32, h: 16 },
    },
    {
      id: "helk-clock-skewed-hosts",
      title: "Hosts with clock skew (Sysmon time far from the shipper's)",
      description:
        "Events whose own time (UtcTime) is further from their shipper's time than the enrichment threshold " +
        "(clock_skewed): clocks reset, VM snapshots restored, wrong time zones, tampering. Their events sit in the daily " +
        "index of their own time; shipper_timestamp and clock_skew_seconds say by how much.",
      dataView: eventsDataView,
      filter: "clock_skewed:true",
      query: { kind: "top_values", fields: ["host_name"], size: 20 },
      grid: { x: 0, y: 46, w: 48, h: 12 },
    },
  ],
};

export const processNetworkDashboard: Dashboard = {
  id: "helk-process-network",
  title: "HELK — Process network connections",
  description: "Sysmon network connections (event 3) joined with the process creation (event 1) that made them.",
  panels: [
    {
      id: "helk-process-network-table",
      title: "Process network connections",
      dataView: processNetworkDataView,
      query: {
        kind: "documents",
        columns: ["host_name", "parent_process_name", "command_line", "process_path", "hash_sha256", "dst_ip", "dst_port"],
        size: 50,
      },
      grid: { x: 0, y: 0, w: 48, h: 18 },
    },
    {
      id: "helk-destinations-by-process",
      title: "Destinations by process",
      dataView: processNetworkDataView,
      query: { kind: "breakdown", by: { field: "process_name", size: 10 }, split: { field: "dst_ip", size: 5 } },
      grid: { x: 0, y: 18, w: 32, h: 16 },
    },
    {
      id: "helk-internal-external-destinations",
      title: "Internal vs external destinations",
      dataView: processNetworkDataView,
      query: {
        kind: "filters",
        buckets: [
          { label: "internal (private, loopback, link-local, multicast)", lucene: internalLucene },
          { label: "external", lucene: `dst_ip:* AND NOT (${internalLucene})` },
        ],
      },
      grid: { x: 32, y: 18, w: 16, h: 16 },
    },
  ],
};

const coverageFields = ["technique_id", "technique_name", "tactic", "score", "observed_count"];

export const attackCoverageDashboard: Dashboard = {
  id: "helk-attack-coverage",
  title: "HELK — ATT&CK coverage",
  description: "Techniques per tactic, coloured by detection coverage score (0–100) from collected log sources, with observed counts.",
  panels: [
    {
      id: "helk-attack-coverage-matrix",
      title: "ATT&CK coverage: tactics × techniques",
      description: "Techniques with a coverage score or observations; colour = score, label = id · observed count, outline = observed.",
      query: {
        kind: "vega",
        index: "helk-attack-coverage",
        property: "hits.hits",
        body: {
          size: 10000,
          _source: coverageFields,
          query: {
            bool: { should: [{ range: { score: { gt: 0 } } }, { range: { observed_count: { gt: 0 } } }], minimum_should_match: 1 },
          },
        },
        spec: {
          title: "ATT&CK coverage (top 40 techniques per tactic)",
          transform: [
            ...coverageFields.map((field) => ({ calculate: `datum._source['${field}']`, as: field })),
            {
              window: [{ op: "row_number", as: "rank" }],
              groupby: ["tactic"],
              sort: [
                { field: "score", order: "descending" },
                { field: "observed_count", order: "descending" },
                { field: "technique_id", order: "ascending" },
              ],
            },
            { filter: "datum.rank <= 40" },
            { calculate: "datum.technique_id + (datum.observed_count > 0 ? ' · ' + datum.observed_count : '')", as: "label" },
          ],
          width: { step: 110 },
          height: { step: 16 },
          encoding: {
            x: {
              field: "tactic",
              type: "nominal",
              sort: enterpriseTacticOrder,
              axis: { orient: "top", labelAngle: -30, title: null },
            },
            y: { field: "rank", type: "ordinal", axis: null },
            tooltip: [
              { field: "technique_id" },
              { field: "technique_name" },
              { field: "tactic" },
              { field: "score", type: "quantitative" },
              { field: "observed_count", type: "quantitative" },
            ],
          },
          layer: [
            {
              mark: { type: "rect", stroke: "#b2182b" },
              encoding: {
                color: {
                  field: "score",
                  type: "quantitative",
                  scale: { domain: [0, 100], scheme: "greens" },
                  title: "coverage score",
                },
                strokeWidth: { condition: { test: "datum.observed_count > 0", value: 2 }, value: 0 },
              },
            },
            {
              mark: { type: "text", fontSize: 9 },
              encoding: {
                text: { field: "label" },
                color: { condition: { test: "datum.score > 60", value: "white" }, value: "black" },
              },
            },
          ],
        },
      },
      grid: { x: 0, y: 0, w: 48, h: 40 },
    },
    {
      id: "helk-attack-techniques-per-tactic",
      title: "ATT&CK techniques per tactic (knowledge base)",
      description: "Active techniques and sub-techniques in the loaded ATT&CK release, for scale next to the coverage.",
      dataView: mitreAttackDataView,
      filter: "NOT revoked:true AND NOT deprecated:true",
      query: { kind: "top_values", fields: ["tactics"], size: 14 },
      grid: { x: 0, y: 40, w: 48, h: 14 },
    },
  ],
};

export const dashboards: Dashboard[] = [...investigationDashboards, sysmonAttackDashboard, processNetworkDashboard, attackCoverageDashboard];
