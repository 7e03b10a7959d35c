import { publishedHost, type HelkConfig } from "./config.ts";
import { dashboardsComponent, type DashboardsEndpoint } from "./dashboards.ts";
import { detectionsComponent } from "./detections.ts";
import type { EngineEndpoint } from "../lib/contract/engine-env.ts";
import type { KafkaEndpoint } from "../lib/contract/kafka-env.ts";
import { engineComponent } from "./engine.ts";
import { enrichmentComponent, type EnrichmentEndpoint } from "./enrichment.ts";
import { jupyterComponent, type JupyterEndpoint } from "./jupyter.ts";
import { kafkaComponent } from "./kafka.ts";
import type { JobSpec, ScheduledJobSpec, ServiceSpec, Topology, Workload } from "./model.ts";
import { transportTlsSecretName } from "./names.ts";
import { retentionComponent } from "./retention.ts";
import { SETUP_JOBS, setupJobs } from "./setup.ts";

/** The whole deployment, platform-neutral: what the renderers turn into Docker or Kubernetes resources. */
export interface DeploymentModel {
  services: ServiceSpec[];
  /** One-shot setup jobs. */
  jobs: JobSpec[];
  /** Upkeep run on a schedule (the retention job). */
  scheduledJobs: ScheduledJobSpec[];
  /** Endpoints inside the stack (host names of the target's topology). */
  endpoints: {
    kafka: KafkaEndpoint;
    engine: EngineEndpoint;
    dashboards: DashboardsEndpoint | null;
    enrichment: EnrichmentEndpoint | null;
    jupyter: JupyterEndpoint | null;
  };
}

/**
 * Describes every enabled component once. Wiring is derived: Kafka's bootstrap and the engine URL handed to
 * enrichment, Jupyter, dashboards and the setup jobs are the ones those components expose.
 */
export function describeDeployment(config: HelkConfig, topology: Topology): DeploymentModel {
  const kafka = kafkaComponent({
    settings: config.kafka,
    deploymentName: config.name,
    advertisedHost: publishedHost(config),
    publish: config.target === "docker",
    topology,
  });
  const engine = engineComponent({
    settings: config.engine,
    clusterName: config.name,
    transportTlsSecret: transportTlsSecretName(config.name),
    topology,
  });
  // The jobs need the UI's URL and the UI waits for one job: describe the UI first, then its job order.
  const dashboards = config.dashboards.enabled
    ? dashboardsComponent({ settings: config.dashboards, engine: engine.endpoint, after: [], topology })
    : null;
  const jobs = setupJobs({
    settings: config.setup,
    enrichment: config.enrichment,
    kafka: kafka.endpoint,
    engine: engine.endpoint,
    dashboards: dashboards?.endpoint ?? null,
    detections: config.detections,
  });
  const jobNames = new Set(jobs.map((job) => job.name));
  const present = (...names: string[]) => names.filter((name) => jobNames.has(name));
  if (dashboards) dashboards.spec.after = present(SETUP_JOBS.engineSecurity);
  const enrichment = config.enrichment.enabled
    ? enrichmentComponent({
        settings: config.enrichment,
        kafka: kafka.endpoint,
        engine: engine.endpoint,
        after: present(SETUP_JOBS.kafkaTopics, SETUP_JOBS.indexTemplates),
        topology,
      })
    : null;
  const jupyter = config.jupyter.enabled
    ? jupyterComponent({ settings: config.jupyter, kafka: kafka.endpoint, engine: engine.endpoint, topology })
    : null;

  const detections = config.detections.enabled
    ? detectionsComponent({
        settings: config.detections,
        enrichment: config.enrichment,
        engine: engine.endpoint,
        after: present(SETUP_JOBS.detectionRules),
      })
    : null;

  const retention = config.retention.enabled
    ? retentionComponent({ settings: config.retention, enrichment: config.enrichment, engine: engine.endpoint })
    : null;

  const services = [kafka, engine, dashboards, enrichment, jupyter, detections].flatMap((c) => (c ? [c.spec] : []));
  return {
    services,
    jobs,
    scheduledJobs: retention ? [retention.spec] : [],
    endpoints: {
      kafka: kafka.endpoint,
      engine: engine.endpoint,
      dashboards: dashboards?.endpoint ?? null,
      enrichment: enrichment?.endpoint ?? null,
      jupyter: jupyter?.endpoint ?? null,
    },
  };
}

/** Every workload of the deployment: services, setup jobs, scheduled jobs. */
export function allWorkloads(model: DeploymentModel): Workload[] {
  return [...model.services, ...model.jobs, ...model.scheduledJobs];
}

/** Workloads in an order where everything a workload uses or waits for comes before it. */
export function startOrder(model: DeploymentModel): Workload[] {
  const all = allWorkloads(model);
  const byName = new Map(all.map((w) => [w.name, w]));
  const ordered: Workload[] = [];
  const visiting = new Set<string>();
  const visit = (workload: Workload) => {
    if (ordered.includes(workload)) return;
    if (visiting.has(workload.name)) throw new Error(`start order has a cycle through ${workload.name}`);
    visiting.add(workload.name);
    for (const dep of [...workload.uses, ...workload.after]) {
      const target = byName.get(dep);
      if (!target) throw new Error(`${workload.name} depends on ${dep}, which is not part of the deployment`);
      visit(target);
    }
    visiting.delete(workload.name);
    ordered.push(workload);
  };
  all.forEach(visit);
  return ordered;
}
