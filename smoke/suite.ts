import { createEngine } from "../lib/engine.ts";
import { dashboardsChecks } from "./checks/dashboards.ts";
import { engineChecks } from "./checks/engine.ts";
import { enrichmentChecks } from "./checks/enrichment.ts";
import { jupyterChecks } from "./checks/jupyter.ts";
import { KafkaSession, kafkaChecks } from "./checks/kafka.ts";
import { secretsOf, type StackEndpoints } from "../lib/contract/endpoints.ts";
import { runChecks, type ProgressListener, type SmokeReport } from "./runner.ts";

export interface SmokeOptions {
  /** Overall time budget in seconds, including the enrichment probe's wait. */
  timeoutSeconds: number;
  listener?: ProgressListener;
}

/** Runs every smoke check against `endpoints` and closes every connection it opened. */
export async function runSmoke(endpoints: StackEndpoints, options: SmokeOptions): Promise<SmokeReport> {
  const kafka = new KafkaSession(endpoints.kafka.bootstrap);
  const engine = createEngine({ ...endpoints.engine, requestTimeoutMs: 10_000 });
  try {
    const groups = [
      kafkaChecks(endpoints, kafka),
      engineChecks(engine, endpoints),
      dashboardsChecks(endpoints),
      enrichmentChecks(endpoints, kafka, engine),
      jupyterChecks(endpoints),
    ];
    return await runChecks(groups, { ...options, secrets: secretsOf(endpoints) });
  } finally {
    await Promise.all([kafka.close(), engine.close().catch(() => undefined)]);
  }
}
