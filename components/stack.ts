import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { verifiedPinnedBundle } from "../attack/pin.ts";
import { credentialProblems, HelkConfigError, helkSettings, missingAttackSource, parseHelkConfig, publishedHost, type HelkConfig } from "./config.ts";
import { Credentials } from "./credentials.ts";
import { allWorkloads, describeDeployment, type DeploymentModel } from "./deployment.ts";
import { DockerDeployment, dockerTopology } from "./docker.ts";
import { describeKubernetesDeployment, synthesizeManifests } from "./kubernetes.ts";
import { neededCredentials, type CredentialKey } from "./model.ts";

/** The `endpoints` stack output (shape shared with `helk smoke --endpoints`). */
export interface StackEndpoints {
  kafka: {
    bootstrap: string;
    eventTopics: string[];
    deadLetterTopic: string;
    topics: { name: string; partitions: number; replicationFactor: number }[];
  };
  engine: { kind: "elasticsearch" | "opensearch"; url: string; username?: string; password?: string };
  dashboards: { kind: "kibana" | "opensearch-dashboards"; url: string } | null;
  enrichment: { url: string } | null;
  jupyter: { url: string; token: string } | null;
}

/**
 * Reads every `helk:` key of the running stack's config and validates it (before any resource exists), including
 * that a deployment that loads ATT&CK names a bundle. An invalid config ends the run with its message alone
 * (RunError: no stack trace, the message says it all).
 */
export function readStackConfig(): HelkConfig {
  try {
    const config = withFetchedAttackBundle(parseHelkConfig(helkSettings(pulumi.runtime.allConfig())));
    const missing = missingAttackSource(config);
    if (missing) throw new HelkConfigError([missing]);
    return config;
  } catch (error) {
    if (error instanceof HelkConfigError) throw new pulumi.RunError(error.message);
    throw error;
  }
}

/**
 * On Docker, a config that names no ATT&CK bundle gets the pinned one `helk attack fetch` verified into the cache
 * of the user running Pulumi (the Docker host of a local lab), bind-mounted like `attackBundleFile`.
 */
export function withFetchedAttackBundle(config: HelkConfig, fetched = verifiedPinnedBundle()): HelkConfig {
  const { attackBundleFile, attackBundle } = config.enrichment;
  if (config.target !== "docker" || attackBundleFile !== undefined || attackBundle !== undefined || fetched === undefined) return config;
  return { ...config, enrichment: { ...config.enrichment, attackBundleFile: fetched } };
}

/** Arguments of the whole HELK stack. */
export interface HelkStackArgs {
  /** The validated deployment (see components/config.ts for every key and default). */
  config: HelkConfig;
}

/**
 * A HELK deployment: credentials, then the Docker rendering (target docker) or the synthesized Kubernetes
 * manifests applied through @pulumi/kubernetes (target kubernetes).
 */
export class HelkStack extends pulumi.ComponentResource {
  readonly endpoints: pulumi.Output<StackEndpoints>;
  readonly model: DeploymentModel;

  constructor(name: string, args: HelkStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("helk:index:Stack", name, {}, opts);
    const { config } = args;
    this.model =
      config.target === "docker" ? describeDeployment(config, dockerTopology(config.name)) : describeKubernetesDeployment(config);
    const needed = neededCredentials(allWorkloads(this.model));
    const problems = credentialProblems(config, needed);
    if (problems.length > 0) throw new pulumi.RunError(new HelkConfigError(problems).message);
    const credentials = new Credentials(`${config.name}-credentials`, { settings: config.credentials, needed }, { parent: this });
    if (config.target === "docker") {
      new DockerDeployment(config.name, { config, model: this.model, credentials: credentials.values }, { parent: this });
      this.endpoints = stackEndpoints(publishedEndpoints(config, this.model), credentials.values);
    } else {
      new KubernetesDeployment(config.name, { config, credentials: credentials.values }, { parent: this });
      this.endpoints = stackEndpoints(this.model.endpoints, credentials.values);
    }
    this.registerOutputs({ endpoints: this.endpoints });
  }
}

