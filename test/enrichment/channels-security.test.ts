import { describe, expect, it } from "vitest";
import { NXLOG_ENVELOPE } from "../../lib/contract/shipper-events.ts";
import { enriched, enrichedInEveryShape, expectDataKept, realEvent, winlogbeat7 } from "./channel-samples.ts";

/**
 * Security channel mappings over real events. Recordings (Security-Datasets): covenant_copy_smb_CreateRequest.zip
 * (4624, 4634, 4672, 4769, 5140, 5145), reg_stop_event_logging_controlset001_minint_key.zip (4625, 4648, 4776),
 * cmd_discover_iexplorer_version_registry.zip (1102, 4688), cmd_psexec_lsa_secrets_dump.zip (4697),
 * schtask_create.zip (4698), empire_shell_rubeus_asktgt_createnetonly.zip (4699),
 * covenant_sharpsc_stop_dcerpc_smb_svcctl.zip (4702), empire_wmic_add_user_backdoor.zip (4720, 4724, 4726,
 * 4728), empire_shell_rubeus_asktgt_ptt.zip (4768), psh_powershell_httplistener.zip (5156). No recording holds
 * 4647, 4719, 4722, 4732, 4738, 4740, 4756 or 4771: those are checked on events written with the fields
 * Microsoft documents for them.
 */

const SMB = "covenant_copy_smb_CreateRequest.zip";
const LOGGING = "reg_stop_event_logging_controlset001_minint_key.zip";
const ADD_USER = "empire_wmic_add_user_backdoor.zip";

async function security(recording: string, id: number, where?: (e: Record<string, unknown>) => boolean) {
  const raw = await realEvent(recording, "Security", id, where);
  const doc = enrichedInEveryShape(raw);
  expectDataKept(raw, doc, NXLOG_ENVELOPE);
  return { raw, doc };
}

const logonId = (hex: unknown) => `0x${Number.parseInt(String(hex).slice(2), 16).toString(16)}`;

describe("Security logon events", () => {
  it("4624 logon: target account as the user, logon type and its name, source address, yes/no codes translated", async () => {
    const { raw, doc } = await security(SMB, 4624);
    expect(doc).toMatchObject({
      action: "logon",
      user_name: raw.TargetUserName,
      target_user_sid: raw.TargetUserSid,
      target_logon_id: logonId(raw.TargetLogonId),
      user_logon_id: logonId(raw.TargetLogonId),
      logon_type: 3,
      logon_type_description: "Network",
      src_ip: raw.IpAddress,
      src_ip_type: "private",
      logon_authentication_package: "Kerberos",
      logon_impersonation_level: "%%1833",
      logon_impersonation_level_description: "Impersonation",
      logon_elevated_token_description: "Yes",
      logon_virtual_account_description: "No",
      subject_user_sid: "S-1-0-0",
    });
  });

  it("4625 failed logon: status, sub-status and failure reason kept as codes with their meaning", async () => {
    const { raw, doc } = await security(LOGGING, 4625);
    expect(doc).toMatchObject({
      action: "logon_failed",
      user_name: raw.TargetUserName,
      subject_user_name: raw.SubjectUserName,
      logon_status: raw.Status,
      logon_status_description: "Invalid logon type",
      logon_sub_status: "0x0",
      logon_sub_status_description: "Success",
      logon_failure_reason_description: "An error occurred during logon",
      logon_type_description: "CachedInteractive",
      src_ip: "::1",
      src_ip_type: "loopback",
      src_hostname: raw.WorkstationName,
      process_path: raw.ProcessName,
    });
  });

  it("4634 logoff and 4672 special privileges", async () => {
    const logoff = await security(SMB, 4634);
    expect(logoff.doc.action).toBe("logoff");
    expect(logoff.doc.user_name).toBe(logoff.raw.TargetUserName);
    expect(logoff.doc.logon_type).toBe(Number(logoff.raw.LogonType));
    const privileged = await security(SMB, 4672);
    expect(privileged.doc.action).toBe("logon_special_privileges");
    expect(privileged.doc.privileges).toEqual(String(privileged.raw.PrivilegeList).split(/\s+/).filter(Boolean));
    expect(privileged.doc.subject_logon_id).toBe(logonId(privileged.raw.SubjectLogonId));
  });

  it("4648 explicit credentials: the server used is the destination", async () => {
    const { raw, doc } = await security(LOGGING, 4648);
    expect(doc.action).toBe("logon_explicit_credentials");
    expect(doc.target_user_name).toBe(raw.TargetUserName);
    expect(doc.dst_hostname).toBe(raw.TargetServerName);
    expect(doc.subject_user_name).toBe(raw.SubjectUserName);
  });

  it("4776 credential validation", async () => {
    const { raw, doc } = await security(LOGGING, 4776);
    expect(doc.action).toBe("credential_validation");
    expect(doc.user_name).toBe(raw.TargetUserName);
    expect(doc.logon_status).toBe(raw.Status);
    expect(doc.logon_status_description).toBeTypeOf("string");
    expect(doc.src_hostname).toBe(raw.Workstation);
  });

  it("4647 user-initiated logoff (documented fields)", () => {
    const doc = enriched(winlogbeat7("Security", 4647, { TargetUserSid: "S-1-5-21-1-2-3-1104", TargetUserName: "alice", TargetDomainName: "EXAMPLE", TargetLogonId: "0x1A2B3" }));
    expect(doc).toMatchObject({ action: "logoff_user_initiated", user_name: "alice", user_domain: "EXAMPLE", target_logon_id: "0x1a2b3" });
  });
});

