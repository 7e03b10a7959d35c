import { z } from "zod";
import type { EngineOptions } from "../engine.ts";
import * as engineEnv from "./engine-env.ts";
import { engineEnvShape, type EngineEndpoint } from "./engine-env.ts";
import { jsonText, parseEnv, type EnvValue } from "./env.ts";
import { ALERTS_INDEX_PREFIX, EVENTS_INDEX_PREFIX, PROCESS_NETWORK_INDEX_PREFIX } from "./names.ts";

/**
 * The retention job (`helk retention run`): which daily indices of the engine it keeps, per data class. The deploy
 * side writes `helk:retention` here; the job reads it back. Dead letters live in Kafka only, so their retention is
 * the dead-letter topic's (kafka-env.ts), not the job's.
 */

/** The engine's data classes and the prefix of their daily indices (`<prefix>YYYY.MM.DD`). */
export const RETENTION_INDEX_CLASSES = {
  events: EVENTS_INDEX_PREFIX,
  processNetwork: PROCESS_NETWORK_INDEX_PREFIX,
  alerts: ALERTS_INDEX_PREFIX,
} as const;

export type RetentionClass = keyof typeof RETENTION_INDEX_CLASSES;

export const RETENTION_ENV = { policy: "HELK_RETENTION_POLICY" } as const;

const classRetention = z
  .object({
    /** Days kept besides today: an index dated more than `days` days before today (UTC) is past retention. */
    days: z.number().int().min(1),
    /** Most bytes (all copies, as the engine stores them) the class may hold; the oldest indices go first. */
    maxBytes: z.number().int().min(1).optional(),
  })
  .strict();

export type ClassRetention = z.output<typeof classRetention>;

export const retentionPolicySchema = z
  .object({ events: classRetention, processNetwork: classRetention, alerts: classRetention })
  .strict();

export type RetentionPolicy = z.output<typeof retentionPolicySchema>;

export const retentionJobEnvSchema = z.object({
  ...engineEnvShape,
  [RETENTION_ENV.policy]: jsonText(retentionPolicySchema, "{ events, processNetwork, alerts }, each { days, maxBytes? }"),
});

/** The job's env: the engine client and the policy as JSON. */
export function toEnv(engine: EngineEndpoint, policy: RetentionPolicy): Record<string, EnvValue> {
  return { ...engineEnv.toEnv(engine), [RETENTION_ENV.policy]: JSON.stringify(policy) };
}

export function fromEnv(env: Record<string, string | undefined> = process.env): { engine: EngineOptions; policy: RetentionPolicy } {
  const parsed = parseEnv(retentionJobEnvSchema, env, "retention job settings");
  return { engine: engineEnv.toOptions(parsed), policy: parsed.HELK_RETENTION_POLICY };
}
