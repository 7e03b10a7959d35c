import { alertsDataView, channels, eventsDataView, eventsOf } from "./data-views.ts";
import type { Dashboard, PanelQuery } from "./model.ts";
import { breakdown, dashboard, documents, overTime, panel, terms, topValues } from "./panels.ts";

/**
 * HELK's investigations as dashboards: the global overview, host, user and process investigations, network,
 * Sysmon, Security logons, PowerShell, ATT&CK and alerts. Investigation dashboards are read with a filter on
 * what is investigated (`host_name:"WKST5"`, `user_name:"pgustavo"`): each panel then shows that host's or
 * user's share. Their document tables are saved searches in both products, the pivots a hunt starts from.
 */

const processCreations = "action:process_create";
const networkConnections = "action:(network_connect OR network_connection_allowed)";
const logons = eventsOf(channels.security, 4624);
const failedLogons = eventsOf(channels.security, 4625);
const scriptBlocks = eventsOf(channels.powershell, 4104);
const powershellEvents = `${eventsOf(channels.powershell)} OR ${eventsOf(channels.windowsPowershell)}`;

export const overviewDashboard = dashboard("helk-overview", "HELK — Global overview", "Everything collected: volume by channel, event kinds, hosts, users, processes and alerts by level.", [
  [14, overTime("helk-overview-events-over-time", "Events over time by channel", terms("channel", 10))],
  [
    16,
    topValues("helk-overview-event-ids", "Top channels and event ids", ["channel", "event_id"], 20, { separator: " " }),
    topValues("helk-overview-actions", "Top actions (what happened, per channel and event id)", ["action"], 20),
  ],
  [
    16,
    topValues("helk-overview-hosts", "Hosts by events", ["host_name"], 15),
    topValues("helk-overview-users", "Users by events", ["user_name"], 15),
    topValues("helk-overview-processes", "Processes started", ["process_name"], 15, { filter: processCreations }),
  ],
  [10, topValues("helk-overview-alert-levels", "Alerts by level", ["rule.level"], 5, { dataView: alertsDataView })],
]);

/** Each top value of `subject` (a host, an account) broken down by the top values of `field`. */
const per = (subject: string, field: string, size = 8) => [terms(subject, 10), terms(field, size)] as const;

export const hostInvestigationDashboard = dashboard("helk-host-investigation", "HELK — Host investigation", "One host's activity: filter on host_name. Channels, users, processes, logons, destinations and its timeline.", [
  [14, overTime("helk-host-events-over-time", "Events over time by host", terms("host_name", 10))],
  [
    16,
    breakdown("helk-host-channels", "Channels per host", ...per("host_name", "channel")),
    breakdown("helk-host-users", "Users per host", ...per("host_name", "user_name")),
  ],
  [
    16,
    breakdown("helk-host-processes", "Processes started per host", ...per("host_name", "process_name", 10), { filter: processCreations }),
    breakdown("helk-host-logon-types", "Logons to each host by logon type", ...per("host_name", "logon_type_description"), { filter: logons }),
  ],
  [16, breakdown("helk-host-destinations", "Network destinations per host", ...per("host_name", "dst_ip"), { filter: networkConnections })],
  [
    20,
    documents("helk-host-timeline", "Host timeline", ["host_name", "channel", "event_id", "action", "user_name", "process_name", "command_line"], 100, {
      description: "Saved search: every event of the filtered host, newest first.",
      filter: "host_name:*",
    }),
  ],
]);

export const userInvestigationDashboard = dashboard("helk-user-investigation", "HELK — User investigation", "One account's activity: filter on user_name. Hosts, processes, logons, their sources and privileges.", [
  [14, overTime("helk-user-events-over-time", "Events over time by user", terms("user_name", 10), { filter: "user_name:*" })],
  [
    16,
    breakdown("helk-user-hosts", "Hosts per user", ...per("user_name", "host_name")),
    breakdown("helk-user-processes", "Processes started per user", ...per("user_name", "process_name", 10), { filter: processCreations }),
  ],
  [
    16,
    breakdown("helk-user-logon-types", "Logons per account by logon type", ...per("user_name", "logon_type_description"), { filter: logons }),
    breakdown("helk-user-logon-sources", "Logon source addresses per account", ...per("user_name", "src_ip"), { filter: `${logons} AND src_ip:*` }),
  ],
  [
    12,
    topValues("helk-user-special-privileges", "Logons with special privileges (4672) by account", ["subject_user_name"], 15, {
      filter: eventsOf(channels.security, 4672),
    }),
  ],
  [
    20,
    documents(
      "helk-user-activity",
      "User activity",
      ["user_domain", "user_name", "host_name", "channel", "event_id", "action", "process_name", "command_line"],
      100,
      { description: "Saved search: every event naming an account, newest first; filter on user_name.", filter: "user_name:*" },
    ),
  ],
]);

