import { describe, expect, it } from "vitest";
import {
  ACCESS_RIGHTS, ACCOUNT_CONTROL_CHANGES, ACCOUNT_CONTROL_FLAGS, ACCOUNT_VALUE_STRINGS, AUDIT_POLICY_CHANGES, AUDIT_POLICY_STRINGS,
  DNS_QUERY_STATUS, INTEGRITY_LEVELS, KERBEROS_ENCRYPTION_TYPES, KERBEROS_PRE_AUTH_TYPES, KERBEROS_RESULT_CODES, KERBEROS_TICKET_OPTIONS,
  LOGON_FAILURE_REASONS, LOGON_MESSAGE_STRINGS, LOGON_STATUS, LOGON_TYPES, PROCESS_ACCESS_RIGHTS, PROTOCOL_NUMBERS, SERVICE_START_TYPES,
  SERVICE_TYPES, TABLES, TOKEN_ELEVATION_TYPES, WFP_MESSAGE_STRINGS,
} from "../../enrichment/transforms/channels/tables.ts";

/** Each translate table: known codes (as events write them, any case), unknown codes, and the decoded bit masks. */
describe("translate tables", () => {
  it.each([
    [LOGON_TYPES, "3", "Network"],
    [LOGON_TYPES, "10", "RemoteInteractive"],
    [LOGON_STATUS, "0xc000006a", "User name is correct but the password is wrong"],
    [LOGON_STATUS, "0xC0000234", "Account locked out"],
    [LOGON_FAILURE_REASONS, "%%2313", "Unknown user name or bad password"],
    [LOGON_MESSAGE_STRINGS, "%%1833", "Impersonation"],
    [LOGON_MESSAGE_STRINGS, "%%1842", "Yes"],
    [TOKEN_ELEVATION_TYPES, "%%1937", "Type 2: elevated token (run as administrator)"],
    [INTEGRITY_LEVELS, "S-1-16-12288", "High"],
    [KERBEROS_RESULT_CODES, "0x18", "KDC_ERR_PREAUTH_FAILED: pre-authentication failed (bad password)"],
    [KERBEROS_RESULT_CODES, "0x1b", "KDC_ERR_MUST_USE_USER2USER: server principal valid for user-to-user only"],
    [KERBEROS_ENCRYPTION_TYPES, "0x17", "RC4-HMAC"],
    [KERBEROS_PRE_AUTH_TYPES, "15", "PA-PK-AS-REP_OLD (smart card logon)"],
    [SERVICE_START_TYPES, "2", "Auto start"],
    [SERVICE_TYPES, "0x10", "Own process"],
    [ACCOUNT_VALUE_STRINGS, "%%1793", "<value not set>"],
    [WFP_MESSAGE_STRINGS, "%%14593", "Outbound"],
    [WFP_MESSAGE_STRINGS, "%%14611", "Connect"],
    [AUDIT_POLICY_STRINGS, "%%8278", "Account Management"],
    [DNS_QUERY_STATUS, "9003", "DNS_ERROR_RCODE_NAME_ERROR (no such name)"],
    [PROTOCOL_NUMBERS, "17", "udp"],
  ])("%#: %s", (table, code, description) => {
    expect(table.describe(code)).toBe(description);
  });

  it("answers undefined for codes it does not know (the code is kept, no description)", () => {
    for (const table of TABLES) expect(table.describe("not-a-code"), table.name).toBeUndefined();
  });

  it("decodes Kerberos ticket options by RFC 4120 bit numbers (bit 0 = most significant)", () => {
    expect(KERBEROS_TICKET_OPTIONS.describe("0x40810010")).toEqual(["Forwardable", "Renewable", "Name-canonicalize", "Renewable-ok"]);
    expect(KERBEROS_TICKET_OPTIONS.describe("0x60810010")).toEqual(["Forwardable", "Forwarded", "Renewable", "Name-canonicalize", "Renewable-ok"]);
    expect(KERBEROS_TICKET_OPTIONS.describe("0x0")).toEqual([]);
  });

  it("decodes process access masks (Sysmon GrantedAccess), including the usual Mimikatz lsass mask", () => {
    expect(PROCESS_ACCESS_RIGHTS.describe("0x1010")).toEqual(["PROCESS_VM_READ", "PROCESS_QUERY_LIMITED_INFORMATION"]);
    expect(PROCESS_ACCESS_RIGHTS.describe("0x1fffff")).toHaveLength(19);
    expect(PROCESS_ACCESS_RIGHTS.describe("4096")).toEqual(["PROCESS_QUERY_LIMITED_INFORMATION"]);
  });

  it("reads lists of message-table codes (one per line, as 4720 and 5145 write them)", () => {
    expect(ACCOUNT_CONTROL_CHANGES.describe("\r\n\t\t%%2080\r\n\t\t%%2082\r\n\t\t%%2084")).toEqual(["Account Disabled", "Password Not Required - Enabled", "Normal Account - Enabled"]);
    expect(ACCOUNT_CONTROL_CHANGES.describe("%%2048 %%2058 %%2089")).toEqual(["Account Enabled", "Account Unlocked", "Don't Expire Password - Enabled"]);
    expect(ACCESS_RIGHTS.describe("%%1538\r\n\t\t\t\t%%4416\r\n\t\t\t\t%%4423")).toEqual(["READ_CONTROL", "ReadData (or ListDirectory)", "ReadAttributes"]);
    expect(AUDIT_POLICY_CHANGES.describe("%%8449, %%8451")).toEqual(["Success added", "Failure added"]);
    expect(ACCESS_RIGHTS.describe("%%9999")).toEqual(["%%9999"]); // unknown codes stay as they are
  });

  it("decodes SAM account-control values bit by bit", () => {
    expect(ACCOUNT_CONTROL_FLAGS.describe("0x15")).toEqual(["Account Disabled", "Password Not Required", "Normal Account"]);
    expect(ACCOUNT_CONTROL_FLAGS.describe("0x210")).toEqual(["Normal Account", "Don't Expire Password"]);
  });
});
