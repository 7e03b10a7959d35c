import type { Engine } from "../lib/engine.ts";
import { ATTACK_CONTEXT_FIELD_TYPES } from "../lib/contract/attack-fields.ts";
import { EVENTS_INDEX_PREFIX, PROCESS_NETWORK_INDEX_PREFIX, TEMPLATE_NAMES } from "../lib/contract/names.ts";

const keyword = { type: "keyword", ignore_above: 8191 };
const textWithKeyword = { type: "text", fields: { keyword } };

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
  properties: {
    "@timestamp": { type: "date" },
    indexed_at: { type: "date" },
    event_id: { type: "integer" },
    record_number: { type: "long" },
    channel: keyword,
    host_name: keyword,
    source_shape: keyword,
    process_guid: keyword,
    process_id: { type: "long" },
    process_name: keyword,
    process_path: keyword,
    command_line: textWithKeyword,
    parent_process_guid: keyword,
    parent_process_id: { type: "long" },
    parent_process_name: keyword,
    parent_process_path: keyword,
    parent_command_line: textWithKeyword,
    user_name: keyword,
    hash_sha1: keyword,
    hash_md5: keyword,
    hash_sha256: keyword,
    hash_imphash: keyword,
    src_ip: { type: "ip" },
    src_port: { type: "integer" },
    src_hostname: keyword,
    dst_ip: { type: "ip" },
    dst_port: { type: "integer" },
    dst_hostname: keyword,
    network_protocol: keyword,
    network_initiated: { type: "boolean" },
    rule_name: keyword,
    join_key: keyword,
    message: { type: "text" },
    attack: {
      properties: Object.fromEntries(
        Object.entries(ATTACK_CONTEXT_FIELD_TYPES).map(([field, type]) => [field, type === "keyword" ? keyword : { type }]),
      ),
    },
    event_data: { type: "object" },
    envelope: { type: "object", enabled: false },
  },
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