describe("Security process, service, task and policy events", () => {
  it("4688 process create: the new process's id (not the creator's), parent, elevation and integrity named", async () => {
    const { raw, doc } = await security("cmd_discover_iexplorer_version_registry.zip", 4688);
    expect(doc.action).toBe("process_create");
    expect(doc.process_id).toBe(Number.parseInt(String(raw.NewProcessId).slice(2), 16));
    expect(doc.parent_process_id).toBe(Number.parseInt(String(raw.ProcessId).slice(2), 16));
    expect(doc.process_path).toBe(raw.NewProcessName);
    expect(doc.parent_process_path).toBe(raw.ParentProcessName);
    expect(doc.command_line).toBe(raw.CommandLine);
    expect(doc.command_line_fingerprint).toMatch(/^[0-9a-f]{40}$/);
    expect(doc.process_token_elevation_type).toBe(raw.TokenElevationType);
    expect(doc.process_token_elevation_type_description).toMatch(/^Type [123]:/);
    expect(doc.process_integrity_level_description).toMatch(/^(Low|Medium|High|System)/);
    expect(doc.user_name).toBe(raw.SubjectUserName);
  });

  it("4697 service install: type and start type translated", async () => {
    const { raw, doc } = await security("cmd_psexec_lsa_secrets_dump.zip", 4697);
    expect(doc).toMatchObject({
      action: "service_install",
      service_name: "PSEXESVC",
      service_image_path: raw.ServiceFileName,
      service_type: "0x10",
      service_type_description: "Own process",
      service_start_type: "3",
      service_start_type_description: "Demand start",
      service_account: "LocalSystem",
    });
  });

  it("4698/4699/4702 scheduled tasks", async () => {
    for (const [recording, id, action] of [
      ["schtask_create.zip", 4698, "scheduled_task_create"],
      ["empire_shell_rubeus_asktgt_createnetonly.zip", 4699, "scheduled_task_delete"],
      ["covenant_sharpsc_stop_dcerpc_smb_svcctl.zip", 4702, "scheduled_task_update"],
    ] as const) {
      const { raw, doc } = await security(recording, id);
      expect(doc.action).toBe(action);
      expect(doc.task_name).toBe(raw.TaskName);
      expect(doc.task_content).toBe(raw.TaskContent ?? raw.TaskContentNew);
    }
  });

  it("4719 audit policy change (documented fields)", () => {
    const doc = enriched(
      winlogbeat7("Security", 4719, {
        SubjectUserSid: "S-1-5-18", SubjectUserName: "WS01$", SubjectDomainName: "EXAMPLE", SubjectLogonId: "0x3e7",
        CategoryId: "%%8274", SubcategoryId: "%%12800", SubcategoryGuid: "{0CCE921D-69AE-11D9-BED3-505054503030}", AuditPolicyChanges: "%%8448, %%8450",
      }),
    );
    expect(doc).toMatchObject({
      action: "audit_policy_change",
      audit_category_description: "Object Access",
      audit_policy_changes_description: ["Success removed", "Failure removed"],
      subject_logon_id: "0x3e7",
    });
  });
});

