import { INTEGER_FIELDS, STRING_FIELDS } from "../enrichment/transforms/normalize.ts";

/**
 * How Sigma's Windows field names (the Windows event's own names) map onto HELK's normalized event
 * (enrichment/transforms/normalize.ts). A normalized field is used only for the Windows name it is filled
 * from first (`Image` → `process_path`): for the other names (`NewProcessName`) the normalized field may
 * hold a different field's value, so those are searched as they were received, in `event_data.<name>`.
 */
export function sigmaFieldMap(): Record<string, string> {
  const map: Record<string, string> = {
    // The event's System section, which normalize.ts lifts out of the shipper envelope.
    EventID: "event_id",
    Channel: "channel",
    Computer: "host_name",
    EventRecordID: "record_number",
    Message: "message",
    // Sysmon's Hashes, split by hashes.ts (Sigma's field names for the single hashes).
    md5: "hash_md5",
    sha1: "hash_sha1",
    sha256: "hash_sha256",
    Imphash: "hash_imphash",
  };
  for (const [normalized, windowsNames] of [...STRING_FIELDS, ...INTEGER_FIELDS]) {
    const first = windowsNames[0];
    if (first !== undefined && !(first in map)) map[first] = KEYWORD_SUBFIELD.has(normalized) ? `${normalized}.keyword` : normalized;
  }
  return map;
}

/**
 * Normalized fields the event template maps as analyzed text with a `.keyword` subfield: Sigma matches whole
 * values (`contains`, `endswith` with spaces and backslashes), which only the keyword form can.
 */
const KEYWORD_SUBFIELD = new Set(["command_line", "parent_command_line"]);

/** Normalized fields that hold lower-case values: a rule's values for them are lower-cased to match. */
export const LOWER_CASE_FIELDS = ["host_name", "hash_md5", "hash_sha1", "hash_sha256", "hash_imphash"] as const;

/**
 * Sigma fields from the event's System section that HELK keeps only in the shipper envelope, which is not
 * indexed: a rule that uses one can never match as written (or, negated, always matches), so it is
 * reported as having unmapped fields and not enabled.
 */
export const UNINDEXED_FIELDS = ["Provider_Name", "Level", "Keywords", "Task", "Opcode", "Version"] as const;
