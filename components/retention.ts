import type { HelkConfig } from "./config.ts";
import type { EngineEndpoint } from "../lib/contract/engine-env.ts";
import * as retentionEnv from "../lib/contract/retention-env.ts";
import type { RetentionPolicy } from "../lib/contract/retention-env.ts";
import { enrichmentImage } from "./enrichment.ts";
import { quantityToBytes, type ScheduledJobSpec } from "./model.ts";
import { helkCommand } from "./setup.ts";

/** Arguments of the retention component. */
export interface RetentionArgs {
  /** Validated `helk:retention` settings (defaults: events and process-network 30 days, alerts 365, every 6 hours). */
  settings: HelkConfig["retention"];
  /** The job runs `helk` from the enrichment image (it holds the CLI). */
  enrichment: HelkConfig["enrichment"];
  /** The engine component's endpoint: the indices it keeps or deletes are there. */
  engine: EngineEndpoint;
}

/**
 * The retention job (`helk retention run`, setup/retention.ts), every `helk:retention.everyHours`: it deletes the
 * daily indices past their class's days or beyond its size; on Elasticsearch it hands the days to an ILM policy, on
 * an OpenSearch with the ISM plugin to an ISM policy. Dead letters are not its business: the dead-letter topic's
 * retention is set by the kafka-topics job.
 */
export function retentionComponent(args: RetentionArgs): { spec: ScheduledJobSpec } {
  const { settings } = args;
  return {
    spec: {
      kind: "scheduled-job",
      name: "retention",
      title: "RetentionJob",
      image: enrichmentImage(args.enrichment),
      command: helkCommand("retention", "run"),
      env: retentionEnv.toEnv(args.engine, retentionPolicy(settings)),
      resources: settings.resources,
      uses: ["engine"],
      after: [],
      everyHours: settings.everyHours,
      runAsUser: 1000, // user `node` of the node base images
    },
  };
}

/** `helk:retention` as the job reads it: days, and sizes in bytes. */
export function retentionPolicy(settings: HelkConfig["retention"]): RetentionPolicy {
  const of = ({ days, size }: { days: number; size?: string | undefined }) => ({
    days,
    ...(size === undefined ? {} : { maxBytes: quantityToBytes(size) }),
  });
  return { events: of(settings.events), processNetwork: of(settings.processNetwork), alerts: of(settings.alerts) };
}
