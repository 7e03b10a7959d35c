import type { HelkConfig } from "./config.ts";
import type { DashboardsEndpoint } from "./dashboards.ts";
import * as engineEnv from "../lib/contract/engine-env.ts";
import type { EngineEndpoint } from "../lib/contract/engine-env.ts";
import * as kafkaEnv from "../lib/contract/kafka-env.ts";
import type { KafkaEndpoint } from "../lib/contract/kafka-env.ts";
import { toDashboardsImportEnv, toEngineSecurityEnv } from "../lib/contract/setup-env.ts";
import { attackSource, enrichmentImage } from "./enrichment.ts";
import type { EnvValue, HostFileMount, JobSpec } from "./model.ts";

/** Arguments of the setup jobs component. */
export interface SetupArgs {
  /** Which jobs run (`helk:setup`; default: all that apply). */
  settings: HelkConfig["setup"];
  /** The jobs run `helk` from the enrichment image (it holds the CLI). */
  enrichment: HelkConfig["enrichment"];
  kafka: KafkaEndpoint;
  engine: EngineEndpoint;
  /** The dashboards UI, or null when disabled (no engine-security or import job then). */
  dashboards: DashboardsEndpoint | null;
}

/** Job names other components wait for. */
export const SETUP_JOBS = {
  kafkaTopics: "setup-kafka-topics",
  engineSecurity: "setup-engine-security",
  indexTemplates: "setup-index-templates",
  attackLoad: "setup-attack-load",
  dashboardsImport: "setup-dashboards-import",
} as const;

/** argv that runs the `helk` CLI inside the project image (its WORKDIR is the project root). */
export function helkCommand(...args: string[]): string[] {
  return ["node", "--import", "tsx", "cli/helk.ts", ...args];
}

/**
 * One-shot jobs after the services are healthy. Each runs a `helk` subcommand configured by env:
 * - kafka topics: `helk setup kafka-topics` (HELK_KAFKA_BROKERS, HELK_KAFKA_TOPICS as JSON);
 * - engine security: `helk setup engine-security` sets the `kibana_system` password (HELK_KIBANA_SYSTEM_PASSWORD)
 *   with the superuser, Elasticsearch with security and Kibana only;
 * - index templates: `helk setup index-templates` (the enrichment's templates, before anything writes);
 * - ATT&CK load: `helk attack load` (HELK_ATTACK_BUNDLE, HELK_ATTACK_SHA256 and the bundle file mount as the
 *   enrichment service gets them, {@link attackSource});
 * - dashboards import: `helk dashboards import` (HELK_DASHBOARDS_KIND, HELK_DASHBOARDS_URL, and the engine
 *   superuser as HELK_DASHBOARDS_USERNAME/PASSWORD when security is on; waits up to 10 minutes for the UI).
 * Every job also gets the engine client env (HELK_ENGINE_KIND/URL/USERNAME/PASSWORD).
 */
export function setupJobs(args: SetupArgs): JobSpec[] {
  const { settings, kafka, engine, dashboards } = args;
  const image = enrichmentImage(args.enrichment);
  const engineClient = engineEnv.toEnv(engine);
  const attack = attackSource(args.enrichment);
  const job = (
    name: string,
    title: string,
    command: string[],
    env: Record<string, EnvValue>,
    uses: string[],
    after: string[] = [],
    hostFiles: HostFileMount[] = [],
  ): JobSpec => ({
    kind: "job",
    name,
    title,
    image,
    command,
    env,
    resources: { cpu: 0.5, memory: "512Mi" },
    uses,
    after,
    runAsUser: 1000,
    hostFiles,
  });
  const jobs: JobSpec[] = [];
  if (settings.kafkaTopics)
    jobs.push(
      job(
        SETUP_JOBS.kafkaTopics,
        "KafkaTopicsJob",
        helkCommand("setup", "kafka-topics"),
        kafkaEnv.toTopicsJobEnv(kafka),
        ["kafka"],
      ),
    );
  if (settings.engineSecurity && engine.kind === "elasticsearch" && engine.secured && dashboards?.kind === "kibana")
    jobs.push(
      job(
        SETUP_JOBS.engineSecurity,
        "EngineSecurityJob",
        helkCommand("setup", "engine-security"),
        { ...engineClient, ...toEngineSecurityEnv() },
        ["engine"],
      ),
    );
  if (settings.indexTemplates)
    jobs.push(
      job(
        SETUP_JOBS.indexTemplates,
        "IndexTemplatesJob",
        helkCommand("setup", "index-templates"),
        engineClient,
        ["engine"],
      ),
    );
  if (settings.attackLoad)
    jobs.push(
      job(
        SETUP_JOBS.attackLoad,
        "AttackLoadJob",
        helkCommand("attack", "load"),
        { ...engineClient, ...attack.env },
        ["engine"],
        settings.indexTemplates ? [SETUP_JOBS.indexTemplates] : [],
        attack.hostFiles,
      ),
    );
  if (settings.dashboardsImport && dashboards)
    jobs.push(
      job(
        SETUP_JOBS.dashboardsImport,
        "DashboardsImportJob",
        helkCommand("dashboards", "import"),
        { ...engineClient, ...toDashboardsImportEnv(dashboards, engine) },
        ["engine", "dashboards"],
      ),
    );
  return jobs;
}
