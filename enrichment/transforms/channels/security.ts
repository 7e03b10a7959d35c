import type { EventDocument } from "../normalize.ts";
import { channel, coded, type EventData, type EventMapping, type FieldRule, integer, logonId, text, words } from "./fields.ts";
import {
  ACCESS_RIGHTS, ACCOUNT_CONTROL_CHANGES, ACCOUNT_CONTROL_FLAGS, AUDIT_POLICY_CHANGES, AUDIT_POLICY_STRINGS, INTEGRITY_LEVELS,
  KERBEROS_ENCRYPTION_TYPES, KERBEROS_PRE_AUTH_TYPES, KERBEROS_RESULT_CODES, KERBEROS_TICKET_OPTIONS, LOGON_FAILURE_REASONS,
  LOGON_MESSAGE_STRINGS, LOGON_STATUS, LOGON_TYPES, SERVICE_START_TYPES, SERVICE_TYPES, TOKEN_ELEVATION_TYPES, WFP_MESSAGE_STRINGS,
} from "./tables.ts";

/**
 * The Security channel. Names: `subject_*` is the account that reported or did the action (Subject section),
 * `target_*` the account it was done to (New Logon, Target Account); `user_name`/`user_domain` is the account
 * the event is about (the one logged on for logon events, else the subject: `normalize.ts`'s default).
 */

const subject: FieldRule[] = [
  text("subject_user_sid", "SubjectUserSid"),
  text("subject_user_name", "SubjectUserName"),
  text("subject_domain_name", "SubjectDomainName"),
  logonId("subject_logon_id", "SubjectLogonId"),
];
const target: FieldRule[] = [
  text("target_user_sid", "TargetUserSid", "TargetSid"),
  text("target_user_name", "TargetUserName"),
  text("target_domain_name", "TargetDomainName"),
  logonId("target_logon_id", "TargetLogonId"),
];
/** The account logged on is the one the event is about. */
const loggedOn: FieldRule[] = [text("user_name", "TargetUserName"), text("user_domain", "TargetDomainName"), logonId("user_logon_id", "TargetLogonId")];
const logonType = coded("logon_type", "LogonType", LOGON_TYPES, "integer");
const source: FieldRule[] = [text("src_hostname", "WorkstationName", "Workstation"), text("src_ip", "IpAddress"), integer("src_port", "IpPort")];

const logon: FieldRule[] = [
  ...subject, ...target, ...loggedOn, logonType, ...source,
  text("logon_process_name", "LogonProcessName"),
  text("logon_authentication_package", "AuthenticationPackageName"),
  text("logon_lm_package", "LmPackageName"),
  integer("logon_key_length", "KeyLength"),
  text("logon_guid", "LogonGuid"),
  text("logon_transmitted_services", "TransmittedServices"),
];

