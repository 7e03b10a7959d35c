import { posix } from "node:path";
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
  /** `helk:detections`: the detection rules job runs when enabled. */
  detections: HelkConfig["detections"];
}

/** Job names other components wait for. */
export const SETUP_JOBS = {
  kafkaTopics: "setup-kafka-topics",
  engineSecurity: "setup-engine-security",
  indexTemplates: "setup-index-templates",
  attackLoad: "setup-attack-load",
  dashboardsImport: "setup-dashboards-import",
  detectionRules: "setup-detection-rules",
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
 *   superuser as HELK_DASHBOARDS_USERNAME/PASSWORD when security is on; waits up to 10 minutes for the UI);
 * - detection rules (`helk:detections.enabled`): `helk detections convert --install` converts the configured Sigma
 *   rules with the image's pySigma environment and deploys the runnable ones to helk-detection-rules, with their
 *   ATT&CK context from the same bundle as the ATT&CK load job ({@link detectionRulesCommand}).
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
  if (args.detections.enabled) {
    const rules = detectionRuleSources(args.detections);
    jobs.push(
      job(
        SETUP_JOBS.detectionRules,
        "DetectionRulesJob",
        detectionRulesCommand(args.detections, rules.paths),
        { ...engineClient, ...attack.env },
        ["engine"],
        settings.indexTemplates ? [SETUP_JOBS.indexTemplates] : [],
        [...attack.hostFiles, ...rules.hostFiles],
      ),
    );
  }
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

/** Where `helk:detections.ruleFiles` appear inside the rules job (each under its own name). */
export const SIGMA_MOUNT_DIR = "/mnt/helk/sigma";

/** Where the rules job writes its per-rule conversion report (its log carries the counts). */
export const DETECTION_REPORT_PATH = "/tmp/detections-report.jsonl";

/** The rule sources as the job sees them: in-image paths as given, host files at their read-only mounts. */
export function detectionRuleSources(settings: HelkConfig["detections"]): { paths: string[]; hostFiles: HostFileMount[] } {
  const hostFiles = settings.ruleFiles.map((hostPath) => ({ hostPath, mountPath: `${SIGMA_MOUNT_DIR}/${posix.basename(hostPath)}` }));
  return { paths: [...settings.rules, ...hostFiles.map((file) => file.mountPath)], hostFiles };
}

/**
 * `helk detections convert` over exactly the configured sources (`--no-shared`: the image has no shared data) and
 * selection, deploying the runnable rules (`--install`).
 */
export function detectionRulesCommand(settings: HelkConfig["detections"], sources: string[]): string[] {
  return helkCommand(
    "detections",
    "convert",
    "--no-shared",
    "--rules",
    ...sources,
    "--level",
    ...settings.levels,
    ...(settings.statuses ? ["--status", ...settings.statuses] : []),
    ...(settings.tags ? ["--tag", ...settings.tags] : []),
    "--install",
    "--report",
    DETECTION_REPORT_PATH,
  );
}
