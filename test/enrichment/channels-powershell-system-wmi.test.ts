import { describe, expect, it } from "vitest";
import { NXLOG_ENVELOPE } from "../../lib/contract/shipper-events.ts";
import { enriched, enrichedInEveryShape, expectDataKept, realEvent, realEvents, winlogbeat7 } from "./channel-samples.ts";

/**
 * PowerShell, System and WMI-Activity mappings over real events. Recordings (Security-Datasets):
 * covenant_com_wsman_automation.zip (Windows PowerShell 400, 403, 600, 800; WMI 5857),
 * empire_shell_samr_EnumDomainUsers.zip (4103), empire_ninjacopy_dumping_ntds_dit_file.zip (4104 in parts),
 * reg_stop_event_logging_controlset001_minint_key.zip (4105, 4106), cmd_psexec_lsa_secrets_dump.zip (7045),
 * cmd_discover_iexplorer_version_registry.zip (104), covenant_installutil.zip (7036),
 * cmd_bitsadmin_download_psh_script.zip (7040), msf_record_mic.zip (5858),
 * covenant_dcom_executeexcel4macro_allowed.zip (5860). WMI 5859 and 5861 are in no recording: checked on
 * events with the UserData fields Windows writes for them.
 */

const PS = "Microsoft-Windows-PowerShell/Operational";
const WMI = "Microsoft-Windows-WMI-Activity/Operational";
const WSMAN = "covenant_com_wsman_automation.zip";

async function mapped(recording: string, channel: string, id: number) {
  const raw = await realEvent(recording, channel, id);
  const doc = enrichedInEveryShape(raw);
  expectDataKept(raw, doc, NXLOG_ENVELOPE);
  return { raw, doc };
}

describe("Windows PowerShell (classic channel)", () => {
  it("400 engine start: the details block read into powershell_* fields", async () => {
    const { doc } = await mapped(WSMAN, "Windows PowerShell", 400);
    expect(doc).toMatchObject({
      action: "engine_start",
      powershell_engine_state: "Available",
      powershell_previous_engine_state: "None",
      powershell_host_name: "Default Host",
      powershell_host_application: "C:\\Users\\pgustavo\\Desktop\\GruntHTTP.exe",
      powershell_runspace_id: "6c03bf89-2445-48f4-b26e-b57a63e9c5d9",
      powershell_host_version: "5.1.18362.752",
    });
    expect(doc.powershell_command_line).toBeUndefined(); // "CommandLine=" is empty
  });

  it("403 engine stop, 600 provider start, 800 pipeline execution", async () => {
    expect((await mapped(WSMAN, "Windows PowerShell", 403)).doc.action).toBe("engine_stop");
    const provider = (await mapped(WSMAN, "Windows PowerShell", 600)).doc;
    expect(provider).toMatchObject({ action: "provider_start", powershell_provider_state: "Started" });
    expect(provider.powershell_provider_name).toBeTypeOf("string");
    const pipeline = (await mapped(WSMAN, "Windows PowerShell", 800)).doc;
    expect(pipeline).toMatchObject({ action: "pipeline_execution", powershell_user: "THESHIRE\\pgustavo", powershell_host_application: "C:\\Users\\pgustavo\\Desktop\\GruntHTTP.exe" });
    expect(pipeline.powershell_command_line).toBe("$wsman = new-object -com WSMan.Automation");
  });
});

describe("PowerShell operational", () => {
  it("4103 module logging: payload and context", async () => {
    const { raw, doc } = await mapped("empire_shell_samr_EnumDomainUsers.zip", PS, 4103);
    expect(doc.action).toBe("module_logging");
    expect(doc.powershell_payload).toBe(raw.Payload);
    expect(doc.powershell_host_application).toMatch(/^C:\\windows\\System32\\WindowsPowerShell\\v1\.0\\powershell\.exe -noP -sta -w 1 -enc /i);
    expect(doc.powershell_host_name).toBe("ConsoleHost");
    expect(doc.powershell_command_name).toBeTypeOf("string");
    expect(doc.powershell_user).toMatch(/\\/);
  });

  it("4104 script block: id, part, parts, length and a fingerprint per part", async () => {
    const parts = (await realEvents("empire_ninjacopy_dumping_ntds_dit_file.zip", PS, 4104)).filter((e) => e.MessageTotal === "3");
    expect(parts.length).toBeGreaterThanOrEqual(3);
    const docs = parts.slice(0, 3).map((raw) => ({ raw, doc: enrichedInEveryShape(raw) }));
    for (const { raw, doc } of docs) {
      expect(doc).toMatchObject({ action: "script_block_logging", script_block_id: raw.ScriptBlockId, script_block_part: Number(raw.MessageNumber), script_block_parts: 3 });
      expect(doc.script_block_length).toBe(String(raw.ScriptBlockText).length);
      expect(doc.script_block_fingerprint).toMatch(/^[0-9a-f]{40}$/);
    }
    expect(new Set(docs.map((d) => d.doc.script_block_fingerprint)).size).toBe(3);
  });

  it("4105/4106 script block start and stop", async () => {
    const start = await mapped("reg_stop_event_logging_controlset001_minint_key.zip", PS, 4105);
    expect(start.doc).toMatchObject({ action: "script_block_start", script_block_id: start.raw.ScriptBlockId, powershell_runspace_id: start.raw.RunspaceId });
    expect((await mapped("reg_stop_event_logging_controlset001_minint_key.zip", PS, 4106)).doc.action).toBe("script_block_stop");
  });
});

