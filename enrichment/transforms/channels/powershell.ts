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

/** Longest key of a details line (`Previous Engine State`), with its indentation. */
const MAX_KEY_LENGTH = 48;
const KEY = /^[ \t]*([A-Za-z][A-Za-z ]*?) ?$/;

/**
 * Reads `Key=Value` / `Key = Value` lines. Other lines (messages, 800's command invocations) have no key
 * or keys no field is named after. Lines are walked with `indexOf`, and a value is a slice of the text up to
 * the line's end: host command lines run to kilobytes and are neither scanned nor copied.
 */
function applyDetails(details: string, doc: EventDocument): void {
  for (let start = 0; start < details.length; ) {
    const newline = details.indexOf("\n", start);
    const end = newline === -1 ? details.length : newline;
    const eq = details.slice(start, Math.min(end, start + MAX_KEY_LENGTH)).indexOf("=");
    if (eq > 0) {
      const key = KEY.exec(details.slice(start, start + eq))?.[1];
      const field = key === undefined ? undefined : DETAIL_FIELDS[key.replaceAll(" ", "").toLowerCase()];
      if (field !== undefined) {
        const valueEnd = details.charCodeAt(end - 1) === 13 ? end - 1 : end; // \r
        const value = details.slice(start + eq + 1, valueEnd).trim();
        if (value !== "") doc[field] = value;
      }
    }
    start = end + 1;
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