export const processInvestigationDashboard = dashboard("helk-process-investigation", "HELK — Process investigation", "Process creations: parent/child lineage, command lines and their fingerprints, integrity levels, sources.", [
  [14, overTime("helk-process-creations-over-time", "Process creations over time by image", terms("process_name", 10), { filter: processCreations })],
  [
    20,
    topValues("helk-process-tree", "Parent → child → command line", ["parent_process_name", "process_name", "command_line.keyword"], 25, {
      filter: processCreations,
      separator: " → ",
    }),
  ],
  [
    16,
    topValues("helk-process-parent-command-lines", "Top parent command lines", ["parent_command_line.keyword"], 15, { filter: processCreations }),
    topValues("helk-process-command-line-fingerprints", "Command line fingerprints by image", ["process_name", "command_line_fingerprint"], 20, {
      description: "Runs of one program with one purpose share a fingerprint (normalized command line): allow-list or group by it.",
      filter: processCreations,
      separator: " ",
    }),
  ],
  [
    12,
    // Sysmon names the level; Security 4688 writes its label SID (S-1-16-12288) there.
    topValues("helk-process-integrity-levels", "Process creations by integrity level (Sysmon 1)", ["process_integrity_level"], 10, {
      filter: eventsOf(channels.sysmon, 1),
      width: 16,
    }),
    panel("helk-process-creation-sources", "Process creations: Sysmon 1 and Security 4688", {
      kind: "filters",
      buckets: [
        { label: "Sysmon 1", lucene: eventsOf(channels.sysmon, 1) },
        { label: "Security 4688", lucene: eventsOf(channels.security, 4688) },
      ],
    }),
  ],
  [
    20,
    documents(
      "helk-process-events-by-guid",
      "Process events by process GUID",
      ["process_guid", "parent_process_guid", "host_name", "event_id", "action", "process_name", "command_line", "dst_ip", "dst_port"],
      100,
      {
        description: "Saved search: everything a process did (creation, connections, files, registry); filter on process_guid.",
        filter: "process_guid:*",
      },
    ),
  ],
  [
    20,
    documents(
      "helk-command-lines-by-fingerprint",
      "Command lines by fingerprint",
      ["command_line_fingerprint", "host_name", "user_name", "parent_process_name", "process_name", "command_line"],
      100,
      {
        description: "Saved search: process creations with their command line fingerprint; filter on command_line_fingerprint.",
        filter: `${processCreations} AND command_line_fingerprint:*`,
      },
    ),
  ],
]);

const connections = { filter: networkConnections };

export const networkDashboard = dashboard("helk-network", "HELK — Network", "Network connections (Sysmon 3, Security 5156): destinations, their address classes, ports, processes, DNS.", [
  [14, overTime("helk-network-connections-over-time", "Connections over time by destination address class", terms("dst_ip_type", 8), connections)],
  [
    14,
    topValues("helk-network-address-classes", "Destination address classes (private, public, loopback, ...)", ["dst_ip_type"], 8, connections),
    topValues("helk-network-destinations", "Top destinations", ["dst_ip"], 20, connections),
    topValues("helk-network-ports", "Top destination ports", ["dst_port", "network_protocol"], 15, { ...connections, separator: "/" }),
  ],
  [
    16,
    breakdown(
      "helk-network-process-address-classes",
      "Connections by process and destination address class",
      terms("process_name", 15),
      terms("dst_ip_type", 8),
      connections,
    ),
    topValues("helk-network-destination-hosts", "Top destination host names", ["dst_hostname"], 15, connections),
  ],
]);

