import { channels, eventsDataView, eventsOf, mitreAttackDataView, processNetworkDataView } from "./data-views.ts";
import { investigationDashboards } from "./investigations.ts";
import type { Dashboard } from "./model.ts";
import { breakdown, dashboard, documents, overTime, panel, terms, topValues } from "./panels.ts";

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

export const sysmonAttackDashboard = dashboard("helk-sysmon-attack", "HELK — Sysmon and ATT&CK", "Windows/Sysmon event volume, ATT&CK techniques and tactics from RuleName tags, hosts, process lineage.", [
  [14, overTime("helk-events-over-time", "Sysmon events over time by event id", terms("event_id", 10), { filter: eventsOf(channels.sysmon) })],
  [
    16,
    topValues("helk-top-techniques", "Top ATT&CK techniques (RuleName tags)", ["mitre_technique_id", "mitre_technique_name"], 15, {
      filter: "mitre_technique_id:*",
      separator: " ",
    }),
    topValues("helk-top-tactics", "Top ATT&CK tactics (RuleName tags)", ["attack.tactics"], 14, { filter: "attack.tactics:*" }),
  ],
  [
    16,
    topValues("helk-top-hosts", "Top hosts", ["host_name"], 10, { width: 16 }),
    topValues("helk-parent-child-pairs", "Top parent → child process pairs", ["parent_process_name", "process_name"], 20, {
      filter: "event_id:1",
      separator: " → ",
    }),
  ],
  [
    12,
    topValues("helk-clock-skewed-hosts", "Hosts with clock skew (Sysmon time far from the shipper's)", ["host_name"], 20, {
      description:
        "Events whose own time (UtcTime) is further from their shipper's time than the enrichment threshold " +
        "(clock_skewed): clocks reset, VM snapshots restored, wrong time zones, tampering. Their events sit in the daily " +
        "index of their own time; shipper_timestamp and clock_skew_seconds say by how much.",
      filter: "clock_skewed:true",
    }),
  ],
]);

const joined = { dataView: processNetworkDataView };

export const processNetworkDashboard = dashboard("helk-process-network", "HELK — Process network connections", "Sysmon network connections (event 3) joined with the process creation (event 1) that made them.", [
  [
    18,
    documents(
      "helk-process-network-table",
      "Process network connections",
      ["host_name", "parent_process_name", "command_line", "process_path", "hash_sha256", "dst_ip", "dst_port"],
      50,
      joined,
    ),
  ],
  [
    16,
    breakdown("helk-destinations-by-process", "Destinations by process", terms("process_name", 10), terms("dst_ip", 5), { ...joined, width: 32 }),
    panel(
      "helk-internal-external-destinations",
      "Internal vs external destinations",
      {
        kind: "filters",
        buckets: [
          { label: "internal (private, loopback, link-local, multicast)", lucene: internalLucene },
          { label: "external", lucene: `dst_ip:* AND NOT (${internalLucene})` },
        ],
      },
      joined,
    ),
  ],
]);

const coverageFields = ["technique_id", "technique_name", "tactic", "score", "observed_count"];

export const attackCoverageDashboard = dashboard("helk-attack-coverage", "HELK — ATT&CK coverage", "Techniques per tactic, coloured by detection coverage score (0–100) from collected log sources, with observed counts.", [
  [
    40,
    panel(
      "helk-attack-coverage-matrix",
      "ATT&CK coverage: tactics × techniques",
      {
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
      { description: "Techniques with a coverage score or observations; colour = score, label = id · observed count, outline = observed." },
    ),
  ],
  [
    14,
    topValues("helk-attack-techniques-per-tactic", "ATT&CK techniques per tactic (knowledge base)", ["tactics"], 14, {
      description: "Active techniques and sub-techniques in the loaded ATT&CK release, for scale next to the coverage.",
      dataView: mitreAttackDataView,
      filter: "NOT revoked:true AND NOT deprecated:true",
    }),
  ],
]);

export const dashboards: Dashboard[] = [...investigationDashboards, sysmonAttackDashboard, processNetworkDashboard, attackCoverageDashboard];
