/** Pulumi config namespace of every HELK setting. */
export const CONFIG_NAMESPACE = "helk";

/**
 * Turns flat `helk:<key>` config entries (a stack file's `config:` map, or `pulumi.runtime.allConfig()`) into
 * the nested object {@link parseHelkConfig} validates. Keys of other namespaces are ignored. Pulumi hands
 * structured values over as JSON text, so strings that parse as JSON objects or arrays are decoded.
 */
export function helkSettings(entries: Record<string, unknown>): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(entries)) {
    const [namespace, key] = splitKey(fullKey);
    if (namespace !== CONFIG_NAMESPACE || key === undefined) continue;
    settings[key] = decodeValue(value);
  }
  return settings;
}

function splitKey(fullKey: string): [string, string | undefined] {
  const colon = fullKey.indexOf(":");
  return colon < 0 ? [fullKey, undefined] : [fullKey.slice(0, colon), fullKey.slice(colon + 1)];
}

function decodeValue(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const trimmed = value.trim();
  if (/^[[{]/.test(trimmed) || /^(true|false|-?\d+(\.\d+)?|null)$/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return value;
    }
  }
  return value;
}