export const sysmonDashboard = dashboard("helk-sysmon", "HELK — Sysmon", "Sysmon activity by event: image loads, files, registry, process access, named pipes.", [
  [
    18,
    topValues("helk-sysmon-event-kinds", "Sysmon events by id and action", ["event_id", "action"], 30, { filter: eventsOf(channels.sysmon), separator: " " }),
    topValues("helk-sysmon-image-loads", "Image loads (7): top modules", ["module_name"], 20, { filter: eventsOf(channels.sysmon, 7) }),
  ],
  [
    16,
    topValues("helk-sysmon-files-created", "Files created (11): top names", ["file_name"], 20, { filter: eventsOf(channels.sysmon, 11) }),
    topValues("helk-sysmon-registry", "Registry (12, 13, 14): top keys", ["registry_key_path"], 20, { filter: eventsOf(channels.sysmon, 12, 13, 14) }),
  ],
  [
    16,
    topValues("helk-sysmon-process-access", "Process access (10): source → target", ["process_name", "target_process_name"], 20, {
      filter: eventsOf(channels.sysmon, 10),
      separator: " → ",
    }),
  ],
]);

export const securityLogonsDashboard = dashboard("helk-security-logons", "HELK — Security logons", "Security logons (4624), failures (4625) and privileged logons: types, reasons, accounts and sources.", [
  [14, overTime("helk-logons-over-time", "Logons over time by logon type", terms("logon_type_description", 10), { filter: logons })],
  [
    14,
    topValues("helk-logon-types", "Logon types", ["logon_type", "logon_type_description"], 12, { filter: logons, separator: " " }),
    topValues("helk-logon-authentication-packages", "Logons by authentication package", ["logon_authentication_package"], 10, { filter: logons }),
    breakdown("helk-logon-sources", "Logon sources: address → account", terms("src_ip", 10), terms("user_name", 8), {
      filter: `${logons} AND src_ip:*`,
    }),
  ],
  [
    14,
    overTime("helk-logon-failures-over-time", "Failed logons over time by account", terms("user_name", 10), { filter: failedLogons }),
    topValues("helk-logon-failure-reasons", "Failed logons by reason (status)", ["logon_status_description"], 10, { filter: failedLogons }),
  ],
  [
    16,
    documents(
      "helk-logon-failures",
      "Failed logons",
      ["host_name", "user_domain", "user_name", "logon_type_description", "logon_status_description", "logon_sub_status_description", "src_ip", "src_hostname"],
      50,
      { description: "Saved search: failed logons (4625) with account, type, reason and source.", filter: failedLogons },
    ),
  ],
]);

export const powershellDashboard = dashboard("helk-powershell", "HELK — PowerShell", "PowerShell engine, module logging (4103) and script block logging (4104): hosts, commands, script blocks.", [
  [14, overTime("helk-powershell-events-over-time", "PowerShell events over time by event id", terms("event_id", 10), { filter: powershellEvents })],
  [
    16,
    topValues("helk-powershell-event-kinds", "PowerShell events by id and action", ["event_id", "action"], 15, {
      filter: powershellEvents,
      separator: " ",
      width: 16,
    }),
    topValues("helk-powershell-host-applications", "PowerShell host applications (how PowerShell was started)", ["powershell_host_application"], 10, {
      filter: powershellEvents,
    }),
  ],
  [
    16,
    topValues("helk-powershell-commands", "Module logging (4103): top commands", ["powershell_command_name"], 20, { filter: eventsOf(channels.powershell, 4103) }),
    topValues("helk-powershell-script-blocks-by-host", "Script blocks (4104) per host", ["host_name"], 10, { filter: scriptBlocks }),
  ],
  [14, topValues("helk-powershell-script-block-fingerprints", "Most logged script blocks (by fingerprint)", ["script_block_fingerprint"], 15, { filter: scriptBlocks })],
  [
    20,
    documents(
      "helk-powershell-script-blocks",
      "Script blocks",
      ["host_name", "script_block_id", "script_block_part", "script_block_parts", "script_block_length", "script_block_fingerprint", "script_path", "script_block_text"],
      50,
      {
        description: "Saved search: script blocks (4104) with their id, part, length and fingerprint; long scripts come in parts.",
        filter: scriptBlocks,
      },
    ),
  ],
]);