type InternalEndpoints = DeploymentModel["endpoints"];

/** The stack's endpoints as seen from the Docker host: published ports on the bind address where published. */
function publishedEndpoints(config: HelkConfig, model: DeploymentModel): InternalEndpoints {
  const host = publishedHost(config);
  const published = (internal: string, port: number | null) => (port === null ? internal : internal.replace(/\/\/[^/]+/, `//${host}:${port}`));
  const e = model.endpoints;
  const kafkaPort = config.kafka.port;
  return {
    kafka: {
      ...e.kafka,
      bootstrap:
        kafkaPort === null
          ? e.kafka.bootstrap
          : Array.from({ length: config.kafka.brokers }, (_, i) => `${host}:${kafkaPort + i}`).join(","),
    },
    engine: { ...e.engine, url: published(e.engine.url, config.engine.port) },
    dashboards: e.dashboards && { ...e.dashboards, url: published(e.dashboards.url, config.dashboards.port) },
    enrichment: e.enrichment && { url: published(e.enrichment.url, config.enrichment.port) },
    jupyter: e.jupyter && { url: published(e.jupyter.url, config.jupyter.port) },
  };
}

function stackEndpoints(
  e: InternalEndpoints,
  credentials: Partial<Record<CredentialKey, pulumi.Output<string>>>,
): pulumi.Output<StackEndpoints> {
  return pulumi
    .all([credentials["engine-password"] ?? pulumi.output(undefined), credentials["jupyter-token"] ?? pulumi.output(undefined)])
    .apply(([password, token]) => ({
      kafka: {
        bootstrap: e.kafka.bootstrap,
        eventTopics: e.kafka.eventTopics,
        deadLetterTopic: e.kafka.deadLetterTopic,
        topics: e.kafka.topics.map((t) => ({ name: t.name, partitions: t.partitions, replicationFactor: t.replicationFactor })),
      },
      engine: {
        kind: e.engine.kind,
        url: e.engine.url,
        ...(e.engine.username ? { username: e.engine.username } : {}),
        ...(e.engine.secured && password ? { password } : {}),
      },
      dashboards: e.dashboards,
      enrichment: e.enrichment,
      jupyter: e.jupyter && token ? { url: e.jupyter.url, token } : null,
    }));
}

/** Arguments of the Kubernetes rendering. */
export interface KubernetesDeploymentArgs {
  /** The validated config (namespace, credentials Secret name, ...). */
  config: HelkConfig;
  /** Values of the credentials Secret the manifests reference by name. */
  credentials: Partial<Record<CredentialKey, pulumi.Output<string>>>;
}

/**
 * Applies the same manifests `npm run synth` writes: the namespace, then the credentials Secret (from Pulumi
 * secrets, the only place their values go), then every other object through a ConfigGroup.
 */
export class KubernetesDeployment extends pulumi.ComponentResource {
  readonly manifests: Record<string, unknown>[];

  constructor(name: string, args: KubernetesDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("helk:kubernetes:Deployment", name, {}, opts);
    const { config } = args;
    this.manifests = synthesizeManifests(config);
    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: config.kubernetes.namespace, labels: { "app.kubernetes.io/part-of": "helk" } } },
      { parent: this },
    );
    const secret = new k8s.core.v1.Secret(
      `${name}-credentials`,
      {
        metadata: { name: config.kubernetes.credentialsSecret, namespace: namespace.metadata.name },
        stringData: args.credentials as Record<string, pulumi.Output<string>>,
      },
      { parent: this },
    );
    new k8s.yaml.v2.ConfigGroup(
      `${name}-manifests`,
      { objs: this.manifests.filter((o) => o.kind !== "Namespace") },
      { parent: this, dependsOn: [namespace, secret] },
    );
    this.registerOutputs({ namespace: namespace.metadata.name });
  }
}
