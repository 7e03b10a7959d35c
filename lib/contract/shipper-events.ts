/**
 * What the shippers' event shapes look like, as both the enrichment service (which reads them) and the replay
 * (which converts nxlog events to the winlogbeat shapes) must agree on.
 */

/**
 * nxlog's `im_msvistalog` puts its own fields and the event's System section at the top level beside the
 * event data; these are the envelope ones (everything else at the top level is event data).
 */
export const NXLOG_ENVELOPE: ReadonlySet<string> = new Set([
  "@timestamp", "@version", "EventTime", "EventReceivedTime", "Hostname", "Keywords", "EventType", "EventTypeOrignal",
  "SeverityValue", "Severity", "EventID", "SourceName", "ProviderGuid", "Version", "Task", "OpcodeValue", "Opcode",
  "Category", "RecordNumber", "ExecutionProcessID", "ThreadID", "Channel", "Domain", "AccountName", "UserID",
  "AccountType", "Message", "SourceModuleName", "SourceModuleType", "host", "port", "tags", "Level", "TimeCreated",
  "ERROR_EVT_UNRESOLVED", "ActivityID", "RelatedActivityID",
]);

/**
 * Sysmon's own `EventType` values (registry and WMI events). nxlog writes them over its own top-level
 * `EventType`, so in nxlog's flat events they sit among the {@link NXLOG_ENVELOPE} fields; the other shippers
 * keep them in the event data.
 */
export const SYSMON_EVENT_TYPES = /^(?:(?:Create|Delete|Rename)Key|(?:Create|Set|Delete)Value|Wmi(?:Filter|Consumer|Binding)Event)$/;
