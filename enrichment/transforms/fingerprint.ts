import { hash } from "node:crypto";
import type { EventDocument } from "./normalize.ts";

/**
 * Stable fingerprints for allow-listing and grouping: the sha1 (hex) of a normalized command line
 * (`command_line_fingerprint`, also of the parent's: `parent_command_line_fingerprint`) and of a PowerShell
 * script block (`script_block_fingerprint`).
 *
 * Command lines are normalized so the runs of one program with one purpose get one fingerprint: lower case
 * (Windows paths and switches are case-insensitive), quotes dropped, runs of whitespace as one space, and
 * the parts that change from run to run replaced — GUIDs by `<guid>`, hex numbers (`0x1f4`, addresses) by
 * `<hex>`, numbers of 3 or more digits (process ids, ports, temp-file counters) by `<num>`. Script blocks are
 * code, where case and spacing can matter: only line endings and trailing whitespace are normalized.
 */

const GUID = /[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}/g;
const HEX = /\b0x[0-9a-f]+\b/g;
const NUMBER = /\b\d{3,}\b/g;

export function normalizeCommandLine(commandLine: string): string {
  return commandLine
    .toLowerCase()
    .replace(GUID, "<guid>")
    .replace(HEX, "<hex>")
    .replace(NUMBER, "<num>")
    .replaceAll('"', "")
    .replace(/\s+/g, " ")
    .trim();
}

export function normalizeScriptBlock(script: string): string {
  return script.replace(/\r\n?/g, "\n").replace(/[ \t]+$/gm, "").trim();
}

const sha1 = (s: string): string => hash("sha1", s, "hex");

/**
 * Fingerprints per text seen: command lines repeat a lot (a PowerShell host's command line is on every
 * 4103/800 event of its session, service command lines on every start). Bounded: emptied when full.
 */
function memoized(compute: (text: string) => string): (text: string) => string {
  const seen = new Map<string, string>();
  return (text) => {
    let found = seen.get(text);
    if (found === undefined) {
      found = compute(text);
      if (seen.size >= 10_000) seen.clear();
      seen.set(text, found);
    }
    return found;
  };
}

export const commandLineFingerprint = memoized((commandLine) => sha1(normalizeCommandLine(commandLine)));
export const scriptBlockFingerprint = memoized((script) => sha1(normalizeScriptBlock(script)));

/** Adds the fingerprints of the command lines and script block a document has. */
export function addFingerprints(doc: EventDocument): void {
  if (doc.command_line !== undefined) doc.command_line_fingerprint = commandLineFingerprint(doc.command_line);
  if (doc.parent_command_line !== undefined) doc.parent_command_line_fingerprint = commandLineFingerprint(doc.parent_command_line);
  if (typeof doc.script_block_text === "string") doc.script_block_fingerprint = scriptBlockFingerprint(doc.script_block_text);
}
