/**
 * Building blocks of the engine mappings the product installs: the event templates, the alerts template, the
 * ATT&CK and coverage indices.
 */

/** A string kept whole; a value longer than 8191 characters (Lucene's 32766-byte term limit in UTF-8) is stored, not indexed. */
export const keyword = { type: "keyword", ignore_above: 8191 } as const;

export const date = { type: "date" } as const;

/** `{ name: mapping }` for each name, in order: one mapping given to many fields. */
export function fieldsMapped<const Name extends string, Mapping>(mapping: Mapping, ...names: Name[]): Record<Name, Mapping> {
  return Object.fromEntries(names.map((name) => [name, mapping])) as Record<Name, Mapping>;
}
