/**
 * Translate tables: readable companions for coded Windows event fields, in the spirit of HELK's Logstash
 * `translate` filters. A table never replaces a code: the mapping keeps the code and adds its description.
 * Sources: Microsoft's "Audit ..." event reference pages (4624, 4625, 4688, 4697, 4719, 4720, 4768, 4769,
 * 4771, 5156), RFC 4120 (Kerberos error codes and ticket flags), the SAM account-control bits and the
 * process access rights of winnt.h.
 */

/** Turns a code (as the event writes it) into its description, or undefined for a code it does not know. */
export interface Table {
  /** What the table describes (used in tests and documentation). */
  readonly name: string;
  describe(code: string): string | string[] | undefined;
}

/** Codes compared case-insensitively: `0xC000006A` and `0xc000006a` are one code. */
export function lookupTable(name: string, entries: Record<string, string>): Table & { entries: Record<string, string> } {
  const byCode = new Map(Object.entries(entries).map(([code, text]) => [code.toLowerCase(), text]));
  return { name, entries, describe: (code) => byCode.get(code.toLowerCase()) };
}

/**
 * A bit mask (`0x40810000`, decimal or hex) as the names of its set bits, in bit order. Masks repeat a lot
 * (Sysmon 10's `GrantedAccess` has a handful of distinct values over 160,000 events): answers are memoized.
 */
export function flagsTable(name: string, bits: ReadonlyArray<readonly [number, string]>): Table {
  const memo = new Map<string, string[] | undefined>();
  return {
    name,
    describe(code) {
      if (memo.has(code)) return memo.get(code);
      const mask = /^0x[0-9a-f]+$/i.test(code) ? Number.parseInt(code.slice(2), 16) : /^\d+$/.test(code) ? Number(code) : NaN;
      const names = Number.isNaN(mask) ? undefined : bits.filter(([bit]) => (mask & bit) >>> 0 === bit).map(([, n]) => n);
      if (memo.size < 10_000) memo.set(code, names);
      return names;
    },
  };
}

/** A field holding several message-table codes (`%%2080 %%2082`, one per line) as their descriptions. */
export function listTable(table: Table & { entries: Record<string, string> }): Table {
  return {
    name: `${table.name} (list)`,
    describe(code) {
      const codes = code.match(/%%\d+/g);
      if (codes === null) return undefined;
      return codes.map((c) => (table.describe(c) as string | undefined) ?? c);
    },
  };
}

export const LOGON_TYPES = lookupTable("logon types", {
  "0": "System",
  "2": "Interactive",
  "3": "Network",
  "4": "Batch",
  "5": "Service",
  "7": "Unlock",
  "8": "NetworkCleartext",
  "9": "NewCredentials",
  "10": "RemoteInteractive",
  "11": "CachedInteractive",
  "12": "CachedRemoteInteractive",
  "13": "CachedUnlock",
});

/** NTSTATUS codes of failed logons and credential validation (4625 Status/SubStatus, 4776 Status). */
export const LOGON_STATUS = lookupTable("logon status codes", {
  "0x0": "Success",
  "0xC0000064": "User name does not exist",
  "0xC000006A": "User name is correct but the password is wrong",
  "0xC000006C": "Password does not meet the password policy",
  "0xC000006D": "Bad user name or password",
  "0xC000006E": "Account restriction",
  "0xC000006F": "Logon outside the allowed hours",
  "0xC0000070": "Logon from a workstation the account may not use",
  "0xC0000071": "Password expired",
  "0xC0000072": "Account disabled",
  "0xC00000DC": "Server in the wrong state",
  "0xC000010B": "Invalid logon type",
  "0xC0000133": "Clock out of sync with the domain controller",
  "0xC000015B": "Logon type not granted on this machine",
  "0xC000018C": "Trust relationship between the primary and the trusted domain failed",
  "0xC0000192": "Netlogon service not started",
  "0xC0000193": "Account expired",
  "0xC0000224": "User must change the password at next logon",
  "0xC0000225": "Windows bug, not a risk",
  "0xC0000234": "Account locked out",
  "0xC00002EE": "An error occurred during logon",
  "0xC0000371": "The local account store has no secret for the account",
  "0xC0000413": "Authentication firewall: the machine may not authenticate",
});