describe("Security account management", () => {
  it("4720 account created: account-control changes and flags named", async () => {
    const { raw, doc } = await security(ADD_USER, 4720);
    expect(doc.action).toBe("user_account_create");
    expect(doc.target_user_name).toBe("backdoor");
    expect(doc.target_user_sid).toBe(raw.TargetSid);
    expect(doc.account_control_changes_description).toEqual(["Account Disabled", "Password Not Required - Enabled", "Normal Account - Enabled"]);
    expect(doc.account_control_new).toBe("0x15");
    expect(doc.account_control_new_description).toEqual(["Account Disabled", "Password Not Required", "Normal Account"]);
  });

  it("4724 password reset, 4726 account deleted, 4728 global group member added", async () => {
    expect((await security(ADD_USER, 4724)).doc.action).toBe("user_password_reset");
    expect((await security(ADD_USER, 4726)).doc.action).toBe("user_account_delete");
    const { raw, doc } = await security(ADD_USER, 4728);
    expect(doc).toMatchObject({ action: "group_member_add_global", group_name: raw.TargetUserName, group_sid: raw.TargetSid, member_sid: raw.MemberSid });
  });

  it.each([
    [4722, "user_account_enable"],
    [4738, "user_account_change"],
  ])("%i (documented fields)", (id, action) => {
    const doc = enriched(winlogbeat7("Security", id, { TargetUserName: "bob", TargetDomainName: "EXAMPLE", TargetSid: "S-1-5-21-1-2-3-1105", SubjectUserName: "admin", UserAccountControl: "%%2048" }));
    expect(doc).toMatchObject({ action, target_user_name: "bob", target_user_sid: "S-1-5-21-1-2-3-1105", subject_user_name: "admin", account_control_changes_description: ["Account Enabled"] });
  });

  it("4740 lockout: the caller computer is the source host (documented fields)", () => {
    const doc = enriched(winlogbeat7("Security", 4740, { TargetUserName: "carol", TargetSid: "S-1-5-21-1-2-3-1106", TargetDomainName: "WS07", SubjectUserName: "DC01$" }));
    expect(doc).toMatchObject({ action: "user_account_lockout", target_user_name: "carol", src_hostname: "WS07" });
  });

  it.each([
    [4732, "group_member_add_local"],
    [4756, "group_member_add_universal"],
  ])("%i group member added (documented fields)", (id, action) => {
    const doc = enriched(winlogbeat7("Security", id, { MemberName: "CN=bob,DC=example,DC=local", MemberSid: "S-1-5-21-1-2-3-1105", TargetUserName: "Administrators", TargetDomainName: "Builtin", TargetSid: "S-1-5-32-544" }));
    expect(doc).toMatchObject({ action, group_name: "Administrators", group_sid: "S-1-5-32-544", member_name: "CN=bob,DC=example,DC=local" });
  });
});

