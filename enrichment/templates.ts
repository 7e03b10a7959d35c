import { ATTACK_CONTEXT_FIELD_TYPES } from "../lib/contract/attack-fields.ts";
import { EVENTS_INDEX_PREFIX, PROCESS_NETWORK_INDEX_PREFIX, TEMPLATE_NAMES } from "../lib/contract/names.ts";
import type { Engine } from "../lib/engine.ts";
import { date, fieldsMapped, keyword } from "../lib/mappings.ts";
import { mappedWindowsFields } from "./transforms/channels/index.ts";
import { GENERIC_WINDOWS_FIELDS } from "./transforms/normalize.ts";

const textWithKeyword = { type: "text", fields: { keyword } };
const long = { type: "long" };
const integer = { type: "integer" };
const boolean = { type: "boolean" };

/** `keyword` for each name. */
const keywords = (...names: string[]) => fieldsMapped(keyword, ...names);

const geo = { properties: { country_iso_code: keyword, country_name: keyword, city_name: keyword, location: { type: "geo_point" } } };
const autonomousSystem = { properties: { number: long, organization: keyword } };

/**
 * Our fields, explicitly typed. Strings not listed still become keywords (dynamic template), but every field
 * an ECS alias points at must be listed: an alias must refer to an existing field.
 */
const fields: Record<string, unknown> = {
  // indexed_at is set by the engine (ingest pipeline below): the detection scheduler reads events indexed since its
  // last run. Sysmon's UtcTime decides @timestamp; the shipper's time and the joined process's time sit beside it.
  ...fieldsMapped(date, "@timestamp", "indexed_at", "shipper_timestamp", "process_timestamp"),
  clock_skew_seconds: { type: "double" },
  clock_skewed: boolean,
  event_id: integer,
  record_number: long,
  ...keywords("channel", "host_name", "source_shape", "action"),
  ...keywords("process_guid", "process_name", "process_path", "parent_process_guid", "parent_process_name", "parent_process_path"),
  process_id: long,
  parent_process_id: long,
  command_line: textWithKeyword,
  parent_command_line: textWithKeyword,
  ...keywords("command_line_fingerprint", "parent_command_line_fingerprint", "process_current_directory", "process_integrity_level"),
  ...keywords("file_original_name", "file_company", "file_description", "file_product", "file_version", "file_path", "file_name"),
  ...keywords("user_name", "user_domain", "user_logon_id", "user_logon_guid", "subject_user_sid", "subject_user_name", "subject_domain_name", "subject_logon_id"),
  ...keywords("target_user_sid", "target_user_name", "target_domain_name", "target_logon_id", "parent_user_name"),
  user_session_id: integer,
  ...keywords("hash_sha1", "hash_md5", "hash_sha256", "hash_imphash"),
  src_ip: { type: "ip" },
  src_port: integer,
  dst_ip: { type: "ip" },
  dst_port: integer,
  ...keywords("src_hostname", "dst_hostname", "network_protocol", "community_id", "src_ip_type", "src_ip_range", "dst_ip_type", "dst_ip_range"),
  src_ip_version: { type: "byte" },
  dst_ip_version: { type: "byte" },
  src_geo: geo,
  dst_geo: geo,
  src_as: autonomousSystem,
  dst_as: autonomousSystem,
  network_initiated: boolean,
  src_is_ipv6: boolean,
  dst_is_ipv6: boolean,
  ...keywords("network_direction", "network_direction_description", "network_layer", "network_layer_description"),
  logon_type: integer,
  ...keywords("logon_type_description", "logon_status", "logon_status_description", "logon_sub_status", "logon_sub_status_description", "logon_authentication_package"),
  logon_key_length: integer,
  ...keywords("service_name", "service_image_path", "service_type", "service_start_type", "task_name", "registry_key_path", "registry_event_type"),
  registry_value_data: keyword,
  ...keywords("dns_query_name", "dns_query_status", "pipe_name", "module_path", "module_name", "target_process_guid", "target_process_path", "target_process_name"),
  target_process_id: long,
  thread_id: long,
  signed: boolean,
  file_is_executable: boolean,
  file_archived: boolean,
  script_block_text: textWithKeyword,
  ...keywords("script_block_id", "script_block_fingerprint", "script_path", "powershell_host_application", "powershell_command_name"),
  script_block_part: integer,
  script_block_parts: integer,
  script_block_length: integer,
  powershell_payload: { type: "text" },
  task_content: { type: "text" },
  wmi_client_process_id: long,
  ...keywords("rule_name", "join_key"),
  message: { type: "text" },
  attack: {
    properties: Object.fromEntries(
      Object.entries(ATTACK_CONTEXT_FIELD_TYPES).map(([field, type]) => [field, type === "keyword" ? keyword : { type }]),
    ),
  },
  envelope: { type: "object", enabled: false },
};

/**
 * ECS field aliases over our names (alias → our field), so ECS-based content (Sigma's `ecs_windows` pipeline,
 * Elastic's rules) queries our indices unchanged without storing anything twice.
 */