/** Coverage documents (one per technique and tactic) of techniques seen in events. */
const observedCoverage = { range: { observed_count: { gt: 0 } } };

/**
 * A Vega view over the coverage index: the ATT&CK `field` (groups, software) related to the observed
 * techniques, each with how many distinct observed techniques it uses.
 */
function usersOfObservedTechniques(field: "group_names" | "software_names", what: string): PanelQuery {
  return {
    kind: "vega",
    index: "helk-attack-coverage",
    property: "aggregations.users.buckets",
    body: {
      size: 0,
      query: observedCoverage,
      aggs: { users: { terms: { field, size: 25, order: [{ techniques: "desc" }, { _key: "asc" }] }, aggs: { techniques: { cardinality: { field: "technique_id" } } } } },
    },
    spec: {
      title: `${what} using the observed techniques (ATT&CK)`,
      width: 560,
      mark: "bar",
      encoding: {
        y: { field: "key", type: "nominal", sort: "-x", title: null, axis: { labelLimit: 320 } },
        x: { field: "techniques.value", type: "quantitative", title: "observed techniques used", axis: { format: "d", tickMinStep: 1 } },
        tooltip: [
          { field: "key", title: what },
          { field: "techniques.value", title: "observed techniques" },
        ],
      },
    },
  };
}

export const attackDashboard = dashboard("helk-attack", "HELK — ATT&CK", "Observed ATT&CK techniques and tactics by host and over time, the groups and software known to use them, alerts' techniques.", [
  [14, overTime("helk-attack-tactics-over-time", "Observed tactics over time", terms("attack.tactics", 14), { filter: "attack.tactics:*" })],
  [
    16,
    breakdown("helk-attack-techniques-by-host", "Observed techniques per host", terms("host_name", 10), terms("attack.technique_id", 10), {
      filter: "attack.technique_id:*",
    }),
  ],
  [
    20,
    panel("helk-attack-groups", "Groups using the observed techniques", usersOfObservedTechniques("group_names", "Groups"), {
      description: "From the loaded ATT&CK release: groups known to use the techniques observed in events, by how many of them they use.",
    }),
    panel("helk-attack-software", "Software using the observed techniques", usersOfObservedTechniques("software_names", "Software"), {
      description: "From the loaded ATT&CK release: software (tools, malware) known to use the observed techniques.",
    }),
  ],
  [
    14,
    topValues("helk-attack-alert-techniques", "Alerts by technique", ["attack.techniques.technique_id"], 20, {
      dataView: alertsDataView,
      filter: "attack.techniques.technique_id:*",
    }),
    topValues("helk-attack-alert-tactics", "Alerts by tactic", ["attack.tactics"], 14, { dataView: alertsDataView, filter: "attack.tactics:*" }),
  ],
]);

const alerts = { dataView: alertsDataView };

export const alertsDashboard = dashboard("helk-alerts", "HELK — Alerts", "Sigma detections (helk-alerts-*): one alert per rule, host and hour of events, by level, rule and host.", [
  [12, overTime("helk-alerts-over-time", "Alerts over time by level", terms("rule.level", 5), alerts)],
  [
    16,
    topValues("helk-alerts-rules", "Alerts by rule", ["rule.level", "rule.title.keyword"], 20, { ...alerts, separator: " · ", width: 28 }),
    breakdown("helk-alerts-hosts", "Alerts per host by level", terms("host_name", 10), terms("rule.level", 5), alerts),
  ],
  [
    18,
    documents("helk-alerts-table", "Alerts", ["rule.level", "rule.title", "host_name", "event_count", "first_seen", "last_seen", "rule.id"], 50, {
      ...alerts,
      description: "Saved search: the newest alerts with their rule, host, matched events and time span.",
    }),
  ],
]);

export const investigationDashboards: Dashboard[] = [
  overviewDashboard,
  hostInvestigationDashboard,
  userInvestigationDashboard,
  processInvestigationDashboard,
  networkDashboard,
  sysmonDashboard,
  securityLogonsDashboard,
  powershellDashboard,
  attackDashboard,
  alertsDashboard,
];