describe("Security Kerberos, shares, filtering platform, log clearing", () => {
  it("4768 TGT request: result, encryption type, pre-auth type and ticket options named", async () => {
    const { raw, doc } = await security("empire_shell_rubeus_asktgt_ptt.zip", 4768);
    expect(doc.action).toBe("kerberos_tgt_request");
    expect(doc.user_name).toBe(raw.TargetUserName);
    expect(doc.kerberos_status).toBe(raw.Status);
    expect(doc.kerberos_status_description).toMatch(/^K(DC|RB)_/);
    expect(doc.kerberos_ticket_options_description).toEqual(expect.arrayContaining(["Forwardable"]));
    expect(doc.kerberos_pre_auth_type).toBe(raw.PreAuthType);
  });

  it("4769 service ticket: IPv4-mapped client address indexed as IPv4", async () => {
    const { raw, doc } = await security(SMB, 4769, (e) => String(e.IpAddress).startsWith("::ffff:"));
    expect(doc.action).toBe("kerberos_service_ticket_request");
    expect(doc.src_ip).toBe(String(raw.IpAddress).slice("::ffff:".length));
    expect(doc.src_ip_version).toBe(4);
    expect(doc.kerberos_ticket_encryption_type_description).toBe("AES256-CTS-HMAC-SHA1-96");
    expect(doc.kerberos_ticket_options).toBe(raw.TicketOptions);
    expect(doc.service_name).toBe(raw.ServiceName);
  });

  it("4771 pre-authentication failed (documented fields)", () => {
    const doc = enriched(winlogbeat7("Security", 4771, { TargetUserName: "dave", TargetSid: "S-1-5-21-1-2-3-1107", ServiceName: "krbtgt/EXAMPLE.LOCAL", TicketOptions: "0x40810010", Status: "0x18", PreAuthType: "2", IpAddress: "::ffff:10.1.2.3", IpPort: "50123" }));
    expect(doc).toMatchObject({
      action: "kerberos_pre_auth_failed",
      kerberos_status_description: "KDC_ERR_PREAUTH_FAILED: pre-authentication failed (bad password)",
      kerberos_pre_auth_type_description: "PA-ENC-TIMESTAMP (standard password authentication)",
      kerberos_ticket_options_description: ["Forwardable", "Renewable", "Name-canonicalize", "Renewable-ok"],
      src_ip: "10.1.2.3",
      src_port: 50123,
    });
  });

  it("5140/5145 share access: share, path, access list named", async () => {
    const share = await security(SMB, 5140);
    expect(share.doc).toMatchObject({ action: "network_share_access", share_name: share.raw.ShareName, src_ip: share.raw.IpAddress });
    const object = await security(SMB, 5145);
    expect(object.doc.action).toBe("network_share_object_access");
    expect(object.doc.share_relative_target_name).toBe(object.raw.RelativeTargetName);
    expect(object.doc.access_list_description).toEqual(expect.arrayContaining([expect.stringMatching(/ReadData|ReadAttributes|READ_CONTROL|SYNCHRONIZE/)]));
  });

  it("5156 connection allowed: direction and layer named, addresses classified, Community ID", async () => {
    const { raw, doc } = await security("psh_powershell_httplistener.zip", 5156);
    expect(doc.action).toBe("network_connection_allowed");
    expect(doc.network_direction).toBe(raw.Direction);
    expect(doc.network_direction_description).toMatch(/^(Inbound|Outbound)$/);
    expect(doc.network_layer_description).toBeTypeOf("string");
    expect(doc.src_ip).toBe(raw.SourceAddress);
    expect(doc.dst_port).toBe(Number(raw.DestPort));
    expect(doc.community_id).toMatch(/^1:[A-Za-z0-9+/]{27}=$/);
  });

  it("1102 audit log cleared: who cleared it, from the message when the shipper dropped UserData", async () => {
    const { doc } = await security("cmd_discover_iexplorer_version_registry.zip", 1102);
    expect(doc).toMatchObject({ action: "audit_log_cleared", subject_user_name: "wardog", subject_domain_name: "WORKSTATION5", subject_logon_id: "0xc61d9", user_name: "wardog" });
    expect(doc.subject_user_sid).toBe("S-1-5-21-3940915590-64593676-1414006259-500");
  });
});