export const ECS_ALIASES: Readonly<Record<string, string>> = {
  "event.code": "event_id",
  "event.action": "action",
  "winlog.channel": "channel",
  "winlog.event_id": "event_id",
  "winlog.record_id": "record_number",
  "winlog.computer_name": "host_name",
  "winlog.logon.id": "user_logon_id",
  "winlog.logon.type": "logon_type_description",
  "host.name": "host_name",
  "host.hostname": "host_name",
  "process.entity_id": "process_guid",
  "process.pid": "process_id",
  "process.name": "process_name",
  "process.executable": "process_path",
  "process.command_line": "command_line",
  "process.working_directory": "process_current_directory",
  "process.thread.id": "thread_id",
  "process.hash.md5": "hash_md5",
  "process.hash.sha1": "hash_sha1",
  "process.hash.sha256": "hash_sha256",
  "process.pe.imphash": "hash_imphash",
  "process.pe.original_file_name": "file_original_name",
  "process.pe.company": "file_company",
  "process.pe.description": "file_description",
  "process.pe.product": "file_product",
  "process.pe.file_version": "file_version",
  "process.parent.entity_id": "parent_process_guid",
  "process.parent.pid": "parent_process_id",
  "process.parent.name": "parent_process_name",
  "process.parent.executable": "parent_process_path",
  "process.parent.command_line": "parent_command_line",
  "user.name": "user_name",
  "user.domain": "user_domain",
  "user.target.name": "target_user_name",
  "user.target.domain": "target_domain_name",
  "user.target.id": "target_user_sid",
  "source.ip": "src_ip",
  "source.port": "src_port",
  "source.domain": "src_hostname",
  "source.geo.country_iso_code": "src_geo.country_iso_code",
  "source.geo.country_name": "src_geo.country_name",
  "source.geo.city_name": "src_geo.city_name",
  "source.geo.location": "src_geo.location",
  "source.as.number": "src_as.number",
  "source.as.organization.name": "src_as.organization",
  "destination.ip": "dst_ip",
  "destination.port": "dst_port",
  "destination.domain": "dst_hostname",
  "destination.geo.country_iso_code": "dst_geo.country_iso_code",
  "destination.geo.country_name": "dst_geo.country_name",
  "destination.geo.city_name": "dst_geo.city_name",
  "destination.geo.location": "dst_geo.location",
  "destination.as.number": "dst_as.number",
  "destination.as.organization.name": "dst_as.organization",
  "network.transport": "network_protocol",
  "network.community_id": "community_id",
  "file.path": "file_path",
  "file.name": "file_name",
  "dll.path": "module_path",
  "dll.name": "module_name",
  "registry.path": "registry_key_path",
  "registry.data.strings": "registry_value_data",
  "dns.question.name": "dns_query_name",
  "service.name": "service_name",
  "rule.name": "rule_name",
  "powershell.file.script_block_text": "script_block_text",
  "powershell.file.script_block_id": "script_block_id",
  "powershell.sequence": "script_block_part",
  "powershell.total": "script_block_parts",
  "threat.technique.id": "attack.technique_id",
  "threat.technique.name": "attack.technique_name",
  "threat.tactic.name": "attack.tactics",
};

/** Windows event-data names the mapping reads: `winlog.event_data.<Name>` aliases `event_data.<Name>` (winlogbeat's names). */
export const EVENT_DATA_FIELDS: readonly string[] = [...new Set([...GENERIC_WINDOWS_FIELDS, ...mappedWindowsFields()])].sort();

/** Sets `value` at a dotted path of nested `properties`. */
function place(properties: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let at = properties;
  for (const part of parts.slice(0, -1)) {
    const node = (at[part] ??= { properties: {} }) as { properties: Record<string, unknown> };
    at = node.properties;
  }
  at[parts.at(-1)!] = value;
}

function properties(): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(fields);
  out.event_data = { type: "object", properties: keywords(...EVENT_DATA_FIELDS) };
  for (const [alias, path] of Object.entries(ECS_ALIASES)) place(out, alias, { type: "alias", path });
  for (const name of EVENT_DATA_FIELDS) place(out, `winlog.event_data.${name}`, { type: "alias", path: `event_data.${name}` });
  return out;
}

/**
 * Mapping of enriched events and joined documents. Event data is all strings (see normalize.ts), mapped as
 * keywords; shipper envelopes are kept in `_source` only (`enabled: false`), so their differing shapes
 * (nxlog's `host` string, winlogbeat's `host` object) can never conflict.
 */
const mappings = {
  dynamic_templates: [
    { event_data: { path_match: "event_data.*", mapping: keyword } },
    { mitre_tags: { match: "mitre_*", match_mapping_type: "string", mapping: keyword } },
    { strings: { match_mapping_type: "string", mapping: keyword } },
  ],
  properties: properties(),
};

/**
 * Stamps every document with the time the engine indexed it (`indexed_at`): the detection scheduler
 * (detections/scheduler.ts) reads events indexed since its last run, whatever their own time.
 */
export const INDEXED_AT_PIPELINE = "helk-indexed-at";
const indexedAtPipeline = {
  description: "HELK: indexed_at = the time the engine indexed the document",
  processors: [{ set: { field: "indexed_at", value: "{{{_ingest.timestamp}}}" } }],
};

const settings = {
  "index.default_pipeline": INDEXED_AT_PIPELINE,
  "index.mapping.total_fields.limit": 2000,
  // One copy on a single-node lab, two once a second node joins.
  "index.auto_expand_replicas": "0-1",
};

/** The index templates the service installs at start-up (names fixed by the common contract). */
export const INDEX_TEMPLATES = {
  [TEMPLATE_NAMES.events]: { index_patterns: [`${EVENTS_INDEX_PREFIX}*`], priority: 200, template: { settings, mappings } },
  [TEMPLATE_NAMES.processNetwork]: { index_patterns: [`${PROCESS_NETWORK_INDEX_PREFIX}*`], priority: 200, template: { settings, mappings } },
};

export async function installTemplates(engine: Engine): Promise<void> {
  await engine.request({ method: "PUT", path: `/_ingest/pipeline/${INDEXED_AT_PIPELINE}`, body: indexedAtPipeline });
  for (const [name, body] of Object.entries(INDEX_TEMPLATES)) {
    await engine.request({ method: "PUT", path: `/_index_template/${name}`, body });
  }
}
