import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import StreamZip from "node-stream-zip";
import { securityDatasetsDir } from "./data.ts";

/** One Security-Datasets recording: a zip of JSON-lines files. */
export interface Recording {
  /** Path relative to the datasets folder, e.g. `atomic/windows/discovery/host/x.zip`. */
  name: string;
  path: string;
  bytes: number;
}

/** All recordings, sorted by name so every caller sees the same order. */
export function listRecordings(dir = securityDatasetsDir()): Recording[] {
  const found: Recording[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".zip")) found.push({ name: relative(dir, path), path, bytes: statSync(path).size });
    }
  };
  walk(dir);
  if (found.length === 0) throw new Error(`no Security-Datasets recordings (*.zip) under ${dir}`);
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/** Finds one recording by the end of its name (e.g. `cmd_netsh_fw_mod_open_ports.zip`); throws when absent. */
export function recording(nameSuffix: string): Recording {
  const match = listRecordings().find((r) => r.name.endsWith(nameSuffix));
  if (!match) throw new Error(`recording ${nameSuffix} not found under ${securityDatasetsDir()}`);
  return match;
}

/**
 * Streams the raw JSON lines of every `.json` file in a recording, in archive order, without
 * holding the (up to ~90 MB) file in memory. Empty lines are skipped.
 */
export async function* recordingLines(path: string): AsyncGenerator<string> {
  // node-stream-zip tolerates the odd end-of-central-directory comments some recordings carry.
  const zip = new StreamZip.async({ file: path });
  try {
    // Skip macOS resource forks (`__MACOSX/._x.json`) that some recordings were zipped with.
    const entries = Object.values(await zip.entries()).filter(
      (e) => e.isFile && e.name.endsWith(".json") && !e.name.startsWith("__MACOSX/"),
    );
    for (const entry of entries) {
      // node-stream-zip types its entry stream as NodeJS.ReadableStream; it is a stream.Readable.
      const input = (await zip.stream(entry)) as Readable;
      try {
        const lines = createInterface({ input, crlfDelay: Infinity });
        for await (const line of lines) if (line.trim() !== "") yield line;
      } finally {
        // A caller that stops early leaves the entry stream reading; end it before the file is closed under it.
        await new Promise<void>((ok) => (input.destroyed ? ok() : input.once("close", () => ok()).destroy()));
      }
    }
  } finally {
    await zip.close();
  }
}

/** Parsed events of a recording (each line one JSON object). */
export async function* recordingEvents(path: string): AsyncGenerator<Record<string, unknown>> {
  let lineNo = 0;
  for await (const line of recordingLines(path)) {
    lineNo++;
    try {
      yield JSON.parse(line) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`${path}: line ${lineNo} is not JSON: ${(err as Error).message}`);
    }
  }
}
