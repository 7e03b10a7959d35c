import type { EventDocument } from "../normalize.ts";
import type { Table } from "./tables.ts";

/**
 * The declarative part of a channel mapping: which Windows field becomes which normalized field, typed, with
 * an optional translate table. Rules of one event run after the generic mapping of `normalize.ts`, so an
 * event can give a generic name another source (4624's `user_name` is the account logged on, not the
 * subject that reported it). A source value that is absent, empty or `-` leaves the field out; one that
 * does not parse as the rule's type also does (it stays under `event_data`, nothing is lost).
 */

/** How a source value becomes the field's value. */
export type FieldKind =
  /** As written. */
  | "string"
  /** Decimal or `0x` hex integer. */
  | "integer"
  /** A logon id (`0x3E7`, `999`) as lower-case hex (`0x3e7`): Sysmon and Security events then pivot on one value. */
  | "logon_id"
  /** `"true"`/`"false"` (any case) as a boolean. */
  | "boolean"
  /** Whitespace-separated words (privilege lists) as an array. */
  | "words";

export interface FieldRule {
  /** Normalized field name. */
  to: string;
  /** Windows field names, first present wins. */
  from: readonly string[];
  kind: FieldKind;
  /** Writes `<to>_description` from the source value (the code stays in `to`). */
  table?: Table;
  /** `<to>_description`, built once. */
  descriptionField?: string;
}

export type EventData = Record<string, unknown>;

export interface EventMapping {
  /** What happened, one snake_case name per event id (`logon_failed`, `process_create`). */
  action: string;
  fields: readonly FieldRule[];
  /** Fields read from text: PowerShell's `key=value` details, WMI's message, ... */
  parse?: (data: EventData, doc: EventDocument) => void;
}

/** Event mappings of one channel, by event id. */
export type ChannelMapping = ReadonlyMap<number, EventMapping>;

const rule = (kind: FieldKind) => (to: string, ...from: string[]): FieldRule => ({ to, from, kind });
export const text = rule("string");
export const integer = rule("integer");
export const logonId = rule("logon_id");
export const flag = rule("boolean");
export const words = rule("words");
/** A coded field: the code under `to`, the table's description under `<to>_description`. */
export const coded = (to: string, from: string | string[], table: Table, kind: FieldKind = "string"): FieldRule => ({
  to,
  from: typeof from === "string" ? [from] : from,
  kind,
  table,
  descriptionField: `${to}_description`,
});

/** A channel's mappings by event id. */
export function channel(events: Record<number, EventMapping>): ChannelMapping {
  return new Map(Object.entries(events).map(([id, mapping]) => [Number(id), mapping]));
}

/** The first usable source value as text: absent, null, empty and `-` do not count. */
export function sourceText(data: EventData, from: readonly string[]): string | undefined {
  for (let i = 0; i < from.length; i++) {
    const v = data[from[i]!];
    if (v === undefined || v === null || v === "" || v === "-") continue;
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
  }
  return undefined;
}

export function parseInteger(s: string): number | undefined {
  const n = /^\d+$/.test(s) ? Number(s) : /^0x[0-9a-f]+$/i.test(s) ? Number.parseInt(s.slice(2), 16) : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

function convert(kind: FieldKind, raw: string): unknown {
  switch (kind) {
    case "string":
      return raw;
    case "integer":
      return parseInteger(raw.trim());
    case "logon_id": {
      const n = parseInteger(raw.trim());
      return n === undefined ? undefined : `0x${n.toString(16)}`;
    }
    case "boolean": {
      const lower = raw.trim().toLowerCase();
      return lower === "true" ? true : lower === "false" ? false : undefined;
    }
    case "words": {
      const list = raw.split(/\s+/).filter((w) => w !== "");
      return list.length === 0 ? undefined : list;
    }
  }
}

/** Applies an event's rules to a document (see the module comment). Hot path: plain loops. */
export function applyRules(rules: readonly FieldRule[], data: EventData, doc: EventDocument): void {
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    const raw = sourceText(data, r.from);
    if (raw === undefined) continue;
    const value = r.kind === "string" ? raw : convert(r.kind, raw);
    if (value === undefined) continue;
    doc[r.to] = value;
    if (r.table !== undefined) {
      const description = r.table.describe(raw.trim());
      if (description !== undefined) doc[r.descriptionField!] = description;
    }
  }
}

/**
 * `key = value` pairs out of free text (WMI-Activity messages, PowerShell's details blocks): pairs are
 * separated by `separator`; a key is the text before the pair's first `=`, after any sentence ending in `. `
 * that precedes it (`... result code 0x0. HostProcess = wmiprvse.exe`).
 */
export function keyValues(textValue: string, separator: string | RegExp): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of textValue.split(separator)) {
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const before = pair.slice(0, eq);
    const key = before.slice(before.lastIndexOf(". ") + 1).trim();
    const value = pair.slice(eq + 1).trim();
    if (key !== "" && value !== "") out[key] = value;
  }
  return out;
}
