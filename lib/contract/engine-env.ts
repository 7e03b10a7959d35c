import { z } from "zod";
import type { EngineOptions } from "../engine.ts";
import { flag, httpClientEnv, parseEnv, type EnvValue } from "./env.ts";

/** How a client of ours reaches the search engine, as the engine component describes it. */
export interface EngineEndpoint {
  kind: "elasticsearch" | "opensearch";
  /** URL inside the stack. */
  url: string;
  /** Superuser name when security is on. */
  username?: string;
  /** Whether the superuser password (credential `engine-password`) is needed. */
  secured: boolean;
}

/** The engine client variables: the enrichment service, every setup job and Jupyter get them. */
const client = httpClientEnv("HELK_ENGINE", ["elasticsearch", "opensearch"]);
export const ENGINE_ENV = { ...client.names, insecureTls: "HELK_ENGINE_INSECURE_TLS" } as const;

export const engineEnvShape = {
  ...client.shape,
  /** Skip TLS verification: OpenSearch's security plugin serves HTTPS with its demo certificates. */
  [ENGINE_ENV.insecureTls]: flag(),
} as const;

export const engineEnvSchema = z.object(engineEnvShape);

/** The env the deploy side gives a client of `engine`; the password is a credential reference. */
export function toEnv(engine: EngineEndpoint): Record<string, EnvValue> {
  return {
    [ENGINE_ENV.kind]: engine.kind,
    [ENGINE_ENV.url]: engine.url,
    ...(engine.username ? { [ENGINE_ENV.username]: engine.username } : {}),
    ...(engine.secured ? { [ENGINE_ENV.password]: { credential: "engine-password" } } : {}),
    ...(engine.url.startsWith("https:") ? { [ENGINE_ENV.insecureTls]: "true" } : {}),
  };
}

/** Engine client options from parsed variables. */
export function toOptions(parsed: z.output<typeof engineEnvSchema>): EngineOptions {
  return {
    kind: parsed.HELK_ENGINE_KIND,
    url: parsed.HELK_ENGINE_URL,
    ...(parsed.HELK_ENGINE_USERNAME ? { username: parsed.HELK_ENGINE_USERNAME, password: parsed.HELK_ENGINE_PASSWORD ?? "" } : {}),
    insecureTls: parsed.HELK_ENGINE_INSECURE_TLS,
  };
}

/** Values given on a command line; each replaces its variable. */
export interface EngineFlags {
  kind?: string;
  url?: string;
  username?: string;
  password?: string;
}

/** Engine client options from the environment, with command-line values on top. */
export function fromEnv(env: Record<string, string | undefined> = process.env, flags: EngineFlags = {}): EngineOptions {
  const merged = {
    ...env,
    [ENGINE_ENV.kind]: flags.kind ?? env[ENGINE_ENV.kind],
    [ENGINE_ENV.url]: flags.url ?? env[ENGINE_ENV.url],
    [ENGINE_ENV.username]: flags.username ?? env[ENGINE_ENV.username],
    [ENGINE_ENV.password]: flags.password ?? env[ENGINE_ENV.password],
  };
  return toOptions(parseEnv(engineEnvSchema, merged, "engine settings"));
}
