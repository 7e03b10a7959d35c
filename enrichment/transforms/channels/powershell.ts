import type { EventDocument } from "../normalize.ts";
import { channel, type EventData, type EventMapping, type FieldRule, integer, sourceText, text } from "./fields.ts";

/**
 * PowerShell: the classic "Windows PowerShell" channel (400/403 engine start/stop, 600 provider start, 800
 * pipeline details) and "Microsoft-Windows-PowerShell/Operational" (4103 module logging, 4104 script blocks,
 * 4105/4106 script block start/stop, console and remoting events).
 *
 * The engine/provider/pipeline details are `Key=Value` lines (400/600/800: the last `param` of the event
 * data, or the message when a shipper sent no event data) or `Key = Value` lines (4103 `ContextInfo`); both
 * become `powershell_*` fields (`powershell_host_application` is the PowerShell host's command line).
 */

/** Detail keys (spaces removed, lower case) → field. */
const DETAIL_FIELDS: Record<string, string> = {
  hostapplication: "powershell_host_application",
  hostname: "powershell_host_name",
  hostversion: "powershell_host_version",
  hostid: "powershell_host_id",
  engineversion: "powershell_engine_version",
  runspaceid: "powershell_runspace_id",
  pipelineid: "powershell_pipeline_id",
  commandname: "powershell_command_name",
  commandtype: "powershell_command_type",
  scriptname: "powershell_script_name",
  commandpath: "powershell_command_path",
  commandline: "powershell_command_line",
  sequencenumber: "powershell_sequence_number",
  user: "powershell_user",
  userid: "powershell_user",
  connecteduser: "powershell_connected_user",
  shellid: "powershell_shell_id",
  newenginestate: "powershell_engine_state",
  previousenginestate: "powershell_previous_engine_state",
  providername: "powershell_provider_name",
  newproviderstate: "powershell_provider_state",
  severity: "powershell_severity",
};

/**
 * One `Key=Value` or `Key = Value` line. Other lines (messages, 800's command invocations) do not match or
 * have keys no field is named after. The value is taken as it is up to the line's end (host command lines
 * run to kilobytes: no copies).
 */
const DETAIL_LINE = /^[ \t]*([A-Za-z][A-Za-z ]{0,40}?) ?=[ \t]?(.*)$/gm;

function applyDetails(details: string, doc: EventDocument): void {
  for (const match of details.matchAll(DETAIL_LINE)) {
    const field = DETAIL_FIELDS[match[1]!.replaceAll(" ", "").toLowerCase()];
    if (field === undefined) continue;
    const value = match[2]!.endsWith("\r") ? match[2]!.slice(0, -1) : match[2]!;
    if (value !== "") doc[field] = value;
  }
}

/** The details of a classic-channel event: its last `paramN` holding `Key=Value` lines, else the message. */
function classicDetails(data: EventData, doc: EventDocument): void {
  for (const name of ["param3", "param2", "param1"]) {
    const v = data[name];
    if (typeof v === "string" && v.includes("=")) return applyDetails(v, doc);
  }
  if (typeof doc.message === "string") applyDetails(doc.message, doc);
}

function contextInfo(data: EventData, doc: EventDocument): void {
  const info = sourceText(data, ["ContextInfo"]);
  if (info !== undefined) applyDetails(info, doc);
}

/** 4104: the script block, its part number and count (long scripts are logged in parts) and its length. */
function scriptBlock(data: EventData, doc: EventDocument): void {
  const blockText = sourceText(data, ["ScriptBlockText"]);
  if (blockText !== undefined) doc.script_block_length = blockText.length;
}

const event = (action: string, fields: FieldRule[], parse?: EventMapping["parse"]): EventMapping => ({ action, fields, parse });
const runspace = text("powershell_runspace_id", "RunspaceId");

export const WINDOWS_POWERSHELL = channel({
  400: event("engine_start", [], classicDetails),
  403: event("engine_stop", [], classicDetails),
  600: event("provider_start", [], classicDetails),
  800: event("pipeline_execution", [], classicDetails),
});

export const POWERSHELL_OPERATIONAL = channel({
  4100: event("powershell_error", [text("powershell_payload", "Payload")], contextInfo),
  4103: event("module_logging", [text("powershell_payload", "Payload")], contextInfo),
  4104: event("script_block_logging", [
    text("script_block_text", "ScriptBlockText"),
    text("script_block_id", "ScriptBlockId"),
    integer("script_block_part", "MessageNumber"),
    integer("script_block_parts", "MessageTotal"),
    text("script_path", "Path"),
  ], scriptBlock),
  4105: event("script_block_start", [text("script_block_id", "ScriptBlockId"), runspace]),
  4106: event("script_block_stop", [text("script_block_id", "ScriptBlockId"), runspace]),
  40961: event("console_start", []),
  40962: event("console_ready", []),
  53504: event("ipc_listener_start", [integer("process_id", "param1"), text("powershell_app_domain", "param2")]),
});
