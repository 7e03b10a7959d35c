import { alertsDataView, channels, eventsDataView, eventsOf } from "./data-views.ts";
import type { Dashboard, PanelQuery } from "./model.ts";

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

export const overviewDashboard: Dashboard = {
  id: "helk-overview",
  title: "HELK — Global overview",
  description: "Everything collected: volume by channel, event kinds, hosts, users, processes and alerts by level.",
  panels: [
    {
      id: "helk-overview-events-over-time",
      title: "Events over time by channel",
      dataView: eventsDataView,
      query: { kind: "events_over_time", split: { field: "channel", size: 10 } },
      grid: { x: 0, y: 0, w: 48, h: 14 },
    },
    {
      id: "helk-overview-event-ids",
      title: "Top channels and event ids",
      dataView: eventsDataView,
      query: { kind: "top_values", fields: ["channel", "event_id"], size: 20, separator: " " },
      grid: { x: 0, y: 14, w: 24, h: 16 },
    },
    {
      id: "helk-overview-actions",
      title: "Top actions (what happened, per channel and event id)",
      dataView: eventsDataView,
      query: { kind: "top_values", fields: ["action"], size: 20 },
      grid: { x: 24, y: 14, w: 24, h: 16 },
    },
    {
      id: "helk-overview-hosts",
      title: "Hosts by events",
      dataView: eventsDataView,
      query: { kind: "top_values", fields: ["host_name"], size: 15 },
      grid: { x: 0, y: 30, w: 16, h: 16 },
    },
    {
      id: "helk-overview-users",
      title: "Users by events",
      dataView: eventsDataView,
      query: { kind: "top_values", fields: ["user_name"], size: 15 },
      grid: { x: 16, y: 30, w: 16, h: 16 },
    },
    {
      id: "helk-overview-processes",
      title: "Processes started",
      dataView: eventsDataView,
      filter: processCreations,
      query: { kind: "top_values", fields: ["process_name"], size: 15 },
      grid: { x: 32, y: 30, w: 16, h: 16 },
    },
    {
      id: "helk-overview-alert-levels",
      title: "Alerts by level",
      dataView: alertsDataView,
      query: { kind: "top_values", fields: ["rule.level"], size: 5 },
      grid: { x: 0, y: 46, w: 48, h: 10 },
    },
  ],
};

export const hostInvestigationDashboard: Dashboard = {
  id: "helk-host-investigation",
  title: "HELK — Host investigation",
  description: "One host's activity: filter on host_name. Channels, users, processes, logons, destinations and its timeline.",
  panels: [
    {
      id: "helk-host-events-over-time",
      title: "Events over time by host",
      dataView: eventsDataView,
      query: { kind: "events_over_time", split: { field: "host_name", size: 10 } },
      grid: { x: 0, y: 0, w: 48, h: 14 },
    },
    {
      id: "helk-host-channels",
      title: "Channels per host",
      dataView: eventsDataView,
      query: { kind: "breakdown", by: { field: "host_name", size: 10 }, split: { field: "channel", size: 8 } },
      grid: { x: 0, y: 14, w: 24, h: 16 },
    },
    {
      id: "helk-host-users",
      title: "Users per host",
      dataView: eventsDataView,
      query: { kind: "breakdown", by: { field: "host_name", size: 10 }, split: { field: "user_name", size: 8 } },
      grid: { x: 24, y: 14, w: 24, h: 16 },
    },
    {
      id: "helk-host-processes",
      title: "Processes started per host",
      dataView: eventsDataView,
      filter: processCreations,
      query: { kind: "breakdown", by: { field: "host_name", size: 10 }, split: { field: "process_name", size: 10 } },
      grid: { x: 0, y: 30, w: 24, h: 16 },
    },
    {
      id: "helk-host-logon-types",
      title: "Logons to each host by logon type",
      dataView: eventsDataView,
      filter: logons,
      query: { kind: "breakdown", by: { field: "host_name", size: 10 }, split: { field: "logon_type_description", size: 8 } },
      grid: { x: 24, y: 30, w: 24, h: 16 },
    },
    {
      id: "helk-host-destinations",
      title: "Network destinations per host",
      dataView: eventsDataView,
      filter: networkConnections,
      query: { kind: "breakdown", by: { field: "host_name", size: 10 }, split: { field: "dst_ip", size: 8 } },
      grid: { x: 0, y: 46, w: 48, h: 16 },
    },
    {
      id: "helk-host-timeline",
      title: "Host timeline",
      description: "Saved search: every event of the filtered host, newest first.",
      dataView: eventsDataView,
      filter: "host_name:*",
      query: { kind: "documents", columns: ["host_name", "channel", "event_id", "action", "user_name", "process_name", "command_line"], size: 100 },
      grid: { x: 0, y: 62, w: 48, h: 20 },
    },
  ],
};

