import { z } from "zod";
import { engineEnvShape } from "./engine-env.ts";
import { namedEnv, namedSettings, parseEnv } from "./env.ts";

/** Where the ATT&CK bundle comes from: the enrichment service and the ATT&CK load job read the same pair. */
export const ATTACK_ENV = { bundle: "HELK_ATTACK_BUNDLE", sha256: "HELK_ATTACK_SHA256" } as const;

export const attackEnvShape = {
  /** ATT&CK STIX bundle (path or URL, gz or plain); without it technique context is "unknown". */
  [ATTACK_ENV.bundle]: z.string().min(1).optional(),
  /** Checksum the bundle at an http(s) URL must have. */
  [ATTACK_ENV.sha256]: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "must be a sha256 in hex (64 characters)")
    .transform((hex) => hex.toLowerCase())
    .optional(),
} as const;

export const attackEnvSchema = z.object(attackEnvShape);

/** An ATT&CK bundle source: a path or URL, and the checksum a URL must have. */
export interface AttackSource {
  bundle?: string;
  sha256?: string;
}

export function toEnv(source: AttackSource): Record<string, string> {
  return namedEnv(ATTACK_ENV, { ...source, sha256: source.sha256?.toLowerCase() });
}

/** The bundle source from the environment, with command-line values on top. */
export function fromEnv(env: Record<string, string | undefined> = process.env, flags: AttackSource = {}): AttackSource {
  const given = { ...namedEnv(ATTACK_ENV, namedSettings(ATTACK_ENV, env)), ...namedEnv(ATTACK_ENV, flags) };
  return namedSettings(ATTACK_ENV, parseEnv(attackEnvSchema, given, "ATT&CK bundle settings"));
}

/** The ATT&CK load job: the engine client env plus the bundle source. */
export const attackLoadEnvSchema = z.object({ ...engineEnvShape, ...attackEnvShape });
