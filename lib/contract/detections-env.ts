import { z } from "zod";
import type { EngineOptions } from "../engine.ts";
import { attackLoadEnvSchema } from "./attack-env.ts";
import * as engineEnv from "./engine-env.ts";
import { engineEnvShape, type EngineEndpoint } from "./engine-env.ts";
import { parseEnv, type EnvValue } from "./env.ts";

/** Sigma's rule levels and statuses: what a rule selection may name (stack config and `helk detections convert`). */
export const SIGMA_LEVELS = ["informational", "low", "medium", "high", "critical"] as const;
export const SIGMA_STATUSES = ["stable", "test", "experimental", "deprecated", "unsupported"] as const;
export type SigmaLevel = (typeof SIGMA_LEVELS)[number];

/**
 * The detection rules job (`helk detections convert --install`) reads what the ATT&CK load job reads: the engine
 * client and the ATT&CK bundle source (for the rules' technique context).
 */
export const detectionRulesJobEnvSchema = attackLoadEnvSchema;

export const DETECTIONS_ENV = { httpHost: "HELK_HTTP_HOST" } as const;

/** The detections service (`helk detections run`): the engine client, and the address of its /healthz and /metrics. */
export const detectionsServiceEnvSchema = z.object({
  ...engineEnvShape,
  [DETECTIONS_ENV.httpHost]: z.string().min(1).default("127.0.0.1"),
});

/** The service's env: listening on every interface of its container, which is not published. */
export function toServiceEnv(engine: EngineEndpoint): Record<string, EnvValue> {
  return { ...engineEnv.toEnv(engine), [DETECTIONS_ENV.httpHost]: "0.0.0.0" };
}

export function serviceFromEnv(env: Record<string, string | undefined> = process.env): { engine: EngineOptions; httpHost: string } {
  const parsed = parseEnv(detectionsServiceEnvSchema, env, "detections service settings");
  return { engine: engineEnv.toOptions(parsed), httpHost: parsed.HELK_HTTP_HOST };
}