export const userInvestigationDashboard: Dashboard = {
  id: "helk-user-investigation",
  title: "HELK — User investigation",
  description: "One account's activity: filter on user_name. Hosts, processes, logons, their sources and privileges.",
  panels: [
    {
      id: "helk-user-events-over-time",
      title: "Events over time by user",
      dataView: eventsDataView,
      filter: "user_name:*",
      query: { kind: "events_over_time", split: { field: "user_name", size: 10 } },
      grid: { x: 0, y: 0, w: 48, h: 14 },
    },
    {
      id: "helk-user-hosts",
      title: "Hosts per user",
      dataView: eventsDataView,
      query: { kind: "breakdown", by: { field: "user_name", size: 10 }, split: { field: "host_name", size: 8 } },
      grid: { x: 0, y: 14, w: 24, h: 16 },
    },
    {
      id: "helk-user-processes",
      title: "Processes started per user",
      dataView: eventsDataView,
      filter: processCreations,
      query: { kind: "breakdown", by: { field: "user_name", size: 10 }, split: { field: "process_name", size: 10 } },
      grid: { x: 24, y: 14, w: 24, h: 16 },
    },
    {
      id: "helk-user-logon-types",
      title: "Logons per account by logon type",
      dataView: eventsDataView,
      filter: logons,
      query: { kind: "breakdown", by: { field: "user_name", size: 10 }, split: { field: "logon_type_description", size: 8 } },
      grid: { x: 0, y: 30, w: 24, h: 16 },
    },
    {
      id: "helk-user-logon-sources",
      title: "Logon source addresses per account",
      dataView: eventsDataView,
      filter: `${logons} AND src_ip:*`,
      query: { kind: "breakdown", by: { field: "user_name", size: 10 }, split: { field: "src_ip", size: 8 } },
      grid: { x: 24, y: 30, w: 24, h: 16 },
    },
    {
      id: "helk-user-special-privileges",
      title: "Logons with special privileges (4672) by account",
      dataView: eventsDataView,
      filter: eventsOf(channels.security, 4672),
      query: { kind: "top_values", fields: ["subject_user_name"], size: 15 },
      grid: { x: 0, y: 46, w: 48, h: 12 },
    },
    {
      id: "helk-user-activity",
      title: "User activity",
      description: "Saved search: every event naming an account, newest first; filter on user_name.",
      dataView: eventsDataView,
      filter: "user_name:*",
      query: {
        kind: "documents",
        columns: ["user_domain", "user_name", "host_name", "channel", "event_id", "action", "process_name", "command_line"],
        size: 100,
      },
      grid: { x: 0, y: 58, w: 48, h: 20 },
    },
  ],
};