const scheduledTask: FieldRule[] = [...subject, text("task_name", "TaskName"), text("task_content", "TaskContent", "TaskContentNew")];
const account: FieldRule[] = [
  ...subject, ...target,
  text("target_sam_account_name", "SamAccountName"),
  text("target_user_principal_name", "UserPrincipalName"),
  coded("account_control_changes", "UserAccountControl", ACCOUNT_CONTROL_CHANGES),
  coded("account_control_old", "OldUacValue", ACCOUNT_CONTROL_FLAGS),
  coded("account_control_new", "NewUacValue", ACCOUNT_CONTROL_FLAGS),
];
const groupMember: FieldRule[] = [
  ...subject,
  text("member_name", "MemberName"),
  text("member_sid", "MemberSid"),
  text("group_name", "TargetUserName"),
  text("group_domain", "TargetDomainName"),
  text("group_sid", "TargetSid"),
];
const kerberos: FieldRule[] = [
  text("user_name", "TargetUserName"),
  text("user_domain", "TargetDomainName"),
  text("target_user_name", "TargetUserName"),
  text("target_domain_name", "TargetDomainName"),
  text("target_user_sid", "TargetSid"),
  text("service_name", "ServiceName"),
  text("service_sid", "ServiceSid"),
  coded("kerberos_ticket_options", "TicketOptions", KERBEROS_TICKET_OPTIONS),
  coded("kerberos_ticket_encryption_type", "TicketEncryptionType", KERBEROS_ENCRYPTION_TYPES),
  coded("kerberos_pre_auth_type", "PreAuthType", KERBEROS_PRE_AUTH_TYPES),
  coded("kerberos_status", ["Status", "FailureCode"], KERBEROS_RESULT_CODES),
  text("src_ip", "IpAddress"),
  integer("src_port", "IpPort"),
];
const share: FieldRule[] = [
  ...subject, text("src_ip", "IpAddress"), integer("src_port", "IpPort"),
  text("share_name", "ShareName"),
  text("share_local_path", "ShareLocalPath"),
  text("share_relative_target_name", "RelativeTargetName"),
  text("object_type", "ObjectType"),
  text("access_mask", "AccessMask"),
  coded("access_list", "AccessList", ACCESS_RIGHTS),
];
const filteringPlatform: FieldRule[] = [
  coded("network_direction", "Direction", WFP_MESSAGE_STRINGS),
  coded("network_layer", "LayerName", WFP_MESSAGE_STRINGS),
  integer("process_id", "ProcessID", "ProcessId"),
  text("filter_run_time_id", "FilterRTID"),
];

const SUBJECT_FROM_MESSAGE: ReadonlyArray<readonly [string, string]> = [
  ["Security ID", "subject_user_sid"],
  ["Account Name", "subject_user_name"],
  ["Domain Name", "subject_domain_name"],
];

/**
 * 1102 carries its Subject in the event's UserData (winlogbeat's `user_data`); shippers that drop UserData
 * (nxlog) leave it only in the message's "Subject:" block.
 */
function clearedBy(_data: EventData, doc: EventDocument): void {
  if (doc.subject_user_name !== undefined || typeof doc.message !== "string") return;
  for (const [label, field] of SUBJECT_FROM_MESSAGE) {
    const value = new RegExp(`${label}:\\t+([^\\r\\n]+)`).exec(doc.message)?.[1]?.trim();
    if (value) doc[field] = value;
  }
  const logon = /Logon ID:\t+(0x[0-9a-fA-F]+)/.exec(doc.message)?.[1];
  if (logon) doc.subject_logon_id = `0x${Number.parseInt(logon.slice(2), 16).toString(16)}`;
  if (doc.subject_user_name !== undefined) doc.user_name = doc.subject_user_name;
}

const event = (action: string, fields: FieldRule[], parse?: EventMapping["parse"]): EventMapping => ({ action, fields, parse });

