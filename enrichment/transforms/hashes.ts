/**
 * Sysmon's `Hashes` (`SHA1=…,MD5=…,SHA256=…,IMPHASH=…`) split into `hash_<algorithm>` fields, lower-case
 * hex so one search matches whatever case a source wrote. Unknown algorithms are kept under their own name.
 */
export function splitHashes(hashes: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of hashes.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const algorithm = part.slice(0, eq).trim().toLowerCase().replace(/[^a-z0-9]/g, "");
    const value = part.slice(eq + 1).trim().toLowerCase();
    if (algorithm !== "" && value !== "") out[`hash_${algorithm}`] = value;
  }
  return out;
}