export const processInvestigationDashboard: Dashboard = {
  id: "helk-process-investigation",
  title: "HELK — Process investigation",
  description: "Process creations: parent/child lineage, command lines and their fingerprints, integrity levels, sources.",
  panels: [
    {
      id: "helk-process-creations-over-time",
      title: "Process creations over time by image",
      dataView: eventsDataView,
      filter: processCreations,
      query: { kind: "events_over_time", split: { field: "process_name", size: 10 } },
      grid: { x: 0, y: 0, w: 48, h: 14 },
    },
    {
      id: "helk-process-tree",
      title: "Parent → child → command line",
      dataView: eventsDataView,
      filter: processCreations,
      query: { kind: "top_values", fields: ["parent_process_name", "process_name", "command_line.keyword"], size: 25, separator: " → " },
      grid: { x: 0, y: 14, w: 48, h: 20 },
    },
    {
      id: "helk-process-parent-command-lines",
      title: "Top parent command lines",
      dataView: eventsDataView,
      filter: processCreations,
      query: { kind: "top_values", fields: ["parent_command_line.keyword"], size: 15 },
      grid: { x: 0, y: 34, w: 24, h: 16 },
    },
    {
      id: "helk-process-command-line-fingerprints",
      title: "Command line fingerprints by image",
      description: "Runs of one program with one purpose share a fingerprint (normalized command line): allow-list or group by it.",
      dataView: eventsDataView,
      filter: processCreations,
      query: { kind: "top_values", fields: ["process_name", "command_line_fingerprint"], size: 20, separator: " " },
      grid: { x: 24, y: 34, w: 24, h: 16 },
    },
    {
      id: "helk-process-integrity-levels",
      title: "Process creations by integrity level (Sysmon 1)",
      dataView: eventsDataView,
      // Sysmon names the level; Security 4688 writes its label SID (S-1-16-12288) there.
      filter: eventsOf(channels.sysmon, 1),
      query: { kind: "top_values", fields: ["process_integrity_level"], size: 10 },
      grid: { x: 0, y: 50, w: 16, h: 12 },
    },
    {
      id: "helk-process-creation-sources",
      title: "Process creations: Sysmon 1 and Security 4688",
      dataView: eventsDataView,
      query: {
        kind: "filters",
        buckets: [
          { label: "Sysmon 1", lucene: eventsOf(channels.sysmon, 1) },
          { label: "Security 4688", lucene: eventsOf(channels.security, 4688) },
        ],
      },
      grid: { x: 16, y: 50, w: 32, h: 12 },
    },
    {
      id: "helk-process-events-by-guid",
      title: "Process events by process GUID",
      description: "Saved search: everything a process did (creation, connections, files, registry); filter on process_guid.",
      dataView: eventsDataView,
      filter: "process_guid:*",
      query: {
        kind: "documents",
        columns: ["process_guid", "parent_process_guid", "host_name", "event_id", "action", "process_name", "command_line", "dst_ip", "dst_port"],
        size: 100,
      },
      grid: { x: 0, y: 62, w: 48, h: 20 },
    },
    {
      id: "helk-command-lines-by-fingerprint",
      title: "Command lines by fingerprint",
      description: "Saved search: process creations with their command line fingerprint; filter on command_line_fingerprint.",
      dataView: eventsDataView,
      filter: `${processCreations} AND command_line_fingerprint:*`,
      query: {
        kind: "documents",
        columns: ["command_line_fingerprint", "host_name", "user_name", "parent_process_name", "process_name", "command_line"],
        size: 100,
      },
      grid: { x: 0, y: 82, w: 48, h: 20 },
    },
  ],
};

export const networkDashboard: Dashboard = {
  id: "helk-network",
  title: "HELK — Network",
  description: "Network connections (Sysmon 3, Security 5156): destinations, their address classes, ports, processes, DNS.",
  panels: [
    {
      id: "helk-network-connections-over-time",
      title: "Connections over time by destination address class",
      dataView: eventsDataView,
      filter: networkConnections,
      query: { kind: "events_over_time", split: { field: "dst_ip_type", size: 8 } },
      grid: { x: 0, y: 0, w: 48, h: 14 },
    },
    {
      id: "helk-network-address-classes",
      title: "Destination address classes (private, public, loopback, ...)",
      dataView: eventsDataView,
      filter: networkConnections,
      query: { kind: "top_values", fields: ["dst_ip_type"], size: 8 },
      grid: { x: 0, y: 14, w: 16, h: 14 },
    },
    {
      id: "helk-network-destinations",
      title: "Top destinations",
      dataView: eventsDataView,
      filter: networkConnections,
      query: { kind: "top_values", fields: ["dst_ip"], size: 20 },
      grid: { x: 16, y: 14, w: 16, h: 14 },
    },
    {
      id: "helk-network-ports",
      title: "Top destination ports",
      dataView: eventsDataView,
      filter: networkConnections,
      query: { kind: "top_values", fields: ["dst_port", "network_protocol"], size: 15, separator: "/" },
      grid: { x: 32, y: 14, w: 16, h: 14 },
    },
    {
      id: "helk-network-process-address-classes",
      title: "Connections by process and destination address class",
      dataView: eventsDataView,
      filter: networkConnections,
      query: { kind: "breakdown", by: { field: "process_name", size: 15 }, split: { field: "dst_ip_type", size: 8 } },
      grid: { x: 0, y: 28, w: 24, h: 16 },
    },
    {
      id: "helk-network-destination-hosts",
      title: "Top destination host names",
      dataView: eventsDataView,
      filter: networkConnections,
      query: { kind: "top_values", fields: ["dst_hostname"], size: 15 },
      grid: { x: 24, y: 28, w: 24, h: 16 },
    },
  ],
};