/** Logon failure reasons (4625 FailureReason, message-table codes). */
export const LOGON_FAILURE_REASONS = lookupTable("logon failure reasons", {
  "%%2304": "An error occurred during logon",
  "%%2305": "The account has expired",
  "%%2306": "The NetLogon component is not active",
  "%%2307": "Account locked out",
  "%%2308": "The user has not been granted the requested logon type at this machine",
  "%%2309": "The account's password has expired",
  "%%2310": "Account currently disabled",
  "%%2311": "Account logon time restriction violation",
  "%%2312": "User not allowed to log on at this computer",
  "%%2313": "Unknown user name or bad password",
});

/** Impersonation levels and yes/no answers of logon events (4624 ImpersonationLevel, ElevatedToken, VirtualAccount). */
export const LOGON_MESSAGE_STRINGS = lookupTable("impersonation levels and yes/no answers", {
  "%%1832": "Identification",
  "%%1833": "Impersonation",
  "%%1840": "Delegation",
  "%%1841": "Denied by Process Trust Label ACE",
  "%%1842": "Yes",
  "%%1843": "No",
  "%%1844": "System",
  "%%1845": "Not Available",
  "%%1846": "Default",
  "%%1847": "DisallowMmConfig",
  "%%1848": "Off",
  "%%1849": "Auto",
});

export const TOKEN_ELEVATION_TYPES = lookupTable("token elevation types", {
  "%%1936": "Type 1: full token (UAC off, built-in administrator or service account)",
  "%%1937": "Type 2: elevated token (run as administrator)",
  "%%1938": "Type 3: limited token (UAC on, not elevated)",
});

/** Mandatory integrity labels (4688 MandatoryLabel). */
export const INTEGRITY_LEVELS = lookupTable("mandatory integrity labels", {
  "S-1-16-0": "Untrusted",
  "S-1-16-4096": "Low",
  "S-1-16-8192": "Medium",
  "S-1-16-8448": "Medium Plus",
  "S-1-16-12288": "High",
  "S-1-16-16384": "System",
  "S-1-16-20480": "Protected Process",
  "S-1-16-28672": "Secure Process",
});

/** RFC 4120 error codes as the KDC events write them (4768/4769 Status, 4771 FailureCode). */
export const KERBEROS_RESULT_CODES = lookupTable("Kerberos result codes", {
  "0x0": "KDC_ERR_NONE: success",
  "0x1": "KDC_ERR_NAME_EXP: client's entry in the database has expired",
  "0x2": "KDC_ERR_SERVICE_EXP: server's entry in the database has expired",
  "0x3": "KDC_ERR_BAD_PVNO: requested protocol version not supported",
  "0x6": "KDC_ERR_C_PRINCIPAL_UNKNOWN: client not found in the Kerberos database",
  "0x7": "KDC_ERR_S_PRINCIPAL_UNKNOWN: server not found in the Kerberos database",
  "0x8": "KDC_ERR_PRINCIPAL_NOT_UNIQUE: multiple principal entries in the database",
  "0x9": "KDC_ERR_NULL_KEY: the client or server has a null key",
  "0xA": "KDC_ERR_CANNOT_POSTDATE: ticket not eligible for postdating",
  "0xB": "KDC_ERR_NEVER_VALID: requested start time is later than the end time",
  "0xC": "KDC_ERR_POLICY: rejected by policy",
  "0xD": "KDC_ERR_BADOPTION: KDC cannot accommodate the requested option",
  "0xE": "KDC_ERR_ETYPE_NOTSUPP: encryption type not supported",
  "0xF": "KDC_ERR_SUMTYPE_NOSUPP: checksum type not supported",
  "0x10": "KDC_ERR_PADATA_TYPE_NOSUPP: pre-authentication type not supported (smart card logon)",
  "0x12": "KDC_ERR_CLIENT_REVOKED: client credentials revoked (account disabled, expired or locked out)",
  "0x17": "KDC_ERR_KEY_EXPIRED: password expired",
  "0x18": "KDC_ERR_PREAUTH_FAILED: pre-authentication failed (bad password)",
  "0x19": "KDC_ERR_PREAUTH_REQUIRED: additional pre-authentication required",
  "0x1A": "KDC_ERR_SERVER_NOMATCH: requested server and ticket do not match",
  "0x1B": "KDC_ERR_MUST_USE_USER2USER: server principal valid for user-to-user only",
  "0x1F": "KRB_AP_ERR_BAD_INTEGRITY: integrity check on decrypted field failed",
  "0x20": "KRB_AP_ERR_TKT_EXPIRED: ticket expired",
  "0x21": "KRB_AP_ERR_TKT_NYV: ticket not yet valid",
  "0x22": "KRB_AP_ERR_REPEAT: request is a replay",
  "0x25": "KRB_AP_ERR_SKEW: clock skew too great",
  "0x29": "KRB_AP_ERR_MODIFIED: message stream modified",
  "0x3C": "KRB_ERR_GENERIC: generic error",
  "0x44": "KDC_ERR_WRONG_REALM: wrong realm",
});

