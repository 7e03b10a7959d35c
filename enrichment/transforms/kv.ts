/**
 * Sysmon `RuleName` tags parsed the way HELK's Logstash `kv` filter was configured: pairs split on `,`,
 * key and value on the first `=`, keys lower-cased and prefixed `mitre_`, whitespace trimmed.
 *
 * Like Logstash kv, it never fails: `-`, bare names without `=`, empty keys or values and empty pairs are
 * skipped; a value keeps any further `=`; a key seen with different values gets all of them as an array
 * (the same value repeated counts once). Inner spaces and dots in keys become `_` so a tag can never turn
 * into an object path that conflicts with another field. At most {@link MAX_KV_PAIRS} pairs are read, so
 * one odd rule name cannot explode the index mapping.
 */
export const KV_PREFIX = "mitre_";
export const MAX_KV_PAIRS = 32;

export type KvFields = Record<string, string | string[]>;

export function parseRuleName(ruleName: string): KvFields | undefined {
  if (ruleName.indexOf("=") === -1) return undefined;
  let fields: KvFields | undefined;
  let pairs = 0;
  for (const pair of ruleName.split(",")) {
    const eq = pair.indexOf("=");
    if (eq === -1) continue;
    const rawKey = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (rawKey === "" || value === "") continue;
    if (++pairs > MAX_KV_PAIRS) break;
    const key = KV_PREFIX + rawKey.toLowerCase().replace(/[\s.]+/g, "_");
    fields ??= {};
    const existing = fields[key];
    if (existing === undefined) fields[key] = value;
    else if (typeof existing === "string") {
      if (existing !== value) fields[key] = [existing, value];
    } else if (!existing.includes(value)) existing.push(value);
  }
  return fields;
}