describe("System", () => {
  it("7045 service installed", async () => {
    const { doc } = await mapped("cmd_psexec_lsa_secrets_dump.zip", "System", 7045);
    expect(doc).toMatchObject({ action: "service_install", service_name: "PSEXESVC", service_image_path: "%SystemRoot%\\PSEXESVC.exe", service_type: "user mode service", service_start_type: "demand start" });
  });

  it("7036 service state change, 7040 start type change", async () => {
    const { raw, doc } = await mapped("covenant_installutil.zip", "System", 7036);
    expect(doc).toMatchObject({ action: "service_state_change", service_name: raw.param1, service_state: raw.param2 });
    const changed = await mapped("cmd_bitsadmin_download_psh_script.zip", "System", 7040);
    expect(changed.doc).toMatchObject({ action: "service_start_type_change", service_name: changed.raw.param1, service_start_type: changed.raw.param3 });
  });

  it("104 event log cleared: the log named from the message", async () => {
    const { doc } = await mapped("cmd_discover_iexplorer_version_registry.zip", "System", 104);
    expect(doc).toMatchObject({ action: "event_log_cleared", cleared_log_name: "System" });
  });
});

describe("WMI activity", () => {
  it("5857 provider started: host process, process id and provider path from the message", async () => {
    const { doc } = await mapped(WSMAN, WMI, 5857);
    expect(doc).toMatchObject({ action: "wmi_provider_start", process_name: "wmiprvse.exe", process_id: 2440, wmi_provider_path: "%systemroot%\\system32\\wbem\\cimwin32.dll" });
  });

  it("5858 operation error: operation, client process, result code", async () => {
    const { doc } = await mapped("msf_record_mic.zip", WMI, 5858);
    expect(doc).toMatchObject({ action: "wmi_operation_error", wmi_client_machine: "WORKSTATION6", user_name: "NT AUTHORITY\\SYSTEM", wmi_client_process_id: 3960, wmi_result_code: "0x80041032" });
    expect(doc.wmi_operation).toBe("Start IWbemServices::ExecNotificationQuery - ROOT\\CIMV2 : SELECT * FROM Win32_ProcessStartTrace WHERE ProcessName = 'wsmprovhost.exe'");
  });

  it("5860 temporary subscription (a pair separated by a comma)", async () => {
    const { doc } = await mapped("covenant_dcom_executeexcel4macro_allowed.zip", WMI, 5860);
    expect(doc).toMatchObject({ action: "wmi_temporary_subscription", wmi_namespace: "ROOT\\CIMV2", wmi_client_process_id: 8408, wmi_client_machine: "WORKSTATION6", wmi_possible_cause: "Temporary" });
    expect(doc.wmi_query).toBe("SELECT * FROM Win32_ProcessStartTrace WHERE ProcessName = 'wsmprovhost.exe'");
  });

  it("5861 permanent subscription and 5859 event query from UserData (winlogbeat)", () => {
    const permanent = enriched(
      winlogbeat7(WMI, 5861, {}, {
        user_data: { Namespace: "//./root/subscription", ESS: "evil", CONSUMER: "CommandLineEventConsumer=\"evil\"", PossibleCause: "Binding EventFilter: instance of __EventFilter { Query = \"SELECT * FROM ...\"; }; Perm. Consumer: instance of CommandLineEventConsumer { CommandLineTemplate = \"cmd.exe /c calc\"; };" },
      }),
    );
    expect(permanent).toMatchObject({ action: "wmi_permanent_subscription", wmi_namespace: "//./root/subscription", wmi_event_filter: "evil", wmi_consumer: "CommandLineEventConsumer=\"evil\"" });
    expect(permanent.wmi_possible_cause).toContain("cmd.exe /c calc");
    const query = enriched(winlogbeat7(WMI, 5859, {}, { user_data: { NamespaceName: "//./root/CIMV2", Query: "SELECT * FROM Win32_ProcessStartTrace", User: "NT AUTHORITY\\SYSTEM", processid: "1234", Provider: "WMI Kernel Trace Event Provider", queryid: "0", PossibleCause: "Permanent" } }));
    expect(query).toMatchObject({ action: "wmi_event_query", wmi_namespace: "//./root/CIMV2", wmi_query: "SELECT * FROM Win32_ProcessStartTrace", process_id: 1234, wmi_provider_name: "WMI Kernel Trace Event Provider" });
  });
});