export const KERBEROS_ENCRYPTION_TYPES = lookupTable("Kerberos ticket encryption types", {
  "0x1": "DES-CBC-CRC",
  "0x3": "DES-CBC-MD5",
  "0x11": "AES128-CTS-HMAC-SHA1-96",
  "0x12": "AES256-CTS-HMAC-SHA1-96",
  "0x17": "RC4-HMAC",
  "0x18": "RC4-HMAC-EXP",
  "0xFFFFFFFF": "Failure: no ticket issued",
});

export const KERBEROS_PRE_AUTH_TYPES = lookupTable("Kerberos pre-authentication types", {
  "0": "Logon without pre-authentication",
  "2": "PA-ENC-TIMESTAMP (standard password authentication)",
  "11": "PA-ETYPE-INFO",
  "15": "PA-PK-AS-REP_OLD (smart card logon)",
  "16": "PA-PK-AS-REQ (smart card logon)",
  "17": "PA-PK-AS-REP (smart card logon)",
  "19": "PA-ETYPE-INFO2",
  "20": "PA-SVR-REFERRAL-INFO",
  "138": "PA-ENCRYPTED-CHALLENGE (Kerberos armoring, FAST)",
});

/** RFC 4120 KDC options, bit 0 being the most significant bit of the 32-bit `TicketOptions`. */
export const KERBEROS_TICKET_OPTIONS = flagsTable(
  "Kerberos ticket options",
  (
    [
      [1, "Forwardable"],
      [2, "Forwarded"],
      [3, "Proxiable"],
      [4, "Proxy"],
      [5, "Allow-postdate"],
      [6, "Postdated"],
      [7, "Invalid"],
      [8, "Renewable"],
      [9, "Initial"],
      [10, "Pre-authent"],
      [11, "Opt-hardware-auth"],
      [12, "Transited-policy-checked"],
      [13, "Ok-as-delegate"],
      [14, "Request-anonymous"],
      [15, "Name-canonicalize"],
      [26, "Disable-transited-check"],
      [27, "Renewable-ok"],
      [28, "Enc-tkt-in-skey"],
      [30, "Renew"],
      [31, "Validate"],
    ] as const
  ).map(([bit, name]) => [2 ** (31 - bit), name] as const),
);

/** Service start types (4697 ServiceStartType; System 7045 writes the words itself). */
export const SERVICE_START_TYPES = lookupTable("service start types", {
  "0": "Boot start",
  "1": "System start",
  "2": "Auto start",
  "3": "Demand start",
  "4": "Disabled",
});

export const SERVICE_TYPES = lookupTable("service types", {
  "0x1": "Kernel driver",
  "0x2": "File system driver",
  "0x8": "Recognizer driver",
  "0x10": "Own process",
  "0x20": "Share process",
  "0x50": "User own process",
  "0x60": "User share process",
  "0x110": "Interactive own process",
  "0x120": "Interactive share process",
});

