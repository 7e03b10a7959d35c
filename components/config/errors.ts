import type { z } from "zod";
import { CONFIG_NAMESPACE } from "./pulumi-keys.ts";

/** Every problem of an invalid config, one per line, each naming its `helk:` key path. */
export class HelkConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid HELK config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  - ${problems.join("\n  - ")}`);
    this.name = "HelkConfigError";
  }
}

export function describeIssue(issue: z.core.$ZodIssue): string {
  const key = keyPath(issue.path);
  const got = "input" in issue ? describeValue(issue.input) : undefined;
  if ("input" in issue && issue.input === undefined && issue.code !== "unrecognized_keys") return `${key} is required`;
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((k) => `${keyPath([...issue.path, k])} is not a known setting`).join("; ");
    case "too_small":
      if (issue.origin === "array") return `${key} must list at least ${issue.minimum}, got ${Array.isArray(issue.input) ? issue.input.length : got}`;
      return `${key} must be >= ${issue.minimum}, got ${got}`;
    case "too_big":
      return `${key} must be <= ${issue.maximum}, got ${got}`;
    case "invalid_type":
      return `${key} must be ${issue.expected === "int" ? "an integer" : `a ${issue.expected}`}, got ${got}`;
    case "invalid_value":
      return `${key} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${got}`;
    default:
      return `${key} ${issue.message}${got !== undefined && issue.code !== "custom" ? `, got ${got}` : ""}`;
  }
}

export function keyPath(path: PropertyKey[]): string {
  let out = CONFIG_NAMESPACE;
  path.forEach((segment, index) => {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += index === 0 ? `:${String(segment)}` : `.${String(segment)}`;
  });
  return out;
}

function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return String(value);
}