export const sysmonDashboard: Dashboard = {
  id: "helk-sysmon",
  title: "HELK — Sysmon",
  description: "Sysmon activity by event: image loads, files, registry, process access, named pipes.",
  panels: [
    {
      id: "helk-sysmon-event-kinds",
      title: "Sysmon events by id and action",
      dataView: eventsDataView,
      filter: eventsOf(channels.sysmon),
      query: { kind: "top_values", fields: ["event_id", "action"], size: 30, separator: " " },
      grid: { x: 0, y: 0, w: 24, h: 18 },
    },
    {
      id: "helk-sysmon-image-loads",
      title: "Image loads (7): top modules",
      dataView: eventsDataView,
      filter: eventsOf(channels.sysmon, 7),
      query: { kind: "top_values", fields: ["module_name"], size: 20 },
      grid: { x: 24, y: 0, w: 24, h: 18 },
    },
    {
      id: "helk-sysmon-files-created",
      title: "Files created (11): top names",
      dataView: eventsDataView,
      filter: eventsOf(channels.sysmon, 11),
      query: { kind: "top_values", fields: ["file_name"], size: 20 },
      grid: { x: 0, y: 18, w: 24, h: 16 },
    },
    {
      id: "helk-sysmon-registry",
      title: "Registry (12, 13, 14): top keys",
      dataView: eventsDataView,
      filter: eventsOf(channels.sysmon, 12, 13, 14),
      query: { kind: "top_values", fields: ["registry_key_path"], size: 20 },
      grid: { x: 24, y: 18, w: 24, h: 16 },
    },
    {
      id: "helk-sysmon-process-access",
      title: "Process access (10): source → target",
      dataView: eventsDataView,
      filter: eventsOf(channels.sysmon, 10),
      query: { kind: "top_values", fields: ["process_name", "target_process_name"], size: 20, separator: " → " },
      grid: { x: 0, y: 34, w: 48, h: 16 },
    },
  ],
};

