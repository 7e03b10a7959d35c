import { ALERTS_INDEX_PREFIX } from "../detections/alerts.ts";
import { ATTACK_INDEX_MAPPINGS, type AttackIndexField } from "../lib/contract/attack-fields.ts";
import { ATTACK_ALIAS, EVENTS_INDEX_PREFIX, PROCESS_NETWORK_INDEX_PREFIX } from "../lib/contract/names.ts";
import type { DataView, FieldType } from "./model.ts";

/**
 * The data views the dashboards read. Index names follow the shared contract; field names and types follow the
 * index templates of the parts that write them (`enrichment/templates.ts`, `attack/attack-index.ts`,
 * `detections/alerts.ts`), which the integration test checks against the engine's mappings.
 */

/** Fields of an enriched event (the enrichment service's schema); the joined documents carry the same names. */
const eventFields: Record<string, FieldType> = {
  "@timestamp": "date",
  shipper_timestamp: "date",
  clock_skew_seconds: "double",
  clock_skewed: "boolean",
  event_id: "integer",
  channel: "keyword",
  action: "keyword",
  host_name: "keyword",
  process_guid: "keyword",
  process_id: "long",
  process_name: "keyword",
  process_path: "keyword",
  process_integrity_level: "keyword",
  command_line: "text",
  "command_line.keyword": "keyword",
  command_line_fingerprint: "keyword",
  parent_process_guid: "keyword",
  parent_process_name: "keyword",
  parent_process_path: "keyword",
  parent_command_line: "text",
  "parent_command_line.keyword": "keyword",
  target_process_name: "keyword",
  user_name: "keyword",
  user_domain: "keyword",
  user_logon_id: "keyword",
  subject_user_name: "keyword",
  target_user_name: "keyword",
  hash_sha1: "keyword",
  hash_md5: "keyword",
  hash_sha256: "keyword",
  src_ip: "ip",
  src_port: "integer",
  src_hostname: "keyword",
  dst_ip: "ip",
  dst_ip_type: "keyword",
  dst_port: "integer",
  dst_hostname: "keyword",
  network_protocol: "keyword",
  logon_type: "integer",
  logon_type_description: "keyword",
  logon_status_description: "keyword",
  logon_sub_status_description: "keyword",
  logon_authentication_package: "keyword",
  file_name: "keyword",
  module_name: "keyword",
  registry_key_path: "keyword",
  script_block_id: "keyword",
  script_block_text: "text",
  script_block_fingerprint: "keyword",
  script_block_part: "integer",
  script_block_parts: "integer",
  script_block_length: "integer",
  script_path: "keyword",
  powershell_host_application: "keyword",
  powershell_command_name: "keyword",
  rule_name: "keyword",
  mitre_technique_id: "keyword",
  mitre_technique_name: "keyword",
  "attack.technique_id": "keyword",
  "attack.technique_name": "keyword",
  "attack.tactics": "keyword",
  "attack.platforms": "keyword",
  "attack.status": "keyword",
};

/** Channels the dashboards filter on, as events name them. */
export const channels = {
  sysmon: "Microsoft-Windows-Sysmon/Operational",
  security: "Security",
  powershell: "Microsoft-Windows-PowerShell/Operational",
  windowsPowershell: "Windows PowerShell",
} as const;

/** Lucene for events of one channel, optionally of some event ids only. */
export function eventsOf(channel: string, ...eventIds: number[]): string {
  const ids = eventIds.length === 0 ? "" : eventIds.length === 1 ? ` AND event_id:${eventIds[0]}` : ` AND event_id:(${eventIds.join(" OR ")})`;
  return `channel:"${channel}"${ids}`;
}

export const eventsDataView: DataView = {
  id: "helk-events",
  pattern: `${EVENTS_INDEX_PREFIX}*`,
  name: "HELK events",
  timeField: "@timestamp",
  fields: eventFields,
};

export const processNetworkDataView: DataView = {
  id: "helk-process-network",
  pattern: `${PROCESS_NETWORK_INDEX_PREFIX}*`,
  name: "HELK process network connections",
  timeField: "@timestamp",
  fields: { ...eventFields, join_key: "keyword", process_timestamp: "date" },
};

export const mitreAttackDataView: DataView = {
  id: "helk-mitre-attack",
  pattern: ATTACK_ALIAS,
  name: "HELK MITRE ATT&CK techniques",
  fields: attackIndexFields([
    "technique_id",
    "technique_name",
    "tactics",
    "platforms",
    "is_subtechnique",
    "parent_id",
    "status",
    "deprecated",
    "revoked",
    "url",
  ]),
};

/** Sigma detections (`detections/alerts.ts`): one alert per rule, host and hour, `@timestamp` its first match. */
export const alertsDataView: DataView = {
  id: "helk-alerts",
  pattern: `${ALERTS_INDEX_PREFIX}*`,
  name: "HELK alerts (Sigma detections)",
  timeField: "@timestamp",
  fields: {
    "@timestamp": "date",
    first_seen: "date",
    last_seen: "date",
    event_count: "integer",
    host_name: "keyword",
    "rule.id": "keyword",
    "rule.title": "text",
    "rule.title.keyword": "keyword",
    "rule.level": "keyword",
    "attack.tactics": "keyword",
    "attack.techniques.technique_id": "keyword",
  },
};

/** Data view fields of the ATT&CK index, typed as its mappings type them (a text field with its `.keyword`). */
function attackIndexFields(names: AttackIndexField[]): Record<string, FieldType> {
  return Object.fromEntries(
    names.flatMap((name) => {
      const mapping: { type: FieldType; fields?: object } = ATTACK_INDEX_MAPPINGS.properties[name];
      return mapping.fields ? [[name, mapping.type], [`${name}.keyword`, "keyword"]] : [[name, mapping.type]];
    }),
  );
}

export const dataViews: DataView[] = [eventsDataView, processNetworkDataView, mitreAttackDataView, alertsDataView];