/** SAM account-control bits in bit order: the `%%2080 + bit` (enabled) and `%%2048 + bit` (disabled) codes of 4720/4738. */
const ACCOUNT_CONTROL_BITS = [
  "Account Disabled", "Home Directory Required", "Password Not Required", "Temp Duplicate Account", "Normal Account",
  "MNS Logon Account", "Interdomain Trust Account", "Workstation Trust Account", "Server Trust Account",
  "Don't Expire Password", "Account Locked", "Encrypted Text Password Allowed", "Smartcard Required",
  "Trusted For Delegation", "Not Delegated", "Use DES Key Only", "Don't Require Preauth", "Password Expired",
  "Trusted To Authenticate For Delegation", "Exclude Authorization Information",
];
/** Bits whose "off" state has a name of its own instead of "<name> - Disabled". */
const ACCOUNT_CONTROL_OFF: Record<number, string> = { 0: "Account Enabled", 10: "Account Unlocked" };

export const ACCOUNT_CONTROL_CHANGES = listTable(
  lookupTable(
    "user account control changes",
    Object.fromEntries(
      ACCOUNT_CONTROL_BITS.flatMap((name, bit) => [
        [`%%${2080 + bit}`, bit === 0 || bit === 10 ? name : `${name} - Enabled`],
        [`%%${2048 + bit}`, ACCOUNT_CONTROL_OFF[bit] ?? `${name} - Disabled`],
      ]),
    ),
  ),
);

/** The SAM account-control value (4720/4738 OldUacValue, NewUacValue) as the names of its set bits. */
export const ACCOUNT_CONTROL_FLAGS = flagsTable("user account control flags", ACCOUNT_CONTROL_BITS.map((name, bit) => [2 ** bit, name] as const));

/** Values left empty or unset in account-management events (4720 HomeDirectory `%%1793`, ...). */
export const ACCOUNT_VALUE_STRINGS = lookupTable("account value placeholders", {
  "%%1793": "<value not set>",
  "%%1794": "<never>",
  "%%1797": "All",
});

/** Object access rights in AccessList (4656, 4663, 5140, 5145): file, directory, pipe and registry rights. */
export const ACCESS_RIGHTS = listTable(
  lookupTable("object access rights", {
    "%%1537": "DELETE",
    "%%1538": "READ_CONTROL",
    "%%1539": "WRITE_DAC",
    "%%1540": "WRITE_OWNER",
    "%%1541": "SYNCHRONIZE",
    "%%1542": "ACCESS_SYS_SEC",
    "%%4416": "ReadData (or ListDirectory)",
    "%%4417": "WriteData (or AddFile)",
    "%%4418": "AppendData (or AddSubdirectory or CreatePipeInstance)",
    "%%4419": "ReadEA",
    "%%4420": "WriteEA",
    "%%4421": "Execute/Traverse",
    "%%4422": "DeleteChild",
    "%%4423": "ReadAttributes",
    "%%4424": "WriteAttributes",
    "%%4432": "Query key value",
    "%%4433": "Set key value",
    "%%4434": "Create sub-key",
    "%%4435": "Enumerate sub-keys",
    "%%4436": "Notify about changes to keys",
    "%%4437": "Create Link",
  }),
);

