import { pino } from "pino";
import { AttackLookup } from "../attack/lookup.ts";
import { loadTechniqueModel } from "../attack/bundle.ts";
import * as engineEnv from "../lib/contract/engine-env.ts";
import * as geoipEnv from "../lib/contract/geoip-env.ts";
import type { Server } from "node:http";
import { createEngine, type Engine } from "../lib/engine.ts";
import { ConfigError, loadConfig } from "./config.ts";
import type { MessageRef } from "./dead-letter.ts";
import { startHttp } from "./http.ts";
import { createMetrics } from "./metrics.ts";
import { openGeoIp } from "./geoip.ts";
import { EnrichmentService, SHUTDOWN_GRACE_MS } from "./service.ts";
import { Enricher, type TechniqueResolver } from "./transforms/index.ts";

/** Time beyond the flush grace a stop may take (commit, leaving the group) before the process exits anyway. */
const STOP_SLACK_MS = 10_000;

/** Entry point of the enrichment service (`tsx enrichment/main.ts`); configuration from HELK_* env vars. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
  const log = pino({ level: config.HELK_LOG_LEVEL, base: { service: "helk-enrichment" } });
  const metrics = createMetrics();

  // Signals are handled from the start: a SIGTERM while the ATT&CK bundle loads or Kafka is awaited ends the
  // process at once (nothing was taken yet), one later lets the service write and commit what it took.
  let service: EnrichmentService | undefined;
  let http: Server | undefined;
  let engine: Engine | undefined;
  let exiting = false;
  const shutdown = async (signal: string) => {
    if (exiting) return;
    exiting = true;
    log.info({ signal }, "shutting down");
    // A stop that hangs (a client that never gives up) still ends: what was not committed is read again.
    setTimeout(() => {
      log.error({ afterMs: SHUTDOWN_GRACE_MS + STOP_SLACK_MS }, "stopping took too long; exiting without the last commit");
      process.exit(0);
    }, SHUTDOWN_GRACE_MS + STOP_SLACK_MS).unref();
    await service?.stop();
    http?.close();
    await engine?.close().catch(() => undefined);
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  let attack: TechniqueResolver | undefined;
  if (config.HELK_ATTACK_BUNDLE) {
    log.info({ bundle: config.HELK_ATTACK_BUNDLE }, "loading the ATT&CK bundle");
    // Techniques only, streamed: the whole bundle parsed would be the service's largest memory peak.
    attack = AttackLookup.fromModel(await loadTechniqueModel(config.HELK_ATTACK_BUNDLE, { sha256: config.HELK_ATTACK_SHA256 }));
    log.info({ bundle: config.HELK_ATTACK_BUNDLE }, "ATT&CK lookup loaded");
  } else log.warn("HELK_ATTACK_BUNDLE not set: technique context will be status \"unknown\"");

  const geoDatabases = geoipEnv.fromEnv(process.env);
  const geo = await openGeoIp(geoDatabases);
  if (geo !== undefined) log.info(geoDatabases, "GeoIP databases opened");

  const enricher = new Enricher<MessageRef>({
    attack,
    knownChannels: config.HELK_KNOWN_CHANNELS,
    maxEventBytes: config.HELK_MAX_EVENT_BYTES,
    join: {
      maxEntries: config.HELK_JOIN_CACHE_ENTRIES,
      maxBytes: config.HELK_JOIN_CACHE_BYTES,
      maxAgeMs: config.HELK_JOIN_MAX_AGE_MS,
      waitMs: config.HELK_JOIN_WAIT_MS,
      maxWaiting: config.HELK_JOIN_MAX_WAITING,
      maxWaitingBytes: config.HELK_JOIN_WAITING_BYTES,
    },
    clockSkewThresholdSeconds: config.HELK_CLOCK_SKEW_THRESHOLD_SECONDS,
    geo,
  });
  if (exiting) return;
  engine = createEngine(engineEnv.toOptions(config));
  service = new EnrichmentService(config, engine, enricher, metrics, log);
  http = await startHttp(config.HELK_HTTP_HOST, config.HELK_HTTP_PORT, service, metrics.registry, log);

  // A SIGTERM while still waiting for Kafka or the engine ends start-up (GaveUp, or a client closed under it):
  // the shutdown handles the exit.
  await service.start().catch((err: unknown) => {
    if (!exiting) throw err;
    log.info({ err: (err as Error).message }, "start-up ended by the shutdown");
  });
}

await main().catch((err: unknown) => {
  console.error(`enrichment service failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