export const securityLogonsDashboard: Dashboard = {
  id: "helk-security-logons",
  title: "HELK — Security logons",
  description: "Security logons (4624), failures (4625) and privileged logons: types, reasons, accounts and sources.",
  panels: [
    {
      id: "helk-logons-over-time",
      title: "Logons over time by logon type",
      dataView: eventsDataView,
      filter: logons,
      query: { kind: "events_over_time", split: { field: "logon_type_description", size: 10 } },
      grid: { x: 0, y: 0, w: 48, h: 14 },
    },
    {
      id: "helk-logon-types",
      title: "Logon types",
      dataView: eventsDataView,
      filter: logons,
      query: { kind: "top_values", fields: ["logon_type", "logon_type_description"], size: 12, separator: " " },
      grid: { x: 0, y: 14, w: 16, h: 14 },
    },
    {
      id: "helk-logon-authentication-packages",
      title: "Logons by authentication package",
      dataView: eventsDataView,
      filter: logons,
      query: { kind: "top_values", fields: ["logon_authentication_package"], size: 10 },
      grid: { x: 16, y: 14, w: 16, h: 14 },
    },
    {
      id: "helk-logon-sources",
      title: "Logon sources: address → account",
      dataView: eventsDataView,
      filter: `${logons} AND src_ip:*`,
      query: { kind: "breakdown", by: { field: "src_ip", size: 10 }, split: { field: "user_name", size: 8 } },
      grid: { x: 32, y: 14, w: 16, h: 14 },
    },
    {
      id: "helk-logon-failures-over-time",
      title: "Failed logons over time by account",
      dataView: eventsDataView,
      filter: failedLogons,
      query: { kind: "events_over_time", split: { field: "user_name", size: 10 } },
      grid: { x: 0, y: 28, w: 24, h: 14 },
    },
    {
      id: "helk-logon-failure-reasons",
      title: "Failed logons by reason (status)",
      dataView: eventsDataView,
      filter: failedLogons,
      query: { kind: "top_values", fields: ["logon_status_description"], size: 10 },
      grid: { x: 24, y: 28, w: 24, h: 14 },
    },
    {
      id: "helk-logon-failures",
      title: "Failed logons",
      description: "Saved search: failed logons (4625) with account, type, reason and source.",
      dataView: eventsDataView,
      filter: failedLogons,
      query: {
        kind: "documents",
        columns: ["host_name", "user_domain", "user_name", "logon_type_description", "logon_status_description", "logon_sub_status_description", "src_ip", "src_hostname"],
        size: 50,
      },
      grid: { x: 0, y: 42, w: 48, h: 16 },
    },
  ],
};

export const powershellDashboard: Dashboard = {
  id: "helk-powershell",
  title: "HELK — PowerShell",
  description: "PowerShell engine, module logging (4103) and script block logging (4104): hosts, commands, script blocks.",
  panels: [
    {
      id: "helk-powershell-events-over-time",
      title: "PowerShell events over time by event id",
      dataView: eventsDataView,
      filter: powershellEvents,
      query: { kind: "events_over_time", split: { field: "event_id", size: 10 } },
      grid: { x: 0, y: 0, w: 48, h: 14 },
    },
    {
      id: "helk-powershell-event-kinds",
      title: "PowerShell events by id and action",
      dataView: eventsDataView,
      filter: powershellEvents,
      query: { kind: "top_values", fields: ["event_id", "action"], size: 15, separator: " " },
      grid: { x: 0, y: 14, w: 16, h: 16 },
    },
    {
      id: "helk-powershell-host-applications",
      title: "PowerShell host applications (how PowerShell was started)",
      dataView: eventsDataView,
      filter: powershellEvents,
      query: { kind: "top_values", fields: ["powershell_host_application"], size: 10 },
      grid: { x: 16, y: 14, w: 32, h: 16 },
    },
    {
      id: "helk-powershell-commands",
      title: "Module logging (4103): top commands",
      dataView: eventsDataView,
      filter: eventsOf(channels.powershell, 4103),
      query: { kind: "top_values", fields: ["powershell_command_name"], size: 20 },
      grid: { x: 0, y: 30, w: 24, h: 16 },
    },
    {
      id: "helk-powershell-script-blocks-by-host",
      title: "Script blocks (4104) per host",
      dataView: eventsDataView,
      filter: scriptBlocks,
      query: { kind: "top_values", fields: ["host_name"], size: 10 },
      grid: { x: 24, y: 30, w: 24, h: 16 },
    },
    {
      id: "helk-powershell-script-block-fingerprints",
      title: "Most logged script blocks (by fingerprint)",
      dataView: eventsDataView,
      filter: scriptBlocks,
      query: { kind: "top_values", fields: ["script_block_fingerprint"], size: 15 },
      grid: { x: 0, y: 46, w: 48, h: 14 },
    },
    {
      id: "helk-powershell-script-blocks",
      title: "Script blocks",
      description: "Saved search: script blocks (4104) with their id, part, length and fingerprint; long scripts come in parts.",
      dataView: eventsDataView,
      filter: scriptBlocks,
      query: {
        kind: "documents",
        columns: ["host_name", "script_block_id", "script_block_part", "script_block_parts", "script_block_length", "script_block_fingerprint", "script_path", "script_block_text"],
        size: 50,
      },
      grid: { x: 0, y: 60, w: 48, h: 20 },
    },
  ],
};

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

