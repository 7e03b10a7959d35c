import { z } from "zod";
import { engineEnvShape } from "./engine-env.ts";
import { httpClientEnv, parseEnv, wholeNumber, type EnvValue } from "./env.ts";

/** The engine-security job: the engine superuser's env plus the `kibana_system` password it sets. */
export const ENGINE_SECURITY_ENV = { kibanaSystemPassword: "HELK_KIBANA_SYSTEM_PASSWORD" } as const;

export const engineSecurityEnvSchema = z.object({
  ...engineEnvShape,
  [ENGINE_SECURITY_ENV.kibanaSystemPassword]: z.string().min(1),
});

export function toEngineSecurityEnv(): Record<string, EnvValue> {
  return { [ENGINE_SECURITY_ENV.kibanaSystemPassword]: { credential: "dashboards-password" } };
}

export function engineSecurityFromEnv(env: Record<string, string | undefined> = process.env): { kibanaSystemPassword: string } {
  return { kibanaSystemPassword: parseEnv(engineSecurityEnvSchema.pick({ HELK_KIBANA_SYSTEM_PASSWORD: true }), env, "engine-security job settings").HELK_KIBANA_SYSTEM_PASSWORD };
}

/** The dashboards import job: where the UI is, how long to wait for it, and who to log in as. */
const client = httpClientEnv("HELK_DASHBOARDS", ["kibana", "opensearch-dashboards"]);
export const DASHBOARDS_ENV = { ...client.names, waitSeconds: "HELK_DASHBOARDS_WAIT_SECONDS" } as const;

export const dashboardsImportEnvShape = {
  ...client.shape,
  [DASHBOARDS_ENV.waitSeconds]: wholeNumber(0).default(0),
} as const;

/** The job also gets the engine client env (every setup job does). */
export const dashboardsImportEnvSchema = z.object({ ...engineEnvShape, ...dashboardsImportEnvShape });

/** How long the import job keeps retrying while the UI starts. */
const IMPORT_WAIT_SECONDS = 600;

export function toDashboardsImportEnv(
  dashboards: { kind: "kibana" | "opensearch-dashboards"; url: string },
  engine: { username?: string; secured: boolean },
): Record<string, EnvValue> {
  return {
    [DASHBOARDS_ENV.kind]: dashboards.kind,
    [DASHBOARDS_ENV.url]: dashboards.url,
    [DASHBOARDS_ENV.waitSeconds]: String(IMPORT_WAIT_SECONDS),
    ...(engine.username ? { [DASHBOARDS_ENV.username]: engine.username } : {}),
    ...(engine.secured ? { [DASHBOARDS_ENV.password]: { credential: "engine-password" } } : {}),
  };
}