/** Process access rights (Sysmon 10 GrantedAccess). */
export const PROCESS_ACCESS_RIGHTS = flagsTable("process access rights", [
  [0x1, "PROCESS_TERMINATE"],
  [0x2, "PROCESS_CREATE_THREAD"],
  [0x4, "PROCESS_SET_SESSIONID"],
  [0x8, "PROCESS_VM_OPERATION"],
  [0x10, "PROCESS_VM_READ"],
  [0x20, "PROCESS_VM_WRITE"],
  [0x40, "PROCESS_DUP_HANDLE"],
  [0x80, "PROCESS_CREATE_PROCESS"],
  [0x100, "PROCESS_SET_QUOTA"],
  [0x200, "PROCESS_SET_INFORMATION"],
  [0x400, "PROCESS_QUERY_INFORMATION"],
  [0x800, "PROCESS_SUSPEND_RESUME"],
  [0x1000, "PROCESS_QUERY_LIMITED_INFORMATION"],
  [0x2000, "PROCESS_SET_LIMITED_INFORMATION"],
  [0x10000, "DELETE"],
  [0x20000, "READ_CONTROL"],
  [0x40000, "WRITE_DAC"],
  [0x80000, "WRITE_OWNER"],
  [0x100000, "SYNCHRONIZE"],
]);

/** Windows Filtering Platform direction and layer (5152, 5156, 5157). */
export const WFP_MESSAGE_STRINGS = lookupTable("filtering platform directions and layers", {
  "%%14592": "Inbound",
  "%%14593": "Outbound",
  "%%14608": "Resource Assignment",
  "%%14609": "Listen",
  "%%14610": "Receive/Accept",
  "%%14611": "Connect",
});

/** Audit policy categories and changes (4719 CategoryId, AuditPolicyChanges). */
export const AUDIT_POLICY_STRINGS = lookupTable("audit policy categories and changes", {
  "%%8272": "System",
  "%%8273": "Logon/Logoff",
  "%%8274": "Object Access",
  "%%8275": "Privilege Use",
  "%%8276": "Detailed Tracking",
  "%%8277": "Policy Change",
  "%%8278": "Account Management",
  "%%8279": "DS Access",
  "%%8280": "Account Logon",
  "%%8448": "Success removed",
  "%%8449": "Success added",
  "%%8450": "Failure removed",
  "%%8451": "Failure added",
});
export const AUDIT_POLICY_CHANGES = listTable(AUDIT_POLICY_STRINGS);

/** Sysmon 22 QueryStatus: the Win32/DNS error code of the lookup. */
export const DNS_QUERY_STATUS = lookupTable("DNS query status codes", {
  "0": "Success",
  "87": "ERROR_INVALID_PARAMETER",
  "1460": "ERROR_TIMEOUT",
  "9002": "DNS_ERROR_RCODE_SERVER_FAILURE",
  "9003": "DNS_ERROR_RCODE_NAME_ERROR (no such name)",
  "9501": "DNS_INFO_NO_RECORDS",
  "9560": "DNS_ERROR_INVALID_NAME_CHAR",
  "9701": "DNS_ERROR_RECORD_DOES_NOT_EXIST",
  "9851": "DNS_ERROR_NO_DNS_SERVERS",
  "1225": "ERROR_CONNECTION_REFUSED",
  "1168": "ERROR_NOT_FOUND",
});

/** IANA protocol numbers Windows Filtering Platform events (5156, ...) write instead of names. */
export const PROTOCOL_NUMBERS = lookupTable("IP protocol numbers", { "1": "icmp", "6": "tcp", "17": "udp", "58": "ipv6-icmp", "132": "sctp" });

/** Every table, for the documentation and the table tests. */
export const TABLES: readonly Table[] = [
  LOGON_TYPES, LOGON_STATUS, LOGON_FAILURE_REASONS, LOGON_MESSAGE_STRINGS, TOKEN_ELEVATION_TYPES, INTEGRITY_LEVELS,
  KERBEROS_RESULT_CODES, KERBEROS_ENCRYPTION_TYPES, KERBEROS_PRE_AUTH_TYPES, KERBEROS_TICKET_OPTIONS, SERVICE_START_TYPES,
  SERVICE_TYPES, ACCOUNT_CONTROL_CHANGES, ACCOUNT_CONTROL_FLAGS, ACCOUNT_VALUE_STRINGS, ACCESS_RIGHTS, PROCESS_ACCESS_RIGHTS,
  WFP_MESSAGE_STRINGS, AUDIT_POLICY_STRINGS, AUDIT_POLICY_CHANGES, DNS_QUERY_STATUS, PROTOCOL_NUMBERS,
];