export const SECURITY = channel({
  1102: event("audit_log_cleared", subject, clearedBy),
  4624: event("logon", [
    ...logon,
    coded("logon_impersonation_level", "ImpersonationLevel", LOGON_MESSAGE_STRINGS),
    coded("logon_elevated_token", "ElevatedToken", LOGON_MESSAGE_STRINGS),
    coded("logon_virtual_account", "VirtualAccount", LOGON_MESSAGE_STRINGS),
    coded("logon_restricted_admin_mode", "RestrictedAdminMode", LOGON_MESSAGE_STRINGS),
    logonId("target_linked_logon_id", "TargetLinkedLogonId"),
    text("target_outbound_user_name", "TargetOutboundUserName"),
    text("target_outbound_domain_name", "TargetOutboundDomainName"),
  ]),
  4625: event("logon_failed", [
    ...logon,
    coded("logon_status", "Status", LOGON_STATUS),
    coded("logon_sub_status", "SubStatus", LOGON_STATUS),
    coded("logon_failure_reason", "FailureReason", LOGON_FAILURE_REASONS),
  ]),
  4634: event("logoff", [...target, ...loggedOn, logonType]),
  4647: event("logoff_user_initiated", [...target, ...loggedOn]),
  4648: event("logon_explicit_credentials", [
    ...subject,
    text("target_user_name", "TargetUserName"),
    text("target_domain_name", "TargetDomainName"),
    text("target_logon_guid", "TargetLogonGuid"),
    text("target_info", "TargetInfo"),
    // The server the credentials were used on.
    text("dst_hostname", "TargetServerName"),
    text("dst_ip", "IpAddress"),
    integer("dst_port", "IpPort"),
  ]),
  4672: event("logon_special_privileges", [...subject, words("privileges", "PrivilegeList")]),
  4688: event("process_create", [
    ...subject, ...target,
    // 4688's ProcessId is the creator's (the generic mapping would take it for the new process).
    integer("process_id", "NewProcessId"),
    integer("parent_process_id", "ProcessId"),
    coded("process_token_elevation_type", "TokenElevationType", TOKEN_ELEVATION_TYPES),
    coded("process_integrity_level", "MandatoryLabel", INTEGRITY_LEVELS),
  ]),
  4689: event("process_terminate", [...subject, text("process_exit_status", "Status")]),
  4697: event("service_install", [
    ...subject,
    text("service_name", "ServiceName"),
    text("service_image_path", "ServiceFileName"),
    coded("service_type", "ServiceType", SERVICE_TYPES),
    coded("service_start_type", "ServiceStartType", SERVICE_START_TYPES),
    text("service_account", "ServiceAccount"),
  ]),
  4698: event("scheduled_task_create", scheduledTask),
  4699: event("scheduled_task_delete", scheduledTask),
  4700: event("scheduled_task_enable", scheduledTask),
  4701: event("scheduled_task_disable", scheduledTask),
  4702: event("scheduled_task_update", scheduledTask),
  4719: event("audit_policy_change", [
    ...subject,
    coded("audit_category", "CategoryId", AUDIT_POLICY_STRINGS),
    text("audit_subcategory", "SubcategoryId"),
    text("audit_subcategory_guid", "SubcategoryGuid"),
    coded("audit_policy_changes", "AuditPolicyChanges", AUDIT_POLICY_CHANGES),
  ]),
  4720: event("user_account_create", account),
  4722: event("user_account_enable", account),
  4723: event("user_password_change", account),
  4724: event("user_password_reset", account),
  4725: event("user_account_disable", account),
  4726: event("user_account_delete", account),
  4738: event("user_account_change", account),
  // 4740's TargetDomainName is the caller computer: where the bad passwords came from.
  4740: event("user_account_lockout", [...subject, text("target_user_name", "TargetUserName"), text("target_user_sid", "TargetSid"), text("src_hostname", "TargetDomainName")]),
  4767: event("user_account_unlock", account),
  4728: event("group_member_add_global", groupMember),
  4729: event("group_member_remove_global", groupMember),
  4732: event("group_member_add_local", groupMember),
  4733: event("group_member_remove_local", groupMember),
  4756: event("group_member_add_universal", groupMember),
  4757: event("group_member_remove_universal", groupMember),
  4768: event("kerberos_tgt_request", kerberos),
  4769: event("kerberos_service_ticket_request", kerberos),
  4770: event("kerberos_service_ticket_renew", kerberos),
  4771: event("kerberos_pre_auth_failed", kerberos),
  4776: event("credential_validation", [
    text("user_name", "TargetUserName"),
    text("target_user_name", "TargetUserName"),
    text("src_hostname", "Workstation"),
    text("logon_authentication_package", "PackageName"),
    coded("logon_status", "Status", LOGON_STATUS),
  ]),
  5140: event("network_share_access", share),
  5145: event("network_share_object_access", share),
  5152: event("network_packet_blocked", filteringPlatform),
  5154: event("network_listen_allowed", filteringPlatform),
  5156: event("network_connection_allowed", filteringPlatform),
  5157: event("network_connection_blocked", filteringPlatform),
  5158: event("network_bind_allowed", filteringPlatform),
});
