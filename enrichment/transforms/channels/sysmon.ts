import { SYSMON_EVENT_TYPES } from "../../../lib/contract/shipper-events.ts";
import type { EventDocument } from "../normalize.ts";
import { channel, coded, type EventData, type EventMapping, type FieldRule, flag, integer, logonId, text } from "./fields.ts";
import { DNS_QUERY_STATUS, PROCESS_ACCESS_RIGHTS } from "./tables.ts";

/**
 * Sysmon (Microsoft-Windows-Sysmon/Operational), every event id of Sysmon 15 (1-29, 255). Process, network,
 * hash, user and rule fields come from `normalize.ts`; these are the per-event ones. Action names follow
 * Sysmon's own event names.
 */

const file: FieldRule[] = [text("file_path", "TargetFilename"), text("file_creation_time", "CreationUtcTime")];
const peInfo: FieldRule[] = [
  text("file_version", "FileVersion"),
  text("file_description", "Description"),
  text("file_product", "Product"),
  text("file_company", "Company"),
  text("file_original_name", "OriginalFileName"),
];
const signature: FieldRule[] = [flag("signed", "Signed"), text("signature", "Signature"), text("signature_status", "SignatureStatus")];
const registry: FieldRule[] = [text("registry_event_type", "EventType"), text("registry_key_path", "TargetObject")];
/** Process access and remote threads: the source process is the actor, the target process what it touched. */
const sourceTarget: FieldRule[] = [
  text("process_guid", "SourceProcessGuid", "SourceProcessGUID"),
  integer("process_id", "SourceProcessId"),
  text("process_path", "SourceImage"),
  text("user_name", "SourceUser"),
  text("target_process_guid", "TargetProcessGuid", "TargetProcessGUID"),
  integer("target_process_id", "TargetProcessId"),
  text("target_process_path", "TargetImage"),
  text("target_user_name", "TargetUser"),
];
const wmi: FieldRule[] = [text("wmi_event_type", "EventType"), text("wmi_operation", "Operation")];
const deleted: FieldRule[] = [...file, flag("file_is_executable", "IsExecutable"), flag("file_archived", "Archived")];

/** `C:\x\y.exe` → `y.exe`: the base names of the paths a mapping sets. */
function baseNames(pairs: ReadonlyArray<readonly [string, string]>) {
  return (_data: EventData, doc: EventDocument): void => {
    for (const [pathField, nameField] of pairs) {
      const path = doc[pathField];
      if (typeof path !== "string") continue;
      const cut = Math.max(path.lastIndexOf("\\"), path.lastIndexOf("/"));
      doc[nameField] = cut === -1 ? path : path.slice(cut + 1);
    }
  };
}

const withFileName = baseNames([["file_path", "file_name"]]);

/**
 * Sysmon's own `EventType` (registry and WMI events), which nxlog leaves among its envelope fields: taken from
 * there (into the field and back into `event_data`, where the other shippers have it) when it has a Sysmon value.
 */
function eventTypeFromEnvelope(field: string) {
  return (_data: EventData, doc: EventDocument): void => {
    const shipped = doc.envelope.EventType;
    if (doc[field] !== undefined || typeof shipped !== "string" || !SYSMON_EVENT_TYPES.test(shipped)) return;
    doc[field] = shipped;
    doc.event_data.EventType = shipped;
  };
}
const registryEventType = eventTypeFromEnvelope("registry_event_type");
const wmiEventType = eventTypeFromEnvelope("wmi_event_type");
const event = (action: string, fields: FieldRule[], parse?: EventMapping["parse"]): EventMapping => ({ action, fields, parse });

