import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "yaml";
import { projectRoot } from "../lib/data.ts";
import { helkSettings, parseHelkConfig, type HelkConfig } from "./config.ts";

/** Folder of the stack files (Pulumi.yaml's `stackConfigDir`). */
export const stacksDir = resolve(projectRoot, "stacks");

/** Path of a stack's config file: `stacks/Pulumi.<stack>.yaml`. */
export function stackFilePath(stack: string, dir = stacksDir): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new Error(`not a stack name: "${stack}"`);
  return resolve(dir, `Pulumi.${stack}.yaml`);
}

/**
 * Reads and validates a stack file directly, without the Pulumi CLI (synth, tests). Encrypted values stay
 * `{ secure: ... }`: whoever reads them here must not need them.
 */
export function loadStackConfig(stack: string, dir = stacksDir): HelkConfig {
  const path = stackFilePath(stack, dir);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new Error(`stack "${stack}" has no config file: ${path} not found`);
  }
  const document: unknown = parse(text);
  const config =
    document && typeof document === "object" && "config" in document ? (document as { config: unknown }).config : undefined;
  if (!config || typeof config !== "object") throw new Error(`${path} has no "config:" map`);
  return parseHelkConfig(helkSettings(config as Record<string, unknown>));
}
