import { describe, expect, it } from "vitest";
import { SYSMON } from "../../enrichment/transforms/channels/sysmon.ts";
import { NXLOG_ENVELOPE } from "../../lib/contract/shipper-events.ts";
import { enriched, enrichedInEveryShape, expectDataKept, realEvent, winlogbeat7 } from "./channel-samples.ts";

/**
 * Sysmon mappings, one test per event id. Real events from the Security-Datasets recordings named in each
 * case; ids no recording holds (4, 6, 16, 19, 20, 21, 27, 29, 255) are checked on events written with the
 * fields Sysmon's schema documents for them.
 */

const CHANNEL = "Microsoft-Windows-Sysmon/Operational";
const SMALL = "cmd_discover_iexplorer_version_registry.zip";

async function sysmon(recording: string, id: number) {
  const raw = await realEvent(recording, CHANNEL, id);
  const doc = enrichedInEveryShape(raw);
  expectDataKept(raw, doc, NXLOG_ENVELOPE);
  return { raw, doc };
}

const baseName = (path: unknown) => String(path).split("\\").pop();

describe("Sysmon events in real recordings", () => {
  it("1 process_create: process, parent, PE metadata, logon id, fingerprints", async () => {
    const { raw, doc } = await sysmon(SMALL, 1);
    expect(doc).toMatchObject({
      action: "process_create",
      process_path: raw.Image,
      process_current_directory: raw.CurrentDirectory,
      process_integrity_level: raw.IntegrityLevel,
      file_original_name: raw.OriginalFileName,
      file_company: raw.Company,
      user_logon_guid: raw.LogonGuid,
      user_logon_id: `0x${Number.parseInt(String(raw.LogonId).slice(2), 16).toString(16)}`,
      user_session_id: Number(raw.TerminalSessionId),
    });
    expect(doc.command_line_fingerprint).toMatch(/^[0-9a-f]{40}$/);
    expect(doc.parent_command_line_fingerprint).toMatch(/^[0-9a-f]{40}$/);
  });

  it("2 file_create_time", async () => {
    const { raw, doc } = await sysmon("cmd_mshta_vbscript_execute_psh.zip", 2);
    expect(doc).toMatchObject({ action: "file_create_time", file_path: raw.TargetFilename, file_name: baseName(raw.TargetFilename), file_previous_creation_time: raw.PreviousCreationUtcTime });
  });

  it("3 network_connect: port names, address classes, Community ID", async () => {
    const { raw, doc } = await sysmon("covenant_copy_smb_CreateRequest.zip", 3);
    expect(doc).toMatchObject({ action: "network_connect", src_ip: raw.SourceIp, dst_ip: raw.DestinationIp, dst_is_ipv6: raw.DestinationIsIpv6 === "true" });
    expect(doc.src_ip_type).toBeTypeOf("string");
    expect(doc.community_id).toMatch(/^1:/);
  });

  it("7 image_load: module, signature", async () => {
    const { raw, doc } = await sysmon(SMALL, 7);
    expect(doc).toMatchObject({ action: "image_load", module_path: raw.ImageLoaded, module_name: baseName(raw.ImageLoaded), signed: raw.Signed === "true", signature_status: raw.SignatureStatus });
  });

  it("8 create_remote_thread: source process acts, target process named", async () => {
    const { raw, doc } = await sysmon("psh_mavinject_dll_notepad.zip", 8);
    expect(doc).toMatchObject({
      action: "create_remote_thread",
      process_guid: raw.SourceProcessGuid,
      process_path: raw.SourceImage,
      process_name: baseName(raw.SourceImage),
      target_process_path: raw.TargetImage,
      target_process_name: baseName(raw.TargetImage),
      thread_start_address: raw.StartAddress,
    });
  });

  it("9 raw_access_read", async () => {
    const { raw, doc } = await sysmon(SMALL, 9);
    expect(doc).toMatchObject({ action: "raw_access_read", device_name: raw.Device });
  });

  it("10 process_access: granted access decoded into rights", async () => {
    const { raw, doc } = await sysmon(SMALL, 10);
    expect(doc).toMatchObject({ action: "process_access", process_guid: raw.SourceProcessGUID, target_process_path: raw.TargetImage, process_granted_access: raw.GrantedAccess });
    expect(doc.process_granted_access_description).toEqual(expect.arrayContaining([expect.stringMatching(/^PROCESS_|^SYNCHRONIZE$/)]));
  });

  it("11 file_create, 12 registry_create_delete, 13 registry_value_set", async () => {
    const file = await sysmon(SMALL, 11);
    expect(file.doc).toMatchObject({ action: "file_create", file_path: file.raw.TargetFilename });
    const key = await sysmon(SMALL, 12);
    expect(key.doc).toMatchObject({ action: "registry_create_delete", registry_key_path: key.raw.TargetObject, registry_event_type: key.raw.EventType });
    const value = await sysmon(SMALL, 13);
    expect(value.doc).toMatchObject({ action: "registry_value_set", registry_key_path: value.raw.TargetObject, registry_value_data: value.raw.Details });
  });

  it("17 pipe_create, 18 pipe_connect", async () => {
    const created = await sysmon("cmd_psexec_lsa_secrets_dump.zip", 17);
    expect(created.doc).toMatchObject({ action: "pipe_create", pipe_name: created.raw.PipeName });
    const connected = await sysmon("cmd_psexec_lsa_secrets_dump.zip", 18);
    expect(connected.doc).toMatchObject({ action: "pipe_connect", pipe_name: connected.raw.PipeName });
  });

  it("22 dns_query: status named", async () => {
    const { raw, doc } = await sysmon("psh_powershell_httplistener.zip", 22);
    expect(doc).toMatchObject({ action: "dns_query", dns_query_name: raw.QueryName, dns_query_status: raw.QueryStatus, dns_query_results: raw.QueryResults });
    expect(doc.dns_query_status_description).toBeTypeOf("string");
  });

  it("23 file_delete, 26 file_delete_detected", async () => {
    const deleted = await sysmon("psh_windows_vault_web_credentials.zip", 23);
    expect(deleted.doc).toMatchObject({ action: "file_delete", file_path: deleted.raw.TargetFilename, file_is_executable: deleted.raw.IsExecutable === "true" });
    const detected = await sysmon("aadinternals_export_adfsdatabaseconfig_remotely.zip", 26);
    expect(detected.doc).toMatchObject({ action: "file_delete_detected", file_path: detected.raw.TargetFilename });
  });

  // Events whose fields need nothing but the mapping: recording, event id, what the document holds.
  it.each<[string, string, number, (raw: Record<string, unknown>) => Record<string, unknown>]>([
    ["5 process_terminate", SMALL, 5, (raw) => ({ action: "process_terminate", process_path: raw.Image, process_guid: raw.ProcessGuid })],
    ["14 registry_rename", "empire_dcom_shellwindows_stager.zip", 14, (raw) => ({ action: "registry_rename", registry_key_path: raw.TargetObject, registry_key_new_name: raw.NewName })],
    ["15 file_create_stream_hash", "covenant_dcom_iertutil_dll_hijack.zip", 15, (raw) => ({ action: "file_create_stream_hash", file_path: raw.TargetFilename })],
    ["24 clipboard_change", "cmd_service_mod_fax.zip", 24, (raw) => ({ action: "clipboard_change", clipboard_client_info: raw.ClientInfo })],
    ["25 process_tampering", "cmd_psh_stop_netprofm_eventlog_after_reboot.zip", 25, (raw) => ({ action: "process_tampering", process_tampering_type: raw.Type, process_path: raw.Image })],
    ["28 file_block_shredding", "cmd_dumping_ntds_dit_file_ntdsutil.zip", 28, (raw) => ({ action: "file_block_shredding", file_path: raw.TargetFilename })],
  ])("%s", async (_name, recording, id, expected) => {
    const { raw, doc } = await sysmon(recording, id);
    expect(doc).toMatchObject(expected(raw));
  });
});