export const SYSMON = channel({
  1: event("process_create", [
    ...peInfo,
    text("process_current_directory", "CurrentDirectory"),
    text("process_integrity_level", "IntegrityLevel"),
    text("user_logon_guid", "LogonGuid"),
    logonId("user_logon_id", "LogonId"),
    integer("user_session_id", "TerminalSessionId"),
    text("parent_user_name", "ParentUser"),
  ]),
  2: event("file_create_time", [...file, text("file_previous_creation_time", "PreviousCreationUtcTime")], withFileName),
  3: event("network_connect", [
    flag("src_is_ipv6", "SourceIsIpv6"),
    text("src_port_name", "SourcePortName"),
    flag("dst_is_ipv6", "DestinationIsIpv6"),
    text("dst_port_name", "DestinationPortName"),
  ]),
  4: event("sysmon_state_change", [text("sysmon_state", "State"), text("sysmon_version", "Version"), text("sysmon_schema_version", "SchemaVersion")]),
  5: event("process_terminate", []),
  6: event("driver_load", [text("module_path", "ImageLoaded"), ...signature], baseNames([["module_path", "module_name"]])),
  7: event("image_load", [text("module_path", "ImageLoaded"), ...peInfo, ...signature], baseNames([["module_path", "module_name"]])),
  8: event("create_remote_thread", [
    ...sourceTarget,
    integer("thread_id", "NewThreadId"),
    text("thread_start_address", "StartAddress"),
    text("thread_start_module", "StartModule"),
    text("thread_start_function", "StartFunction"),
  ], baseNames([["process_path", "process_name"], ["target_process_path", "target_process_name"]])),
  9: event("raw_access_read", [text("device_name", "Device")]),
  10: event("process_access", [
    ...sourceTarget,
    integer("thread_id", "SourceThreadId"),
    coded("process_granted_access", "GrantedAccess", PROCESS_ACCESS_RIGHTS),
    text("process_call_trace", "CallTrace"),
  ], baseNames([["process_path", "process_name"], ["target_process_path", "target_process_name"]])),
  11: event("file_create", file, withFileName),
  12: event("registry_create_delete", registry, registryEventType),
  13: event("registry_value_set", [...registry, text("registry_value_data", "Details")], registryEventType),
  14: event("registry_rename", [...registry, text("registry_key_new_name", "NewName")], registryEventType),
  15: event("file_create_stream_hash", [...file, text("file_stream_contents", "Contents")], withFileName),
  16: event("sysmon_config_change", [text("sysmon_configuration", "Configuration"), text("sysmon_configuration_hash", "ConfigurationFileHash")]),
  17: event("pipe_create", [text("pipe_name", "PipeName")]),
  18: event("pipe_connect", [text("pipe_name", "PipeName")]),
  19: event("wmi_event_filter", [...wmi, text("wmi_namespace", "EventNamespace"), text("wmi_filter_name", "Name"), text("wmi_query", "Query")], wmiEventType),
  20: event("wmi_event_consumer", [...wmi, text("wmi_consumer_name", "Name"), text("wmi_consumer_type", "Type"), text("wmi_consumer_destination", "Destination")], wmiEventType),
  21: event("wmi_event_consumer_to_filter", [...wmi, text("wmi_consumer_path", "Consumer"), text("wmi_filter_path", "Filter")], wmiEventType),
  22: event("dns_query", [
    text("dns_query_name", "QueryName"),
    coded("dns_query_status", "QueryStatus", DNS_QUERY_STATUS),
    text("dns_query_results", "QueryResults"),
  ]),
  23: event("file_delete", deleted, withFileName),
  24: event("clipboard_change", [integer("user_session_id", "Session"), text("clipboard_client_info", "ClientInfo"), flag("file_archived", "Archived")]),
  25: event("process_tampering", [text("process_tampering_type", "Type")]),
  26: event("file_delete_detected", deleted, withFileName),
  27: event("file_block_executable", deleted, withFileName),
  28: event("file_block_shredding", deleted, withFileName),
  29: event("file_executable_detected", deleted, withFileName),
  255: event("sysmon_error", [text("sysmon_error_id", "ID"), text("sysmon_error_description", "Description")]),
});