export const attackDashboard: Dashboard = {
  id: "helk-attack",
  title: "HELK — ATT&CK",
  description: "Observed ATT&CK techniques and tactics by host and over time, the groups and software known to use them, alerts' techniques.",
  panels: [
    {
      id: "helk-attack-tactics-over-time",
      title: "Observed tactics over time",
      dataView: eventsDataView,
      filter: "attack.tactics:*",
      query: { kind: "events_over_time", split: { field: "attack.tactics", size: 14 } },
      grid: { x: 0, y: 0, w: 48, h: 14 },
    },
    {
      id: "helk-attack-techniques-by-host",
      title: "Observed techniques per host",
      dataView: eventsDataView,
      filter: "attack.technique_id:*",
      query: { kind: "breakdown", by: { field: "host_name", size: 10 }, split: { field: "attack.technique_id", size: 10 } },
      grid: { x: 0, y: 14, w: 48, h: 16 },
    },
    {
      id: "helk-attack-groups",
      title: "Groups using the observed techniques",
      description: "From the loaded ATT&CK release: groups known to use the techniques observed in events, by how many of them they use.",
      query: usersOfObservedTechniques("group_names", "Groups"),
      grid: { x: 0, y: 30, w: 24, h: 20 },
    },
    {
      id: "helk-attack-software",
      title: "Software using the observed techniques",
      description: "From the loaded ATT&CK release: software (tools, malware) known to use the observed techniques.",
      query: usersOfObservedTechniques("software_names", "Software"),
      grid: { x: 24, y: 30, w: 24, h: 20 },
    },
    {
      id: "helk-attack-alert-techniques",
      title: "Alerts by technique",
      dataView: alertsDataView,
      filter: "attack.techniques.technique_id:*",
      query: { kind: "top_values", fields: ["attack.techniques.technique_id"], size: 20 },
      grid: { x: 0, y: 50, w: 24, h: 14 },
    },
    {
      id: "helk-attack-alert-tactics",
      title: "Alerts by tactic",
      dataView: alertsDataView,
      filter: "attack.tactics:*",
      query: { kind: "top_values", fields: ["attack.tactics"], size: 14 },
      grid: { x: 24, y: 50, w: 24, h: 14 },
    },
  ],
};

export const alertsDashboard: Dashboard = {
  id: "helk-alerts",
  title: "HELK — Alerts",
  description: "Sigma detections (helk-alerts-*): one alert per rule, host and hour of events, by level, rule and host.",
  panels: [
    {
      id: "helk-alerts-over-time",
      title: "Alerts over time by level",
      dataView: alertsDataView,
      query: { kind: "events_over_time", split: { field: "rule.level", size: 5 } },
      grid: { x: 0, y: 0, w: 48, h: 12 },
    },
    {
      id: "helk-alerts-rules",
      title: "Alerts by rule",
      dataView: alertsDataView,
      query: { kind: "top_values", fields: ["rule.level", "rule.title.keyword"], size: 20, separator: " · " },
      grid: { x: 0, y: 12, w: 28, h: 16 },
    },
    {
      id: "helk-alerts-hosts",
      title: "Alerts per host by level",
      dataView: alertsDataView,
      query: { kind: "breakdown", by: { field: "host_name", size: 10 }, split: { field: "rule.level", size: 5 } },
      grid: { x: 28, y: 12, w: 20, h: 16 },
    },
    {
      id: "helk-alerts-table",
      title: "Alerts",
      description: "Saved search: the newest alerts with their rule, host, matched events and time span.",
      dataView: alertsDataView,
      query: { kind: "documents", columns: ["rule.level", "rule.title", "host_name", "event_count", "first_seen", "last_seen", "rule.id"], size: 50 },
      grid: { x: 0, y: 28, w: 48, h: 18 },
    },
  ],
};

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
