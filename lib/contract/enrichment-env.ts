import { namedEnv, wholeNumber } from "./env.ts";

/**
 * The enrichment service's memory budgets, which the deploy side sets from `helk:enrichment` (the service's other
 * tuning variables keep their defaults in enrichment/config.ts). Bytes are the service's estimates of what it
 * holds (join.ts `approximateBytes`), bounded so the whole fits the service's heap.
 */
export const ENRICHMENT_ENV = {
  joinCacheBytes: "HELK_JOIN_CACHE_BYTES",
  joinWaitingBytes: "HELK_JOIN_WAITING_BYTES",
} as const;

/**
 * Defaults: 48 MiB of process contexts (a Sysmon mix estimates about 1.6 KB each, so this binds about where the
 * 30,000-entry cap does), 16 MiB of connections waiting for their process.
 */
export const DEFAULT_ENRICHMENT_MEMORY = { joinCacheBytes: 48 * 1024 * 1024, joinWaitingBytes: 16 * 1024 * 1024 } as const;

/** At most 1 GiB each: more would not fit the service's heap (`SERVICE_NODE_FLAGS`) anyway. */
const budget = (fallback: number) => wholeNumber(64 * 1024, 1024 * 1024 * 1024).default(fallback);

export const enrichmentMemoryEnvShape = {
  [ENRICHMENT_ENV.joinCacheBytes]: budget(DEFAULT_ENRICHMENT_MEMORY.joinCacheBytes),
  [ENRICHMENT_ENV.joinWaitingBytes]: budget(DEFAULT_ENRICHMENT_MEMORY.joinWaitingBytes),
} as const;

export interface EnrichmentMemory {
  joinCacheBytes: number;
  joinWaitingBytes: number;
}

/** The env the enrichment component gives the service for its memory budgets. */
export function toEnv(memory: EnrichmentMemory): Record<string, string> {
  return namedEnv(ENRICHMENT_ENV, { joinCacheBytes: String(memory.joinCacheBytes), joinWaitingBytes: String(memory.joinWaitingBytes) });
}