describe("Sysmon events no recording holds (schema fields)", () => {
  const sysmonEvent = (id: number, data: Record<string, string>) =>
    enriched(winlogbeat7(CHANNEL, id, { RuleName: "-", UtcTime: "2024-05-06 07:08:09.123", ProcessGuid: "{11111111-2222-3333-4444-555555555555}", ProcessId: "4242", Image: "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe", User: "NT AUTHORITY\\SYSTEM", ...data }));

  it.each([
    [4, { State: "Started", Version: "15.15", SchemaVersion: "4.90" }, { action: "sysmon_state_change", sysmon_state: "Started", sysmon_version: "15.15" }],
    [6, { ImageLoaded: "C:\\Windows\\System32\\drivers\\evil.sys", Hashes: "SHA256=AB", Signed: "false", Signature: "", SignatureStatus: "Unavailable" }, { action: "driver_load", module_name: "evil.sys", signed: false, hash_sha256: "ab" }],
    [16, { Configuration: "C:\\sysmon.xml", ConfigurationFileHash: "SHA256=CD" }, { action: "sysmon_config_change", sysmon_configuration: "C:\\sysmon.xml" }],
    [19, { EventType: "WmiFilterEvent", Operation: "Created", EventNamespace: "\"root\\\\cimv2\"", Name: "\"evil\"", Query: "\"SELECT * FROM __InstanceModificationEvent\"" }, { action: "wmi_event_filter", wmi_operation: "Created", wmi_filter_name: "\"evil\"" }],
    [20, { EventType: "WmiConsumerEvent", Operation: "Created", Name: "\"evil\"", Type: "Command Line", Destination: "\"cmd.exe /c calc\"" }, { action: "wmi_event_consumer", wmi_consumer_type: "Command Line", wmi_consumer_destination: "\"cmd.exe /c calc\"" }],
    [21, { EventType: "WmiBindingEvent", Operation: "Created", Consumer: "\"CommandLineEventConsumer.Name=\\\"evil\\\"\"", Filter: "\"__EventFilter.Name=\\\"evil\\\"\"" }, { action: "wmi_event_consumer_to_filter", wmi_consumer_path: "\"CommandLineEventConsumer.Name=\\\"evil\\\"\"" }],
    [27, { TargetFilename: "C:\\Users\\a\\Downloads\\x.exe", Hashes: "SHA256=EF", IsExecutable: "true" }, { action: "file_block_executable", file_name: "x.exe", file_is_executable: true }],
    [29, { TargetFilename: "C:\\Users\\a\\Downloads\\y.exe", Hashes: "SHA256=01", IsExecutable: "true" }, { action: "file_executable_detected", file_name: "y.exe" }],
    [255, { ID: "2", Description: "Failed to open service configuration" }, { action: "sysmon_error", sysmon_error_id: "2" }],
  ])("%i", (id, data, expected) => {
    expect(sysmonEvent(id, data)).toMatchObject(expected);
  });

  it("every Sysmon event id 1-29 and 255 has an action", () => {
    const ids = [...Array.from({ length: 29 }, (_, i) => i + 1), 255];
    expect(ids.filter((id) => SYSMON.get(id)?.action === undefined)).toEqual([]);
    expect(new Set(ids.map((id) => SYSMON.get(id)!.action)).size).toBe(ids.length);
  });
});
